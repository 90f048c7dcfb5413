import { parseArgs } from 'node:util';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { explainAwsError } from './aws-errors';
import { AWS_FLAGS } from './aws-options';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import { confirm } from './confirm';
import { itemDetails, itemTable } from './outbox-format';
import { withSpinner } from './spinner';
import { openTableTarget, type TableTargetFlags } from './table-target';

export const OUTBOX_HELP = `Usage: oneio-relay outbox <action> (--env <qa|prod> | --sandbox | --table <name>) [options]

Messages the relay accepted but could not deliver yet wait in the outbox ("due") and are retried by the sweep
every minute; after the maximum age, or when ONEiO refuses them, they are parked for an operator.

Actions:
  list [--parked] [--limit <n>] [--json]   due items (or parked ones), oldest first
  show <relay-id> [--json]                 one item with its body
  redrive <relay-id> | --all               parked item(s) back to due; the next sweep delivers them
  purge <relay-id> [--yes]                 delete an item for good (asks first unless --yes)
Every action can be repeated safely: redriving an item that is not parked, or purging one that is gone, changes
nothing.

Which outbox:
  --env <qa|prod>      the table of stack OneioRelay-<env> (its TableName output), with your AWS credentials
  --sandbox            the running sandbox's DynamoDB Local (\`npm start\`)
  --table <name>       this table, through the SDK's default chain (e.g. AWS_ENDPOINT_URL_DYNAMODB for a local one)
  --profile <name>     AWS profile
  --region <region>    AWS region
  -h, --help           show this help
`;

const DEFAULT_LIMIT = 50;
const COUNT_UP_TO = 10_000;
const REDRIVE_BATCH = 100;

/** `oneio-relay outbox …`: inspect and repair the outbox, through the relay's own DynamoDbOutbox. */
export async function outbox(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...AWS_FLAGS,
      env: { type: 'string' },
      sandbox: { type: 'boolean' },
      table: { type: 'string' },
      parked: { type: 'boolean' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      all: { type: 'boolean' },
      yes: { type: 'boolean', short: 'y' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  const [action, id, ...extra] = positionals;
  if (values.help || action === undefined) {
    io.out(OUTBOX_HELP);
    return values.help ? 0 : 2;
  }
  if (extra.length > 0) throw usageError(`Unexpected arguments: ${extra.join(' ')}`, 'outbox');
  const store = await openOutbox(values, io);
  try {
    switch (action) {
      case 'list':
        return await list(store, io, {
          parked: values.parked === true,
          limit: limit(values.limit),
          json: values.json === true,
        });
      case 'show':
        return await show(store, io, requireId(id, 'show'), values.json === true);
      case 'redrive':
        if (values.all === true) {
          if (id !== undefined) throw usageError('Give a relay id or --all, not both', 'outbox');
          return await redriveAll(store, io);
        }
        return await redrive(store, io, requireId(id, 'redrive', ' (or --all)'));
      case 'purge':
        return await purge(store, io, requireId(id, 'purge'), values.yes === true);
      default:
        throw usageError(`Unknown outbox action "${action}": use list, show, redrive or purge`, 'outbox');
    }
  } catch (error) {
    throw explainStoreError(error, store) ?? error;
  } finally {
    store.close();
  }
}

interface OpenOutbox {
  readonly outbox: DynamoDbOutbox;
  readonly tableName: string;
  /** For messages: `table X of stack Y` or `the sandbox's table X`. */
  readonly where: string;
  close(): void;
}

async function openOutbox(values: TableTargetFlags, io: CliIo): Promise<OpenOutbox> {
  const target = await openTableTarget(values, io, 'outbox', 'outbox');
  return {
    outbox: new DynamoDbOutbox(target.documents, target.tableName),
    tableName: target.tableName,
    where: target.where,
    close: () => target.close(),
  };
}

async function list(
  store: OpenOutbox,
  io: CliIo,
  options: { parked: boolean; limit: number; json: boolean },
): Promise<number> {
  const state = options.parked ? 'parked' : 'due';
  const [items, total] = await withSpinner(io, `Reading ${state} items…`, () =>
    Promise.all([store.outbox.list(state, options.limit), store.outbox.count(state, COUNT_UP_TO)]),
  );
  if (options.json) {
    io.out(`${JSON.stringify(items, null, 2)}\n`);
    return 0;
  }
  if (items.length === 0) {
    io.out(`No ${state} items in ${store.where}.\n`);
    return 0;
  }
  const shown =
    total > items.length
      ? `${items.length} of ${total === COUNT_UP_TO ? `${total}+` : total}`
      : `${items.length}`;
  io.out(
    `${shown} ${state} item${total === 1 ? '' : 's'} in ${store.where}, oldest first:\n\n${itemTable(items, state)}\n`,
  );
  return 0;
}

async function show(store: OpenOutbox, io: CliIo, id: string, json: boolean): Promise<number> {
  const item = await store.outbox.get(id);
  if (item === undefined)
    throw new CliError(`No outbox item ${id} in ${store.where} (delivered, purged, or a typo?)`);
  io.out(json ? `${JSON.stringify(item, null, 2)}\n` : `${itemDetails(item)}\n`);
  return 0;
}

async function redrive(store: OpenOutbox, io: CliIo, id: string): Promise<number> {
  if (await store.outbox.redrive(id, Date.now())) {
    io.out(`Redriven: ${id} is due now; the sweep delivers it within a minute.\n`);
    return 0;
  }
  const item = await store.outbox.get(id);
  io.out(
    item === undefined
      ? `Nothing to redrive: no outbox item ${id} in ${store.where} (delivered or purged already?).\n`
      : `Nothing to redrive: ${id} is already due (next try at ${new Date(item.dueAt).toISOString()}).\n`,
  );
  return 0;
}

async function redriveAll(store: OpenOutbox, io: CliIo): Promise<number> {
  // The index is eventually consistent: an item just redriven may still be listed as parked, so each id is tried
  // once, and the loop ends when a batch brings nothing new.
  const seen = new Set<string>();
  let redriven = 0;
  await withSpinner(io, 'Redriving parked items…', async () => {
    for (;;) {
      const batch = (await store.outbox.list('parked', REDRIVE_BATCH)).filter(
        (item) => !seen.has(item.relayId),
      );
      if (batch.length === 0) return;
      for (const item of batch) {
        seen.add(item.relayId);
        if (await store.outbox.redrive(item.relayId, Date.now())) redriven += 1;
      }
    }
  });
  io.out(
    redriven === 0
      ? `Nothing to redrive: no parked items in ${store.where}.\n`
      : `Redriven: ${redriven} parked item${redriven === 1 ? ' is' : 's are'} due now; the sweep delivers them within a minute.\n`,
  );
  return 0;
}

async function purge(store: OpenOutbox, io: CliIo, id: string, yes: boolean): Promise<number> {
  const item = await store.outbox.get(id);
  if (item === undefined) {
    io.out(`Nothing to purge: no outbox item ${id} in ${store.where}.\n`);
    return 0;
  }
  if (!yes) {
    if (!io.stdinIsTTY) {
      throw usageError(
        'purge deletes the message for good: run it in a terminal to confirm, or pass --yes',
        'outbox',
      );
    }
    const ok = await confirm(
      io,
      `Purge ${describe(item)} from ${store.where}? The message is deleted for good.`,
    );
    if (!ok) {
      io.out('Not purged.\n');
      return 1;
    }
  }
  io.out(
    (await store.outbox.purge(id))
      ? `Purged ${id}.\n`
      : `Nothing to purge: ${id} was removed meanwhile (delivered by the sweep?).\n`,
  );
  return 0;
}

function describe(item: OutboxItem): string {
  return `${item.relayId} (${item.source}, ${item.state}, ${item.attempts} attempts, last error: ${item.lastError || '-'})`;
}

function requireId(id: string | undefined, action: string, alternative = ''): string {
  if (id === undefined || id.trim() === '')
    throw usageError(`outbox ${action} needs a relay id${alternative}`, 'outbox');
  return id.trim();
}

function limit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1000)
    throw usageError('--limit must be a whole number from 1 to 1000', 'outbox');
  return n;
}

function explainStoreError(error: unknown, store: OpenOutbox): CliError | undefined {
  if (error instanceof CliError) return undefined;
  if (error instanceof Error && error.name === 'ResourceNotFoundException') {
    return new CliError(
      `Table ${store.tableName} does not exist (ResourceNotFoundException) for these credentials and region.`,
      1,
      {
        cause: error,
      },
    );
  }
  return explainAwsError(error, 'DynamoDB', `reading ${store.where}`);
}
