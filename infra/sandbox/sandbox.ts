import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { type DynamoDBClient, ResourceInUseException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createClients, createRelayHandler, tokenKey } from '../../functions/relay/app';
import { readConfig } from '../../functions/relay/config';
import { DEFAULTS, ENV, type EnvName, SWEEP_EVENT } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { qa } from '../config';
import { createLocalDynamoDbClient, createRelayTable, startDynamoDbLocal } from '../local/dynamodb-local';
import { type ReceivedMessage, startOneioEmulator } from '../local/oneio-emulator';
import { startSecretsManagerEmulator } from '../local/secrets-manager-emulator';
import { Activity, type Finished } from './activity';
import { observeEmulatorAnswers } from './answer-observer';
import { SandboxLogger } from './function-logger';
import { createGatewayServer, type Invoke } from './gateway-server';
import { HandlerPool } from './handler-pool';
import { inspector } from './inspector/server';
import { lambdaContext } from './lambda-context';
import { Masker } from './masking';
import { headerList, messageHeaders } from './oneio-request-view';
import { ensurePortFree, listen, PortTakenError } from './ports';
import { sampleSigningSecret } from './sample-webhook';
import { terminalLine } from './terminal-lines';

export const SANDBOX_REGION = 'us-east-1';
export const SANDBOX_ACCOUNT = '000000000000';
export const FUNCTION_NAME = 'oneio-relay-sandbox';
export const CREDENTIALS_SECRET_NAME = 'oneio-relay/sandbox/oneio-credentials';
export const SIGNING_SECRETS_SECRET_NAME = 'oneio-relay/sandbox/signing-secrets';
/** Printed by the emulator for each message: ONEiO's view of what the relay sent. */
const MESSAGE_PREVIEW_CHARS = 4_000;
/** How long Ctrl-C waits for invocations in flight before closing their clients. */
const STOP_GRACE_MS = 3_000;

/** Where the relay sends messages: the local emulator, or a real ONEiO environment with real credentials. */
export type SandboxOneio =
  | { readonly kind: 'emulator' }
  | {
      readonly kind: 'remote';
      /** Shown to the user, e.g. `ONEiO QA`. */
      readonly label: string;
      readonly tokenUrl: string;
      readonly receiverUrl: string;
      readonly clientId: string;
      readonly clientSecret: string;
    };

export interface SandboxOptions {
  /** Port of the local endpoint; 0 picks a free one. */
  readonly port: number;
  /** When `port` is taken: true listens on a free port instead, false fails naming `--port`. */
  readonly portFallback: boolean;
  /** Port of DynamoDB Local. @default a free port */
  readonly dynamodbPort?: number;
  /** A DynamoDB Local already running (no Java is started); the table is created there if missing. */
  readonly dynamodbEndpoint?: string;
  readonly tableName: string;
  readonly oneio: SandboxOneio;
  /** Most execution environments at once. */
  readonly concurrency: number;
  readonly sweepIntervalMs: number;
  /** POWERTOOLS_LOG_LEVEL of the function. */
  readonly logLevel: string;
  /**
   * true: the function's JSON log lines as Lambda writes them, the gateway's access lines and every message the
   * emulator receives; false: one readable line per request, event and busy sweep.
   */
  readonly jsonLogs: boolean;
  /** Colour the readable lines (a terminal). */
  readonly colour: boolean;
  /** Every line the sandbox prints goes here. */
  readonly log: (line: string) => void;
}

export interface Sandbox {
  /** Base URL of the local endpoint, `http://127.0.0.1:<port>`. */
  readonly url: string;
  /** Set when the requested port was taken and another one was picked. */
  readonly portNote?: string;
  readonly dynamodbEndpoint: string;
  readonly tableName: string;
  readonly secretsManagerUrl: string;
  /** `http://127.0.0.1:<port>` of the ONEiO emulator, or the remote receiver. */
  readonly oneioUrl: string;
  readonly sources: readonly string[];
  /** Key of the shared token item in the table (for `status --sandbox`). */
  readonly tokenKey: string;
  /** Stops everything started, Java included. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * A local copy of the deployed QA stack: the real DynamoDB Local with the relay table built from the contract, a
 * Secrets Manager emulator holding sample secrets, a ONEiO emulator printing what it receives (or real ONEiO), an
 * HTTP endpoint shaped like the HTTP API, a pool of execution environments running the function's own
 * `createRelayHandler`, and the outbox sweep on its schedule.
 *
 * The function finds DynamoDB and Secrets Manager through `AWS_ENDPOINT_URL_*` in this process's environment, as
 * the operator contract promises; the sandbox is meant to own its process.
 */
export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const cleanup of cleanups.reverse().splice(0)) {
      await cleanup().catch((error: unknown) => options.log(`[sandbox] stopping: ${String(error)}`));
    }
  };

  try {
    let invoke: Invoke | undefined;
    let inspect: ((request: IncomingMessage, response: ServerResponse) => boolean) | undefined;
    const sources = Object.keys(qa.sources);
    const credentials = sandboxCredentials(options.oneio, qa.oneio.endpoints ?? []);
    const pairs = [credentials, ...Object.values(credentials.endpoints ?? {})];
    const signingSecrets = Object.fromEntries(sources.map((source) => [source, sampleSigningSecret(source)]));
    const masker = new Masker(
      [...Object.values(signingSecrets), ...pairs.map((pair) => pair.client_secret)],
      Object.values(qa.sources).flatMap((declaration) =>
        declaration.scheme === 'hmac-sha256' ? [declaration.header] : [],
      ),
    );
    const activity = new Activity(masker);
    /** The access lines and emulator messages of `--json-logs`; the readable lines replace them otherwise. */
    const verbose = options.jsonLogs ? options.log : () => {};
    const printFinished = (finished: Finished | undefined) => {
      if (options.jsonLogs || finished === undefined) return;
      const line = terminalLine(finished, options.colour);
      if (line !== undefined) options.log(line);
    };
    const server = createGatewayServer({
      identity: { apiId: 'sandbox', accountId: SANDBOX_ACCOUNT },
      region: SANDBOX_REGION,
      invoker: () => invoke,
      log: verbose,
      observer: {
        received: (request) => activity.received(request),
        answered: (id, answer) => {
          activity.answered(id, answer);
          const entry = activity.get(id);
          if (entry !== undefined) printFinished({ kind: 'entry', entry });
        },
      },
      otherRoutes: (request, response) => inspect?.(request, response) ?? false,
    });
    const { port, note } = await listenGateway(server, options);
    cleanups.push(() => closeServer(server));
    const url = `http://127.0.0.1:${port}`;

    let received = 0;
    /** Remembers how to stop what did start, as soon as it has started. */
    const track =
      <T>(stop: (started: T) => Promise<void>) =>
      (started: T): T => {
        cleanups.push(() => stop(started));
        return started;
      };
    const starting = [
      startSecretsManagerEmulator({
        region: SANDBOX_REGION,
        secrets: {
          [CREDENTIALS_SECRET_NAME]: JSON.stringify(credentials),
          [SIGNING_SECRETS_SECRET_NAME]: JSON.stringify(signingSecrets),
        },
      }).then(track((emulator) => emulator.close())),
      options.oneio.kind === 'emulator'
        ? startOneioEmulator({
            clientId: EMULATOR_CREDENTIALS.client_id,
            clientSecret: EMULATOR_CREDENTIALS.client_secret,
            clients: pairs
              .slice(1)
              .map((pair) => ({ clientId: pair.client_id, clientSecret: pair.client_secret })),
            onMessage: (message) => {
              received += 1;
              verbose(describeMessage(received, message));
            },
            onReceiverRequest: (request) => activity.oneioRequest(request),
          }).then(track((emulator) => emulator.close()))
        : Promise.resolve(undefined),
      startDynamoDb(options).then(track((dynamo) => dynamo.stop())),
    ] as const;
    // Everything settles before a failure is rethrown, so what did start is stopped too (e.g. Java missing).
    await Promise.allSettled(starting);
    const [secrets, oneio, dynamodb] = await Promise.all(starting);
    await ensureTable(dynamodb.endpoint, options, dynamodb.external);

    const target =
      options.oneio.kind === 'remote'
        ? { tokenUrl: options.oneio.tokenUrl, receiverUrl: options.oneio.receiverUrl }
        : { tokenUrl: oneio?.tokenUrl ?? '', receiverUrl: oneio?.receiverUrl ?? '' };
    Object.assign(process.env, awsEnvironment(dynamodb.endpoint, secrets.url, options.logLevel));
    // Whatever session the operator's shell holds must not be mixed with the sandbox's dummy credentials.
    delete process.env.AWS_SESSION_TOKEN;
    // Validated once here, so a bad setting fails the start instead of the first request.
    const config = readConfig(functionEnvironment(target, options.tableName));

    const table = createLocalDynamoDbClient(dynamodb.endpoint);
    cleanups.push(async () => table.destroy());
    const documents = DynamoDBDocumentClient.from(table);
    const outbox = new DynamoDbOutbox(documents, options.tableName);
    /** Queued messages of the list follow their outbox item: due, parked, delivered by a sweep, or purged. */
    const followOutbox = async () => {
      for (const entry of activity.pendingInOutbox()) {
        activity.outboxState(entry.id, await outbox.get(entry.relayId ?? ''));
      }
    };

    const pool = new HandlerPool({
      maxEnvironments: options.concurrency,
      create: (id) => {
        const clients = createClients();
        // Only watches the emulator's answers, to link each ONEiO request to the invocation that sent it.
        const http = clients.http.compose(
          observeEmulatorAnswers((request) => activity.linkOneio(request, id)),
        );
        const logger = new SandboxLogger((line, fields) => {
          verbose(line);
          activity.functionLog(id, fields);
        });
        return {
          handler: createRelayHandler(
            config,
            { ...clients, http },
            { telemetry: { logger, metrics: new Metrics() } },
          ),
          async dispose() {
            clients.secrets.destroy();
            // The document client's destroy() leaves the wrapped client's sockets open; close them directly.
            (clients.dynamo.config.requestHandler as { destroy?: () => void }).destroy?.();
            await clients.http.close();
          },
        };
      },
      onColdStart: (id, total) =>
        verbose(
          `[lambda] cold start: execution environment #${id} (${total} of at most ${options.concurrency})`,
        ),
    });
    cleanups.push(() => pool.close(STOP_GRACE_MS));
    invoke = (event) =>
      pool.invoke(async (handler, environment) => {
        const id = invocationId(event);
        // What is due now is what this sweep takes: it tells retries of messages with the same body apart.
        if (id === 'sweep') await followOutbox().catch(() => {});
        activity.invocationStarted(environment.id, id, environment.coldStart);
        try {
          return await handler(event, lambdaContext(FUNCTION_NAME));
        } finally {
          const finished = activity.invocationEnded(environment.id);
          if (finished?.kind === 'sweep') printFinished(finished);
          await followOutbox().catch((error: unknown) =>
            verbose(`[sandbox] reading the outbox: ${String(error)}`),
          );
        }
      });
    cleanups.push(async () => {
      invoke = undefined;
      inspect = undefined;
    });
    const sweepNow = async () => {
      await invoke?.(SWEEP_EVENT);
    };

    const sweep = setInterval(() => {
      sweepNow().catch((error: unknown) => options.log(`[sweep] failed: ${String(error)}`));
    }, options.sweepIntervalMs);
    cleanups.push(async () => clearInterval(sweep));

    const key = tokenKey(config);
    inspect = inspector({
      url: () => url,
      sources: qa.sources,
      activity,
      masker,
      tableName: options.tableName,
      tokenKey: key,
      documents,
      ...(oneio !== undefined && {
        oneio: {
          get mode() {
            return oneio.receiverMode;
          },
          setMode: (mode) => oneio.setReceiverMode(mode),
          get tokenRequests() {
            return oneio.tokenRequests.count;
          },
        },
      }),
      oneioLabel:
        options.oneio.kind === 'remote'
          ? `${options.oneio.label} (${options.oneio.receiverUrl})`
          : 'ONEiO emulator',
      sweep: async () => {
        await sweepNow();
        await followOutbox();
      },
      outboxChanged: followOutbox,
    });

    let stopped: Promise<void> | undefined;
    return {
      url,
      ...(note !== undefined && { portNote: note }),
      dynamodbEndpoint: dynamodb.endpoint,
      tableName: options.tableName,
      secretsManagerUrl: secrets.url,
      oneioUrl: options.oneio.kind === 'remote' ? options.oneio.receiverUrl : (oneio?.baseUrl ?? ''),
      sources,
      tokenKey: key,
      stop() {
        stopped ??= stopAll();
        return stopped;
      },
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** Which entry of the activity an invocation is for: the API request id, the event id, or the sweep. */
function invocationId(event: unknown): string {
  const fields = (typeof event === 'object' && event !== null ? event : {}) as Record<string, unknown>;
  const context = fields.requestContext as { requestId?: unknown } | undefined;
  if (typeof context?.requestId === 'string') return context.requestId;
  return typeof fields.id === 'string' ? fields.id : 'sweep';
}

/** The emulator's credentials; shown nowhere, they only have to match between the two local stand-ins. */
const EMULATOR_CREDENTIALS = { client_id: 'sandbox-client', client_secret: 'sandbox-client-secret' } as const;

interface CredentialPairJson {
  readonly client_id: string;
  readonly client_secret: string;
}

/** The credentials secret as the deployed relay reads it: the default pair, and `endpoints` when there are any. */
export interface SandboxCredentials extends CredentialPairJson {
  readonly endpoints?: Readonly<Record<string, CredentialPairJson>>;
}

/**
 * The sandbox's credentials secret: the default pair and one pair per named ONEiO endpoint (`endpoints`, from
 * QA's `oneio.endpoints`), so a source that names one works as deployed. With the emulator each endpoint has a pair
 * of its own, which the emulator accepts; against a real ONEiO the one pair given serves every endpoint.
 */
export function sandboxCredentials(oneio: SandboxOneio, endpoints: readonly string[]): SandboxCredentials {
  const pairFor = (name: string | undefined): CredentialPairJson =>
    oneio.kind === 'remote'
      ? { client_id: oneio.clientId, client_secret: oneio.clientSecret }
      : name === undefined
        ? { ...EMULATOR_CREDENTIALS }
        : { client_id: `sandbox-${name}-client`, client_secret: `sandbox-${name}-client-secret` };
  return {
    ...pairFor(undefined),
    ...(endpoints.length > 0 && {
      endpoints: Object.fromEntries(endpoints.map((name) => [name, pairFor(name)])),
    }),
  };
}

/** The function's variables, as the stack sets them for QA (infra/oneio-relay.ts); typed so none is left out. */
function functionEnvironment(
  target: { tokenUrl: string; receiverUrl: string },
  tableName: string,
): Record<EnvName, string> {
  return {
    [ENV.tokenUrl]: target.tokenUrl,
    [ENV.receiverUrl]: target.receiverUrl,
    [ENV.credentialsSecretId]: CREDENTIALS_SECRET_NAME,
    [ENV.signingSecretsSecretId]: SIGNING_SECRETS_SECRET_NAME,
    [ENV.tableName]: tableName,
    [ENV.sources]: JSON.stringify(qa.sources),
    [ENV.maxBodyBytes]: String(qa.maxBodyBytes ?? DEFAULTS.maxBodyBytes),
    [ENV.dedupTtlSeconds]: String(qa.dedupTtlSeconds ?? DEFAULTS.dedupTtlSeconds),
    [ENV.outboxMaxAgeSeconds]: String(qa.outboxMaxAgeSeconds ?? DEFAULTS.outboxMaxAgeSeconds),
    [ENV.drainRatePerSecond]: String(qa.oneio.drainRatePerSecond ?? DEFAULTS.drainRatePerSecond),
    [ENV.breakerThreshold]: String(qa.oneio.breaker?.failureThreshold ?? DEFAULTS.breakerThreshold),
    [ENV.breakerCoolDownSeconds]: String(
      qa.oneio.breaker?.coolDownSeconds ?? DEFAULTS.breakerCoolDownSeconds,
    ),
  };
}

/** What Lambda and the SDK's default chain see: local endpoints, dummy credentials, no metrics noise. */
function awsEnvironment(
  dynamodbEndpoint: string,
  secretsUrl: string,
  logLevel: string,
): Record<string, string> {
  return {
    AWS_REGION: SANDBOX_REGION,
    AWS_ACCESS_KEY_ID: 'sandbox',
    AWS_SECRET_ACCESS_KEY: 'sandbox',
    AWS_ENDPOINT_URL_DYNAMODB: dynamodbEndpoint,
    AWS_ENDPOINT_URL_SECRETS_MANAGER: secretsUrl,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    // Set by Lambda; Powertools reports `cold_start` only for on-demand environments.
    AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
    POWERTOOLS_SERVICE_NAME: FUNCTION_NAME,
    POWERTOOLS_METRICS_NAMESPACE: 'OneioRelaySandbox',
    // Metrics would print an EMF blob per invocation; CloudWatch reads those, a person does not.
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_LOG_LEVEL: logLevel,
  };
}

async function listenGateway(
  server: Server,
  options: SandboxOptions,
): Promise<{ port: number; note?: string }> {
  try {
    return { port: await listen(server, options.port, '127.0.0.1', '--port') };
  } catch (error) {
    if (!options.portFallback || !(error instanceof PortTakenError)) throw error;
    const port = await listen(server, 0, '127.0.0.1', '--port');
    return {
      port,
      note: `port ${options.port} is in use, so the sandbox took ${port} (choose one with --port)`,
    };
  }
}

async function startDynamoDb(
  options: SandboxOptions,
): Promise<{ endpoint: string; external: boolean; stop: () => Promise<void> }> {
  if (options.dynamodbEndpoint !== undefined) {
    return { endpoint: options.dynamodbEndpoint, external: true, stop: async () => {} };
  }
  if (options.dynamodbPort !== undefined && options.dynamodbPort !== 0) {
    await ensurePortFree(options.dynamodbPort, '--dynamodb-port');
  }
  try {
    const local = await startDynamoDbLocal(
      options.dynamodbPort !== undefined && options.dynamodbPort !== 0 ? { port: options.dynamodbPort } : {},
    );
    return { endpoint: local.endpoint, external: false, stop: local.stop };
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(
      `${reason}\nInstall Java 17 (e.g. \`apt-get install openjdk-17-jre-headless\`), or run a DynamoDB Local of ` +
        'your own and pass --dynamodb-endpoint http://127.0.0.1:8000',
      { cause: error },
    );
  }
}

async function ensureTable(endpoint: string, options: SandboxOptions, external: boolean): Promise<void> {
  const client: DynamoDBClient = createLocalDynamoDbClient(endpoint);
  try {
    await createRelayTable(client, options.tableName);
  } catch (error) {
    if (!(external && error instanceof ResourceInUseException)) throw error;
    options.log(`[sandbox] table ${options.tableName} already exists at ${endpoint}; using it as it is`);
  } finally {
    client.destroy();
  }
}

/**
 * ONEiO's view of one message: the URL with its query, the relay's and the forwarded headers, and the body byte for
 * byte (long bodies cut for the terminal). Never the token.
 */
export function describeMessage(count: number, message: Pick<ReceivedMessage, 'body' | 'request'>): string {
  const { body, request } = message;
  const bytes = Buffer.byteLength(body);
  const preview =
    body.length > MESSAGE_PREVIEW_CHARS
      ? `${body.slice(0, MESSAGE_PREVIEW_CHARS)}… (${bytes} bytes in all)`
      : body;
  const { relay, forwarded } = messageHeaders(request.headers);
  return [
    `[oneio] message ${count} received (${bytes} bytes): POST ${request.url}`,
    `         ${headerList([...relay, ...forwarded])}`,
    `         ${preview}`,
  ].join('\n');
}

async function closeServer(server: Server): Promise<void> {
  if (!server.listening) return;
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  // Requests still running get their answer or are cut when the pool has waited its grace period.
  setTimeout(() => server.closeAllConnections(), STOP_GRACE_MS).unref();
  await closed;
}
