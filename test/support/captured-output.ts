export interface CapturedOutput {
  text(): string;
  restore(): void;
}

/**
 * Captures everything written to stdout and stderr (Powertools Logger and Metrics write there), so a test can assert
 * that no secret ever reached a log line. The output is swallowed unless `RELAY_TEST_LOGS=1`, to keep test reports
 * readable.
 */
export function captureOutput(): CapturedOutput {
  const chunks: string[] = [];
  const passThrough = process.env.RELAY_TEST_LOGS === '1';
  const originals = { out: process.stdout.write, err: process.stderr.write };
  const tap =
    (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    (chunk: unknown, ...rest: unknown[]): boolean => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
      if (!passThrough) return true;
      // The writer's own signature varies (encoding, callback); pass the arguments through untouched.
      return (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest);
    };
  process.stdout.write = tap(process.stdout, originals.out) as typeof process.stdout.write;
  process.stderr.write = tap(process.stderr, originals.err) as typeof process.stderr.write;
  return {
    text: () => chunks.join(''),
    restore() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}
