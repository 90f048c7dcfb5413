/** The terminal a command talks to; tests pass their own. */
export interface CliIo {
  /** Writes to standard output as is (add the newline yourself). */
  out(text: string): void;
  /** Writes to standard error as is. */
  err(text: string): void;
  /** Whether standard output is a terminal: spinners and colour only then. */
  readonly stdoutIsTTY: boolean;
  readonly stdin: NodeJS.ReadableStream;
  /** Whether a person can answer a question on standard input. */
  readonly stdinIsTTY: boolean;
  /** The variables the CLI itself reads (ONEIO_CLIENT_ID, …); AWS clients read process.env as always. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * A terminal that keeps what a command prints, for a caller that shows it elsewhere (the inspector's outbox
 * buttons) or checks it (tests). Not a terminal: no spinners, no colour, no questions.
 */
export function capturingIo(
  stdin: NodeJS.ReadableStream,
  options: { readonly stdinIsTTY?: boolean; readonly env?: Readonly<Record<string, string>> } = {},
): { readonly io: CliIo; readonly printed: () => { out: string; err: string } } {
  let out = '';
  let err = '';
  return {
    io: {
      out: (text) => {
        out += text;
      },
      err: (text) => {
        err += text;
      },
      stdoutIsTTY: false,
      stdin,
      stdinIsTTY: options.stdinIsTTY ?? false,
      env: options.env ?? {},
    },
    printed: () => ({ out, err }),
  };
}

export function processIo(): CliIo {
  return {
    out: (text) => process.stdout.write(text),
    err: (text) => process.stderr.write(text),
    stdoutIsTTY: process.stdout.isTTY === true,
    stdin: process.stdin,
    stdinIsTTY: process.stdin.isTTY === true,
    env: process.env,
  };
}
