import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import {
  createClients,
  createRelayHandler,
  DYNAMODB_CLIENT_CONFIG,
  type RelayHandler,
} from '../../functions/relay/app';
import { readConfig } from '../../functions/relay/config';
import { ENV } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import {
  createLocalDynamoDbClient,
  createRelayTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';
import { githubWebhook } from '../support/webhook-event';

export const CLIENT_ID = 'bench-client';
export const CLIENT_SECRET = 'bench&secret=+ %é-7f3a';
export const SIGNING_SECRET = 'bench-signing-secret-9c1d';
export const CREDENTIALS_SECRET_ID = 'oneio-relay/bench/oneio';
const SIGNING_SECRET_ID = 'oneio-relay/bench/signing';

/** What a table item's key starts with tells which part of the relay made a DynamoDB call. */
export type CallKind = 'token' | 'dedup' | 'outbox' | 'destination' | 'other';

/** DynamoDB requests on the wire (every HTTP attempt, SDK retries included) and the time spent in SDK calls. */
export interface DynamoCalls {
  readonly count: Record<CallKind, number>;
  readonly ms: Record<CallKind, number>;
}

/** One execution environment: its own clients, token memory and keep-alive agent, as after a cold start. */
export interface Environment {
  readonly handle: RelayHandler;
  readonly dynamo: DynamoCalls;
  close(): Promise<void>;
}

export interface BenchFleet {
  readonly dynamodb: DynamoDbLocal;
  readonly oneio: OneioEmulator;
  readonly secrets: SecretsManagerEmulator;
  /** The function's environment variables for one table, as the stack sets them. */
  functionEnv(tableName: string, overrides?: { receiverUrl?: string }): Record<string, string>;
  /** Process-wide variables the SDK reads (region, credentials, local endpoints). */
  readonly awsEnv: Readonly<Record<string, string>>;
  /** A fresh relay table: no shared token, no de-dup records, empty outbox. */
  newTable(): Promise<string>;
  /**
   * A new execution environment wired by the function's own composition root; `dynamodbEndpoint` puts DynamoDB
   * behind another address (a fault proxy), with the function's own client settings.
   */
  environment(
    tableName: string,
    overrides?: { receiverUrl?: string; dynamodbEndpoint?: string; env?: Readonly<Record<string, string>> },
  ): Environment;
  /** The outbox of a table, read directly (not through any environment). */
  outbox(tableName: string): DynamoDbOutbox;
  /** A document client on DynamoDB Local for the bench's own reads. */
  readonly documents: DynamoDBDocumentClient;
  close(): Promise<void>;
}

/** A webhook signed for the bench's `github` source, with a fresh delivery id. */
export function signedWebhook(body: string) {
  return githubWebhook(body, SIGNING_SECRET);
}

/**
 * DynamoDB Local, the Secrets Manager emulator and the ONEiO emulator on loopback, and execution environments built
 * with `createRelayHandler(readConfig(env), createClients())` exactly as `handler.ts` does, one per call: the same
 * code path as a cold start, without a module reload, so the bench can count each environment's SDK calls.
 */
export async function startBenchFleet(): Promise<BenchFleet> {
  const dynamodb = await startDynamoDbLocal();
  const oneio = await startOneioEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
  const secrets = await startSecretsManagerEmulator({
    secrets: {
      [CREDENTIALS_SECRET_ID]: JSON.stringify({ client_id: CLIENT_ID, client_secret: CLIENT_SECRET }),
      [SIGNING_SECRET_ID]: JSON.stringify({ github: SIGNING_SECRET }),
    },
  });
  const admin: DynamoDBClient = createLocalDynamoDbClient(dynamodb.endpoint);
  const awsEnv = {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodb.endpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
    POWERTOOLS_SERVICE_NAME: 'oneio-relay-bench',
    POWERTOOLS_METRICS_NAMESPACE: 'OneioRelayBench',
  };
  // The SDK reads endpoints and credentials from the environment when a client is created, as in Lambda.
  Object.assign(process.env, awsEnv);
  const environments = new Set<Environment>();

  const functionEnv = (tableName: string, overrides: { receiverUrl?: string } = {}) => ({
    [ENV.tokenUrl]: oneio.tokenUrl,
    [ENV.receiverUrl]: overrides.receiverUrl ?? oneio.receiverUrl,
    [ENV.credentialsSecretId]: CREDENTIALS_SECRET_ID,
    [ENV.signingSecretsSecretId]: SIGNING_SECRET_ID,
    [ENV.tableName]: tableName,
    [ENV.sources]: JSON.stringify({ github: { scheme: 'github' } }),
  });

  return {
    dynamodb,
    oneio,
    secrets,
    awsEnv,
    functionEnv,
    async newTable() {
      const tableName = `relay-bench-${randomUUID()}`;
      await createRelayTable(admin, tableName);
      return tableName;
    },
    environment(tableName, overrides = {}) {
      const { dynamodbEndpoint, env = {}, ...urls } = overrides;
      const clients = {
        ...createClients(),
        ...(dynamodbEndpoint && { dynamo: dynamoDbAt(dynamodbEndpoint) }),
      };
      const dynamo = countCalls(clients.dynamo);
      const handle = createRelayHandler(readConfig({ ...functionEnv(tableName, urls), ...env }), clients);
      const environment: Environment = {
        handle,
        dynamo,
        async close() {
          environments.delete(environment);
          clients.dynamo.destroy();
          clients.secrets.destroy();
          await clients.http.close();
        },
      };
      environments.add(environment);
      return environment;
    },
    outbox(tableName) {
      return new DynamoDbOutbox(DynamoDBDocumentClient.from(admin), tableName);
    },
    documents: DynamoDBDocumentClient.from(admin),
    async close() {
      await Promise.all([...environments].map((e) => e.close()));
      admin.destroy();
      await Promise.all([oneio.close(), secrets.close()]);
      await dynamodb.stop();
    },
  };
}

/** A document client with the function's own settings, reaching DynamoDB at `endpoint`. */
function dynamoDbAt(endpoint: string): DynamoDBDocumentClient {
  return DynamoDBDocumentClient.from(new DynamoDBClient({ ...DYNAMODB_CLIENT_CONFIG, endpoint }));
}

/**
 * Counts the DynamoDB requests an environment sends by the kind of item they touch (`token#…`, `dedup#…`,
 * `outbox#…` keys) at the SDK's deserialize step, below the retry loop, so each HTTP attempt counts once; and times
 * each whole SDK call (marshalling, signing, retries, HTTP, parsing) at the initialize step.
 */
function countCalls(client: DynamoDBDocumentClient): DynamoCalls {
  const calls: DynamoCalls = {
    count: { token: 0, dedup: 0, outbox: 0, destination: 0, other: 0 },
    ms: { token: 0, dedup: 0, outbox: 0, destination: 0, other: 0 },
  };
  client.middlewareStack.add(
    (next) => async (args) => {
      const kind = kindOf(JSON.stringify(args.input));
      const started = performance.now();
      try {
        return await next(args);
      } finally {
        calls.ms[kind] += performance.now() - started;
      }
    },
    { step: 'initialize', priority: 'high', name: 'benchCallTimer' },
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      calls.count[kindOf(bodyText((args.request as { body?: unknown }).body))]++;
      return next(args);
    },
    { step: 'deserialize', name: 'benchCallCounter' },
  );
  return calls;
}

/** The SDK serialises DynamoDB requests to bytes (a Uint8Array subclass) or, in older versions, a string. */
function bodyText(body: unknown): string {
  if (typeof body === 'string') return body;
  return body instanceof Uint8Array
    ? Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8')
    : '';
}

function kindOf(body: string): CallKind {
  if (body.includes('"token#')) return 'token';
  if (body.includes('"dedup#')) return 'dedup';
  if (body.includes('"outbox#')) return 'outbox';
  if (body.includes('"destination#')) return 'destination';
  return 'other';
}

/** Snapshot of a counter, for before/after differences. */
export function snapshot(calls: DynamoCalls): DynamoCalls {
  return { count: { ...calls.count }, ms: { ...calls.ms } };
}
