import { parseArgs } from 'node:util';
import { DESTINATION_KEY } from '../../functions/relay/contract';
import { DynamoDbDestinationStore } from '../../functions/relay/io/dynamodb/destination-store';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { Pause } from '../../functions/relay/ports/destination-store';
import { explainAwsError } from './aws-errors';
import { AWS_FLAGS } from './aws-options';
import { callerIdentity } from './caller-identity';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import { timestamp } from './outbox-format';
import { withSpinner } from './spinner';
import { relativeTime } from './status-report';
import { openTableTarget, type TableTarget } from './table-target';

const MAX_PAUSE_MS = 7 * 24 * 3_600_000;
const MAX_REASON_CHARS = 200;
const UNIT_MS: Readonly<Record<string, number>> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Counting the queue for the message stops here; the exact number beyond it does not change what to do. */
const COUNT_UP_TO = 10_000;

const TARGET_HELP = `Which relay:
  --env <qa|prod>      the table of stack OneioRelay-<env> (its TableName output), with your AWS credentials
  --sandbox            the running sandbox's DynamoDB Local (\`npm start\`)
  --table <name>       this table, through the SDK's default chain
  --profile <name>     AWS profile
  --region <region>    AWS region
  -h, --help           show this help
`;

export const PAUSE_HELP = `Usage: oneio-relay pause (--env <qa|prod> | --sandbox | --table <name>) [--until <when>] [--reason <text>]

Holds every delivery to ONEiO (for ONEiO maintenance, or while a mapping is being fixed): webhooks and events are
still accepted and queued in the outbox (202), nothing is sent to ONEiO, and the outbox sweep holds. Running
instances see the pause within 5 seconds. It ends at --until, or with \`oneio-relay resume\`; the sweep then sends
the queue oldest first at the drain rate. Who paused (your AWS identity, or your OS user for the sandbox) and why
is recorded and shown by \`oneio-relay status\`. Pausing again replaces the pause.

Options:
  --until <when>       a duration from now (90s, 30m, 2h, 1d; at most 7d) or a time (2025-05-02T18:00:00Z);
                       without it the pause lasts until resumed
  --reason <text>      why, for the status screen and the log (up to ${MAX_REASON_CHARS} characters)
${TARGET_HELP}`;

export const RESUME_HELP = `Usage: oneio-relay resume (--env <qa|prod> | --sandbox | --table <name>)

Ends a pause: deliveries resume within 5 seconds, and the next sweep (within a minute) sends what was queued,
oldest first at the drain rate. Resuming when nothing is paused changes nothing.

${TARGET_HELP}`;

const OPTIONS = {
  ...AWS_FLAGS,
  env: { type: 'string' },
  sandbox: { type: 'boolean' },
  table: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `oneio-relay pause`: hold every delivery to ONEiO until a time, or until resumed. */
export async function pause(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...OPTIONS, until: { type: 'string' }, reason: { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(PAUSE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`Unexpected arguments: ${positionals.join(' ')}`, 'pause');
  // Checked before anything is read or written: bad input changes nothing.
  const now = Date.now();
  const until = values.until === undefined ? undefined : parseUntil(values.until, now);
  const reason = values.reason === undefined ? undefined : parseReason(values.reason);

  return withTarget(values, io, 'pause', async (target) => {
    const store = new DynamoDbDestinationStore(target.documents, target.tableName);
    const by = await withSpinner(io, 'Finding out who you are…', () => callerIdentity(target.aws));
    const record: Pause = {
      at: now,
      by,
      ...(until !== undefined && { until }),
      ...(reason !== undefined && { reason }),
    };
    const before = (await store.read(DESTINATION_KEY)).pause;
    await withSpinner(io, 'Pausing…', () => store.pause(DESTINATION_KEY, record));
    const replaced =
      before !== undefined && (before.until === undefined || before.until > now)
        ? `It replaces the pause by ${before.by} since ${timestamp(before.at)}.\n`
        : '';
    io.out(
      `Paused deliveries to ONEiO for ${target.label} ${until === undefined ? 'until resumed' : `until ${timestamp(until)} (${relativeTime(until, now)})`}, by ${by}${reason === undefined ? '' : `: ${reason}`}.\n` +
        replaced +
        'Webhooks and events are still accepted and queued (202); nothing is sent to ONEiO and the sweep holds.\n' +
        'Running instances see it within 5 seconds; a delivery already under way finishes.\n' +
        `End it with \`npx oneio-relay resume ${target.flags}\`; \`npx oneio-relay status ${target.flags}\` shows it.\n`,
    );
    return 0;
  });
}

/** `oneio-relay resume`: end a pause. */
export async function resume(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  if (values.help) {
    io.out(RESUME_HELP);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`Unexpected arguments: ${positionals.join(' ')}`, 'resume');
  return withTarget(values, io, 'resume', async (target) => {
    const store = new DynamoDbDestinationStore(target.documents, target.tableName);
    const ended = await withSpinner(io, 'Resuming…', () => store.resume(DESTINATION_KEY));
    const now = Date.now();
    if (ended === undefined || (ended.until !== undefined && ended.until <= now)) {
      io.out(`Nothing to resume: deliveries to ONEiO for ${target.label} are not paused.\n`);
      return 0;
    }
    const due = await new DynamoDbOutbox(target.documents, target.tableName).count('due', COUNT_UP_TO);
    io.out(
      `Resumed deliveries to ONEiO for ${target.label} (paused by ${ended.by} since ${timestamp(ended.at)}${ended.reason === undefined ? '' : `: ${ended.reason}`}).\n` +
        'Running instances deliver again within 5 seconds; ' +
        (due === 0
          ? 'nothing is queued.\n'
          : `the next sweep (within a minute) sends the ${due === COUNT_UP_TO ? `${due}+` : due} queued message${due === 1 ? '' : 's'}, oldest first at the drain rate.\n`),
    );
    return 0;
  });
}

async function withTarget(
  values: Parameters<typeof openTableTarget>[0],
  io: CliIo,
  command: string,
  work: (target: TableTarget) => Promise<number>,
): Promise<number> {
  const target = await openTableTarget(values, io, command);
  try {
    return await work(target);
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (error instanceof Error && error.name === 'ResourceNotFoundException') {
      throw new CliError(`Table ${target.tableName} does not exist for these credentials and region.`, 1, {
        cause: error,
      });
    }
    throw explainAwsError(error, 'DynamoDB', `writing to ${target.where}`) ?? error;
  } finally {
    target.close();
  }
}

/** `90s`, `30m`, `2h`, `1d` from now, or an ISO time; in the future and at most 7 days ahead. */
export function parseUntil(value: string, now: number): number {
  const relative = /^(\d+)([smhd])$/.exec(value.trim());
  const at = relative
    ? now + Number(relative[1]) * (UNIT_MS[relative[2] ?? 's'] ?? 1_000)
    : isoTime(value.trim());
  if (at === undefined) {
    throw usageError(
      `--until must be a duration like 90s, 30m, 2h or 1d, or a time like 2025-05-02T18:00:00Z (got "${value}")`,
      'pause',
    );
  }
  if (at <= now) throw usageError(`--until must be in the future (got "${value}")`, 'pause');
  if (at - now > MAX_PAUSE_MS) {
    throw usageError(
      `--until must be at most 7 days ahead (got "${value}"); leave it out to pause until resumed`,
      'pause',
    );
  }
  return at;
}

function isoTime(value: string): number | undefined {
  // A date and a time with a zone: a bare date or a local time would mean different things on different machines.
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : at;
}

function parseReason(value: string): string {
  const reason = value.trim();
  if (reason === '' || reason.length > MAX_REASON_CHARS || /\p{Cc}/u.test(reason)) {
    throw usageError(
      `--reason must be 1 to ${MAX_REASON_CHARS} characters of one line (got ${reason.length} characters)`,
      'pause',
    );
  }
  return reason;
}
