import { parseArgs } from 'node:util';
import { request } from 'undici';
import { errorCode } from '../../functions/relay/io/error-code';
import { readSandboxState, sandboxStatePath } from '../sandbox/sandbox-state';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';

export const SANDBOX_EVENT_HELP = `Usage: oneio-relay sandbox event --source <source> --detail-type <type> [--detail '<json>'] [--url <url>]

Sends an EventBridge event into the running sandbox, as an EventBridge rule would deliver it to the function
(id, time, account and region are filled in). ONEiO receives the whole event.

Options:
  --source <source>          e.g. my.app
  --detail-type <type>       e.g. 'Order Placed'
  --detail '<json>'          a JSON object (default {})
  --url <url>                the sandbox (default: the running one, else http://127.0.0.1:3000)
  -h, --help                 show this help
`;

/** `oneio-relay sandbox event`: POSTs to the sandbox's /events endpoint. */
export async function sandboxEvent(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      source: { type: 'string' },
      'detail-type': { type: 'string' },
      detail: { type: 'string', default: '{}' },
      url: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.out(SANDBOX_EVENT_HELP);
    return 0;
  }
  if (values.source === undefined) throw usageError('Missing --source', 'sandbox event');
  if (values['detail-type'] === undefined) throw usageError('Missing --detail-type', 'sandbox event');
  let detail: unknown;
  try {
    detail = JSON.parse(values.detail);
  } catch {
    throw usageError(`--detail must be JSON (got ${values.detail})`, 'sandbox event');
  }
  const base = values.url ?? readSandboxState(sandboxStatePath(io.env))?.url ?? 'http://127.0.0.1:3000';
  const url = `${base.replace(/\/+$/, '')}/events`;
  let status: number;
  let answer: Record<string, unknown>;
  try {
    const response = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ source: values.source, 'detail-type': values['detail-type'], detail }),
      signal: AbortSignal.timeout(30_000),
    });
    status = response.statusCode;
    answer = (await response.body.json()) as Record<string, unknown>;
  } catch (error) {
    throw new CliError(
      `No sandbox answers at ${base} (${errorCode(error)}): start one with \`npm start\``,
      1,
      {
        cause: error,
      },
    );
  }
  if (status === 200) {
    io.out(`Event ${String(answer.id)} handled by the relay (its outcome is in the sandbox's output).\n`);
    return 0;
  }
  throw new CliError(
    `The sandbox answered ${status}: ${String(answer.error ?? answer.message ?? JSON.stringify(answer))}`,
  );
}
