/**
 * Names shared by the function and the CDK stack. Both sides import them from here so an environment variable or
 * the TTL attribute can never be spelt differently in `infra/` and `functions/`.
 */

/** Environment variables the relay function reads at cold start. */
export const ENV = {
  /** ONEiO OAuth 2.0 token endpoint (`https://…/oauth2/token`). */
  tokenUrl: 'ONEIO_TOKEN_URL',
  /** ONEiO REST receiver (`https://…/api/v2`). */
  receiverUrl: 'ONEIO_RECEIVER_URL',
  /** Secrets Manager id (name or ARN) of `{"client_id": "…", "client_secret": "…", "endpoints"?: {…}}`. */
  credentialsSecretId: 'ONEIO_CREDENTIALS_SECRET_ID',
  /** Secrets Manager id (name or ARN) of `{"<source>": "<signing secret>"}`. */
  signingSecretsSecretId: 'INBOUND_SIGNING_SECRET_ID',
  /** DynamoDB table holding token, de-duplication and outbox items. */
  tableName: 'RELAY_TABLE_NAME',
  /** JSON object of declared webhook sources: `{"<name>": {"scheme": "…", …}}`. */
  sources: 'RELAY_SOURCES',
  /** Largest accepted inbound body, in bytes (after base64 decoding). */
  maxBodyBytes: 'RELAY_MAX_BODY_BYTES',
  /** How long a delivery id is remembered for de-duplication, in seconds. */
  dedupTtlSeconds: 'RELAY_DEDUP_TTL_SECONDS',
  /** How long the outbox keeps retrying a message before parking it, in seconds. */
  outboxMaxAgeSeconds: 'RELAY_OUTBOX_MAX_AGE_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The single-table layout. Every item has a string partition key; item kinds are told apart by its prefix. */
export const TABLE = {
  partitionKey: 'pk',
  /** DynamoDB TTL attribute, epoch **seconds**. DynamoDB deletes lazily: readers still check expiry themselves. */
  ttlAttribute: 'ttl',
  /** Global secondary indexes; `infra/` and DynamoDB Local both build the table from this list. */
  globalIndexes: [
    // The outbox's queues: `queue` is `outbox#due` or `outbox#parked`, `dueAt` the next attempt (epoch ms). The sweep
    // queries due items oldest first instead of scanning the table.
    {
      name: 'outbox-by-due-time',
      partitionKey: { name: 'queue', type: 'S' },
      sortKey: { name: 'dueAt', type: 'N' },
    },
  ] as ReadonlyArray<{
    readonly name: string;
    readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
    readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  }>,
} as const;

/**
 * Prefix of the function aliases that EventBridge rules naming a ONEiO endpoint invoke: the rules of endpoint
 * `itsm` target the alias `oneio-endpoint-itsm`, and the function reads the endpoint from the alias it was invoked
 * through (the event itself passes untouched). See `infra/oneio-relay.ts`.
 */
export const ENDPOINT_ALIAS_PREFIX = 'oneio-endpoint-';

/** The input the outbox sweep schedule sends to the function (an EventBridge schedule with a constant input). */
export const SWEEP_EVENT = { 'oneio-relay': 'sweep-outbox' } as const;

/** Defaults shared by the function (when a variable is absent) and the stack. */
export const DEFAULTS = {
  /** 256 KiB: with the outbox's other attributes an undeliverable message always fits DynamoDB's 400 KB item. */
  maxBodyBytes: 256 * 1024,
  dedupTtlSeconds: 24 * 3600,
  outboxMaxAgeSeconds: 24 * 3600,
} as const;

/** The largest body the outbox can hold in one DynamoDB item (400 KB) with room for its other attributes. */
export const MAX_BODY_BYTES_LIMIT = 380 * 1024;
