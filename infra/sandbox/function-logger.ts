import { Logger, type LogItem } from '@aws-lambda-powertools/logger';

/** One line the function logged: the JSON text Lambda would store, and its fields. */
export type FunctionLogSink = (line: string, fields: Readonly<Record<string, unknown>>) => void;

/**
 * The function's own Powertools logger, formatting every line exactly as in Lambda, but handing it to the sandbox
 * instead of writing it to stdout: the sandbox prints it as is (`--json-logs`) or folds it into its one line per
 * request, and the inspector page reads its fields.
 */
export class SandboxLogger extends Logger {
  readonly #sink: FunctionLogSink;

  constructor(sink: FunctionLogSink) {
    super();
    this.#sink = sink;
  }

  protected override printLog(_logLevel: number, log: LogItem): void {
    log.prepareForPrint();
    const fields = log.getAttributes();
    this.#sink(JSON.stringify(fields, this.getJsonReplacer()), fields);
  }
}
