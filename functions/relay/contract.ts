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
  /** Most messages per second the outbox sweep sends to ONEiO. */
  drainRatePerSecond: 'RELAY_DRAIN_RATE_PER_SECOND',
  /** Consecutive failed deliveries, fleet-wide, that open the circuit breaker. */
  breakerThreshold: 'RELAY_BREAKER_THRESHOLD',
  /** How long an open breaker waits before the sweep probes ONEiO with one message, in seconds. */
  breakerCoolDownSeconds: 'RELAY_BREAKER_COOL_DOWN_SECONDS',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** A global index of the table, as both `infra/` and DynamoDB Local build it. */
export interface IndexLayout {
  readonly name: string;
  readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
  readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  /** Attributes copied into the index besides the keys; `ALL` copies whole items. @default 'ALL' */
  readonly projection?: 'ALL' | 'KEYS_ONLY' | { readonly include: readonly string[] };
}

/** The single-table layout. Every item has a string partition key; item kinds are told apart by its prefix. */
export const TABLE = {
  partitionKey: 'pk',
  /** DynamoDB TTL attribute, epoch **seconds**. DynamoDB deletes lazily: readers still check expiry themselves. */
  ttlAttribute: 'ttl',
  /**
   * Global secondary indexes; `infra/` and DynamoDB Local both build the table from this list. A deployed index
   * cannot be changed in place, and one deployment may only add or remove one: new layouts get a new index.
   */
  globalIndexes: [
    // Release 1 (still declared so a deployment only adds the index below; the relay writes nothing new to it and
    // its sweep drains what is left): one partition per queue (`queue` = `outbox#due` / `outbox#parked`) holding
    // whole items, bodies included. Remove it once it is empty (README, "Outbox index migration").
    {
      name: 'outbox-by-due-time',
      partitionKey: { name: 'queue', type: 'S' },
      sortKey: { name: 'dueAt', type: 'N' },
      projection: 'ALL',
    },
    // The outbox's queues, sharded: `dueShard` is `due#<n>` or `parked#<n>` (n < OUTBOX_SHARDS, from the relay id),
    // `dueAt` the next attempt or the park time (epoch ms). Only keys and the first-seen time are copied, so adds,
    // claims and reschedules write a few bytes to the index instead of the body, spread over the shards.
    {
      name: 'outbox-due-shards',
      partitionKey: { name: 'dueShard', type: 'S' },
      sortKey: { name: 'dueAt', type: 'N' },
      projection: { include: ['firstSeenAt'] },
    },
  ] as ReadonlyArray<IndexLayout>,
} as const;

/**
 * Shards of each outbox queue in the `outbox-due-shards` index. Readers query shards 0 to N-1, so N may grow in a
 * later release (items already written stay in a shard below it) but must never shrink: items in a dropped shard
 * would never be swept again. `test/outbox/outbox-shards.test.ts` pins the floor.
 */
export const OUTBOX_SHARDS = 8;

/** Store key of the destination's fleet-wide state: ONEiO's backoff, the circuit breaker and an operator's pause. */
export const DESTINATION_KEY = 'destination#oneio-receiver';

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
  /** Modest: a recovering ONEiO gets the backlog at this pace while live traffic is delivered at once. */
  drainRatePerSecond: 10,
  breakerThreshold: 5,
  /** One probe per sweep (once a minute) while ONEiO stays down. */
  breakerCoolDownSeconds: 60,
} as const;

/** Upper bounds of settings, checked by the stack's config validation and again by the function at cold start. */
export const LIMITS = {
  /** The sweep delivers with at most 50 POSTs in flight: more than 100/s would need faster answers than ONEiO gives. */
  drainRatePerSecond: 100,
  breakerThreshold: 100,
  breakerCoolDownSeconds: 3600,
} as const;

/** The largest body the outbox can hold in one DynamoDB item (400 KB) with room for its other attributes. */
export const MAX_BODY_BYTES_LIMIT = 380 * 1024;
