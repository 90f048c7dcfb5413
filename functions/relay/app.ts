import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import type { Dispatcher } from 'undici';
import type { RelayConfig } from './config';
import type { OutboundMessage } from './core/delivery/deliver';
import { WebhookGate } from './core/inbound/accept-webhook';
import { NO_OUTBOX, type RelayResult, relay, type UndeliveredSink } from './core/relay';
import { TokenManager } from './core/token/token-manager';
import { isHttpApiEvent } from './events/api-gateway';
import { isEventBridgeEvent } from './events/eventbridge';
import { handleEventBridge } from './events/eventbridge-handler';
import { count, type Telemetry, tokenTelemetry } from './events/telemetry';
import { handleWebhook } from './events/webhook-handler';
import { DynamoDbTokenStore } from './io/dynamodb/token-store';
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
 * SDK clients from the default configuration chain (region, credentials and `AWS_ENDPOINT_URL_*` from the
 * environment). DynamoDB gets short timeouts and few retries: it is a cache for the token, and when it is down the
 * relay must notice in about a second and carry on without it, not spend the sender's patience on retries.
 */
export function createClients(): RelayClients {
  return {
    dynamo: DynamoDBDocumentClient.from(
      new DynamoDBClient({
        maxAttempts: 2,
        requestHandler: { connectionTimeout: 1_000, requestTimeout: 2_000 },
      }),
    ),
    secrets: new SecretsManagerClient({
      maxAttempts: 2,
      requestHandler: { connectionTimeout: 1_000, requestTimeout: 3_000 },
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

/** Store key of the shared token: one per token endpoint and credentials secret, readable by an operator. */
export function tokenKey(config: Pick<RelayConfig, 'tokenUrl' | 'credentialsSecretId'>): string {
  return `token#${config.tokenUrl}#${config.credentialsSecretId}`;
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
  const now = options.now ?? Date.now;
  const telemetry = options.telemetry ?? {
    logger: new Logger({ serviceName: 'oneio-relay' }),
    metrics: new Metrics({ namespace: 'OneioRelay', serviceName: 'oneio-relay' }),
  };
  const credentials = new SecretsManagerCredentialsProvider(
    new JsonSecret(clients.secrets, config.credentialsSecretId),
  );
  const signingSecrets = new SecretsManagerSigningSecrets(
    new JsonSecret(clients.secrets, config.signingSecretsSecretId),
  );
  const tokens = new TokenManager({
    key: tokenKey(config),
    store: new DynamoDbTokenStore(clients.dynamo, config.tableName),
    endpoint: new OneioTokenEndpoint(config.tokenUrl, clients.http),
    credentials,
    events: tokenTelemetry(telemetry),
    now,
  });
  const deps = {
    tokens,
    receiver: new OneioReceiver(config.receiverUrl, clients.http),
    sink: options.sink ?? NO_OUTBOX,
    now,
  };
  const relayAndCount = async (message: OutboundMessage, deadline: number): Promise<RelayResult> => {
    const result = await relay(message, deadline, deps);
    count(telemetry, `Message${result.status[0]?.toUpperCase()}${result.status.slice(1)}`);
    return result;
  };
  const gate = new WebhookGate(config.sources, signingSecrets, config.maxBodyBytes);

  return async (event, context) => {
    telemetry.logger.addContext(context);
    try {
      const remainingMs = context.getRemainingTimeInMillis();
      if (isHttpApiEvent(event)) {
        return await handleWebhook(event, remainingMs, { gate, relay: relayAndCount, telemetry, now });
      }
      if (isEventBridgeEvent(event)) {
        await handleEventBridge(event, remainingMs, { relay: relayAndCount, telemetry, now });
        return undefined;
      }
      telemetry.logger.error('Unsupported event shape');
      throw new Error('Unsupported event: expected an API Gateway HTTP API (2.0) or an EventBridge event');
    } finally {
      telemetry.metrics.publishStoredMetrics();
    }
  };
}
