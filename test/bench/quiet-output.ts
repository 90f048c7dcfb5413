/**
 * While a benchmark runs, the relay's structured logs and EMF metrics (Powertools writes them to stdout) are
 * formatted as in Lambda but thrown away, so they cost what they cost there and the terminal shows only progress.
 */
export interface QuietOutput {
  /** Writes a progress line to the real stderr. */
  progress(line: string): void;
  /** Bytes the relay wrote while muted. */
  readonly mutedBytes: number;
  restore(): void;
}

export function quietOutput(): QuietOutput {
  const originals = { out: process.stdout.write, err: process.stderr.write };
  let mutedBytes = 0;
  const sink = (chunk: unknown, ...rest: unknown[]): boolean => {
    mutedBytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : (chunk as Uint8Array).length;
    const callback = rest.find((arg): arg is () => void => typeof arg === 'function');
    callback?.();
    return true;
  };
  process.stdout.write = sink as typeof process.stdout.write;
  process.stderr.write = sink as typeof process.stderr.write;
  return {
    progress(line) {
      originals.err.call(process.stderr, `${line}\n`);
    },
    get mutedBytes() {
      return mutedBytes;
    },
    restore() {
      process.stdout.write = originals.out;
      process.stderr.write = originals.err;
    },
  };
}
