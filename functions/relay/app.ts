import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Dispatcher } from 'undici';
import type { RelayConfig } from './config';
import { DESTINATION_KEY } from './contract';
import { type OnceResult, relayOnce } from './core/dedup/relay-once';
import type { OutboundMessage } from './core/delivery/deliver';
import { DestinationGate } from './core/destination/destination-gate';
import { WebhookGate } from './core/inbound/accept-webhook';
import { OutboxSink } from './core/outbox/outbox-sink';
import { sweepOutbox } from './core/outbox/sweep';
import { relay, type UndeliveredSink } from './core/relay';
import { EndpointTokens } from './core/token/endpoint-tokens';
import { TokenManager } from './core/token/token-manager';
import { isHttpApiEvent } from './events/api-gateway';
import { isEventBridgeEvent, oneioEndpointOfInvocation } from './events/eventbridge';
import { handleEventBridge } from './events/eventbridge-handler';
import { handleSweep, isSweepEvent } from './events/sweep-handler';
import {
  count,
  destinationTelemetry,
  secretTelemetry,
  type Telemetry,
  tokenTelemetry,
} from './events/telemetry';
import { handleWebhook } from './events/webhook-handler';
import { traceCalls } from './io/dynamodb/call-tracing';
import { DynamoDbDedupStore } from './io/dynamodb/dedup-store';
import { DynamoDbDestinationStore } from './io/dynamodb/destination-store';
import { DynamoDbOutbox } from './io/dynamodb/outbox';
import { DynamoDbTokenStore } from './io/dynamodb/token-store';
import { errorCode } from './io/error-code';
import { createHttpAgent } from './io/oneio/http-agent';
import { OneioReceiver } from './io/oneio/receiver';
import { OneioTokenEndpoint } from './io/oneio/token-endpoint';
import { SecretsManagerCredentialsProvider } from './io/secrets-manager/credentials-provider';
import { JsonSecret } from './io/secrets-manager/json-secret';
import { SecretsManagerSigningSecrets } from './io/secrets-manager/signing-secrets';

/** The clients of one execution environment, created once and reused by every invocation. */
export interface RelayClients {
  readonly dynamo: DynamoDBDocumentClient;
  readonly secrets: SecretsManagerClient;
  readonly http: Dispatcher;
}

/**
 * DynamoDB gets short timeouts and few retries: it is a cache for the token, and when it is down the relay must
 * notice in about a second and carry on without it, not spend the sender's patience on retries.
 * `throwOnRequestTimeout`: without it the SDK only warns when `requestTimeout` passes, and a service that accepts
 * the connection but never answers would hold the invocation until the function times out. The one retry is also
 * why every conditional write must recognise its own earlier success (`io/dynamodb/conditional-write.ts`).
 */
export const DYNAMODB_CLIENT_CONFIG = {
  maxAttempts: 2,
  requestHandler: { connectionTimeout: 1_000, requestTimeout: 1_000, throwOnRequestTimeout: true },
} as const satisfies DynamoDBClientConfig;

/**
 * SDK clients from the default configuration chain (region, credentials and `AWS_ENDPOINT_URL_*` from the
 * environment). Each Secrets Manager read also has a time limit of its own over all attempts
 * (`SECRET_READ_TIMEOUT_MS`).
 */
export function createClients(): RelayClients {
  return {
    dynamo: traceCalls(DynamoDBDocumentClient.from(new DynamoDBClient(DYNAMODB_CLIENT_CONFIG))),
    secrets: new SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000, throwOnRequestTimeout: true },
    }),
    http: createHttpAgent(),
  };
}

export type RelayHandler = (
  event: unknown,
  context: Context,
) => Promise<APIGatewayProxyStructuredResultV2 | undefined>;

export interface RelayOptions {
  readonly telemetry?: Telemetry;
  readonly sink?: UndeliveredSink;
  readonly now?: () => number;
}

/**
 * Store key of a shared token: one per token endpoint, credentials secret and credential pair, readable by an
 * operator. The default pair's key is the one the relay has always used (a deployed fleet keeps its token); a named
 * ONEiO endpoint's key adds `#<name>`, which no secret id can end with (`#` is not allowed in one).
 */
export function tokenKey(
  config: Pick<RelayConfig, 'tokenUrl' | 'credentialsSecretId'>,
  oneioEndpoint?: string,
): string {
  const key = `token#${config.tokenUrl}#${config.credentialsSecretId}`;
  return oneioEndpoint === undefined ? key : `${key}#${oneioEndpoint}`;
}

/**
 * Wires one execution environment: everything below this function receives its dependencies as parameters.
 * Called once per cold start by `handler.ts`; tests call it once per simulated execution environment.
 */
export function createRelayHandler(
  config: RelayConfig,
  clients: RelayClients,
  options: RelayOptions = {},
): RelayHandler {
  const now = options.now ?? (() => Date.now());
  const telemetry = options.telemetry ?? {
    // Service name and namespace come from POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE, set per
    // environment by the stack, so QA and PROD in one account publish apart.
    logger: new Logger(),
    metrics: new Metrics(),
  };
  const secretEvents = { events: secretTelemetry(telemetry) };
  // One read of the credentials secret serves every pair in it.
  const credentialsSecret = new JsonSecret(clients.secrets, config.credentialsSecretId, secretEvents);
  const signingSecrets = new SecretsManagerSigningSecrets(
    new JsonSecret(clients.secrets, config.signingSecretsSecretId, secretEvents),
  );
  const tokenStore = new DynamoDbTokenStore(clients.dynamo, config.tableName);
  const tokenEndpoint = new OneioTokenEndpoint(config.tokenUrl, clients.http);
  // Each ONEiO endpoint (credential pair) gets a token manager of its own on first use: its own fleet-shared token.
  const tokens = new EndpointTokens(
    (oneioEndpoint) =>
      new TokenManager({
        key: tokenKey(config, oneioEndpoint),
        store: tokenStore,
        endpoint: tokenEndpoint,
        credentials: new SecretsManagerCredentialsProvider(credentialsSecret, oneioEndpoint),
        events: tokenTelemetry(telemetry, oneioEndpoint),
        now,
      }),
  );
  const receiver = new OneioReceiver(config.receiverUrl, clients.http);
  const outbox = new DynamoDbOutbox(clients.dynamo, config.tableName);
  const sink = options.sink ?? new OutboxSink(outbox, now);
  const dedup = new DynamoDbDedupStore(clients.dynamo, config.tableName);
  const destination = new DestinationGate({
    store: new DynamoDbDestinationStore(clients.dynamo, config.tableName),
    key: DESTINATION_KEY,
    policy: { threshold: config.breakerThreshold, coolDownMs: config.breakerCoolDownSeconds * 1000 },
    now,
    events: destinationTelemetry(telemetry),
  });
  const gate = new WebhookGate(config.sources, signingSecrets, config.maxBodyBytes);

  const relayMessage = async (
    message: OutboundMessage,
    deadline: number,
    lapseAt: number,
  ): Promise<OnceResult> => {
    const result = await relayOnce(message, deadline, lapseAt, {
      dedup,
      relay: (m, d) => relay(m, d, { tokens, receiver, sink, now, destination }),
      now,
      ttlSeconds: config.dedupTtlSeconds,
      onStoreError: (error) => {
        // Names the message: a copy of it relayed later cannot be recognised as a duplicate.
        telemetry.logger.warn('De-duplication store unavailable; relaying without it', {
          relayId: message.relayId,
          deliveryId: message.deliveryId,
          error: errorCode(error),
        });
        count(telemetry, 'DedupStoreUnavailable');
      },
    });
    count(telemetry, `Message${result.status[0]?.toUpperCase()}${result.status.slice(1)}`);
    if ('inDoubt' in result && result.inDoubt) count(telemetry, 'DeliveryInDoubt');
    if ('held' in result && result.held !== undefined) count(telemetry, 'DeliveryHeld');
    return result;
  };
  const sweep = (deadline: number) =>
    sweepOutbox(deadline, {
      outbox,
      tokens,
      receiver,
      now,
      maxAgeMs: config.outboxMaxAgeSeconds * 1000,
      destination,
      drainRatePerSecond: config.drainRatePerSecond,
      onItemError: (relayId, error) =>
        telemetry.logger.error('Outbox item not updated; it comes back when its claim lapses', {
          relayId,
          error: errorCode(error),
        }),
    });

  return async (event, context) => {
    telemetry.logger.addContext(context);
    try {
      const remainingMs = context.getRemainingTimeInMillis();
      if (isHttpApiEvent(event)) {
        return await handleWebhook(event, remainingMs, { gate, relay: relayMessage, telemetry, now });
      }
      if (isSweepEvent(event)) {
        await handleSweep(remainingMs, { sweep, telemetry, now });
        return undefined;
      }
      if (isEventBridgeEvent(event)) {
        const oneioEndpoint = oneioEndpointOfInvocation(context.invokedFunctionArn);
        await handleEventBridge(event, remainingMs, {
          relay: relayMessage,
          telemetry,
          now,
          ...(oneioEndpoint !== undefined && { oneioEndpoint }),
        });
        return undefined;
      }
      telemetry.logger.error('Unsupported event shape');
      throw new Error(
        'Unsupported event: expected an API Gateway HTTP API (2.0), EventBridge or sweep event',
      );
    } finally {
      // A refusal counted by reason has already been published on its own; skip Powertools' "no metrics" warning.
      if (telemetry.metrics.hasStoredMetrics()) telemetry.metrics.publishStoredMetrics();
    }
  };
}
