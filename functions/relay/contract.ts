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
  /** Secrets Manager id (name or ARN) of `{"client_id": "…", "client_secret": "…"}`. */
  credentialsSecretId: 'ONEIO_CREDENTIALS_SECRET_ID',
  /** Secrets Manager id (name or ARN) of `{"<source>": "<signing secret>"}`. */
  signingSecretsSecretId: 'INBOUND_SIGNING_SECRET_ID',
  /** DynamoDB table holding token, de-duplication and outbox items. */
  tableName: 'RELAY_TABLE_NAME',
  /** JSON object of declared webhook sources: `{"<name>": {"scheme": "…", …}}`. */
  sources: 'RELAY_SOURCES',
  /** Largest accepted inbound body, in bytes (after base64 decoding). */
  maxBodyBytes: 'RELAY_MAX_BODY_BYTES',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];

/** The single-table layout. Every item has a string partition key; item kinds are told apart by its prefix. */
export const TABLE = {
  partitionKey: 'pk',
  /** DynamoDB TTL attribute, epoch **seconds**. DynamoDB deletes lazily: readers still check expiry themselves. */
  ttlAttribute: 'ttl',
  /** Global secondary indexes; `infra/` and DynamoDB Local both build the table from this list. */
  globalIndexes: [] as ReadonlyArray<{
    readonly name: string;
    readonly partitionKey: { readonly name: string; readonly type: 'S' | 'N' };
    readonly sortKey?: { readonly name: string; readonly type: 'S' | 'N' };
  }>,
} as const;

/** Defaults shared by the function (when a variable is absent) and the stack. */
export const DEFAULTS = {
  maxBodyBytes: 256 * 1024,
} as const;
