/** A failure the CLI explains in one message, without a stack trace. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    /** 1: the action failed; 2: the command line was wrong. */
    readonly exitCode: 1 | 2 = 1,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** The command line was wrong: exit code 2 and a pointer to the help. */
export function usageError(message: string, command: string): CliError {
  return new CliError(`${message}\nRun \`oneio-relay ${command} --help\` for usage.`, 2);
}
