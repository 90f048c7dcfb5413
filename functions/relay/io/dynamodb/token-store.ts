import { type DynamoDBDocumentClient, GetCommand, type UpdateCommandInput } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import { ttlSeconds } from '../../core/token/token-policy';
import {
  type SharedToken,
  type TokenLease,
  type TokenRecord,
  type TokenStore,
  TokenStoreUnavailableError,
} from '../../ports/token-store';
import { errorCode } from '../error-code';
import { conditionalWrite } from './conditional-write';

const PK = TABLE.partitionKey;

/** Attribute names are always aliased: `ttl` and friends collide with DynamoDB reserved words. */
const NAMES = {
  '#pk': PK,
  '#token': 'accessToken',
  '#issuedAt': 'issuedAt',
  '#expiresAt': 'expiresAt',
  '#version': 'version',
  '#leaseOwner': 'leaseOwner',
  '#leaseUntil': 'leaseUntil',
  '#ttl': TABLE.ttlAttribute,
} as const;

function pick<K extends keyof typeof NAMES>(...keys: K[]): Pick<typeof NAMES, K> {
  return Object.fromEntries(keys.map((k) => [k, NAMES[k]])) as Pick<typeof NAMES, K>;
}

/**
 * {@link TokenStore} on the relay's DynamoDB table: one item per token key holding the token and the refresh lease.
 * Lost conditions resolve `false`; anything else (network, throttling after the SDK's retries, missing table)
 * becomes {@link TokenStoreUnavailableError}, on which the caller degrades to a per-instance token.
 */
export class DynamoDbTokenStore implements TokenStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(key: string, options: { consistent: boolean }): Promise<TokenRecord | undefined> {
    const { Item: item } = await this.call(() =>
      this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [PK]: key }, ConsistentRead: options.consistent }),
      ),
    );
    if (!item) return undefined;
    const token =
      typeof item.accessToken === 'string' &&
      typeof item.expiresAt === 'number' &&
      typeof item.version === 'string'
        ? {
            accessToken: item.accessToken,
            issuedAt: typeof item.issuedAt === 'number' ? item.issuedAt : 0,
            expiresAt: item.expiresAt,
            version: item.version,
          }
        : undefined;
    const lease =
      typeof item.leaseOwner === 'string' && typeof item.leaseUntil === 'number'
        ? { owner: item.leaseOwner, until: item.leaseUntil }
        : undefined;
    return { ...(token && { token }), ...(lease && { lease }) };
  }

  async tryAcquireLease(
    key: string,
    lease: TokenLease,
    now: number,
    readVersion: string | undefined,
  ): Promise<boolean> {
    return this.conditional({
      TableName: this.tableName,
      Key: { [PK]: key },
      UpdateExpression: 'SET #leaseOwner = :owner, #leaseUntil = :until, #ttl = :ttl',
      // The lease is free (or already ours: an SDK retry of this very write), and nobody published a token since the
      // caller read the item.
      ConditionExpression:
        '(attribute_not_exists(#leaseUntil) OR #leaseUntil <= :now OR #leaseOwner = :owner) AND ' +
        (readVersion === undefined ? 'attribute_not_exists(#version)' : '#version = :readVersion'),
      ExpressionAttributeNames: pick('#leaseOwner', '#leaseUntil', '#ttl', '#version'),
      ExpressionAttributeValues: {
        ':owner': lease.owner,
        ':until': lease.until,
        ':now': now,
        ':ttl': ttlSeconds(lease.until),
        ...(readVersion !== undefined && { ':readVersion': readVersion }),
      },
    });
  }

  async publish(key: string, owner: string, token: SharedToken): Promise<boolean> {
    return this.conditional({
      TableName: this.tableName,
      Key: { [PK]: key },
      UpdateExpression:
        'SET #token = :token, #issuedAt = :issuedAt, #expiresAt = :expiresAt, #version = :version, #ttl = :ttl ' +
        'REMOVE #leaseOwner, #leaseUntil',
      // Fencing: a refresher whose lease was taken over must not overwrite the newer holder's token.
      ConditionExpression: '#leaseOwner = :owner',
      ExpressionAttributeNames: pick(
        '#token',
        '#issuedAt',
        '#expiresAt',
        '#version',
        '#ttl',
        '#leaseOwner',
        '#leaseUntil',
      ),
      ExpressionAttributeValues: {
        ':token': token.accessToken,
        ':issuedAt': token.issuedAt,
        ':expiresAt': token.expiresAt,
        ':version': token.version,
        ':ttl': ttlSeconds(token.expiresAt),
        ':owner': owner,
      },
    });
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    await this.conditional({
      TableName: this.tableName,
      Key: { [PK]: key },
      UpdateExpression: 'REMOVE #leaseOwner, #leaseUntil',
      ConditionExpression: '#leaseOwner = :owner',
      ExpressionAttributeNames: pick('#leaseOwner', '#leaseUntil'),
      ExpressionAttributeValues: { ':owner': owner },
    });
  }

  async invalidate(key: string, version: string): Promise<boolean> {
    return this.conditional({
      TableName: this.tableName,
      Key: { [PK]: key },
      UpdateExpression: 'SET #issuedAt = :zero, #expiresAt = :zero',
      // Only the token that failed: an instance holding an older token must not discard a newer one.
      ConditionExpression: '#version = :version',
      ExpressionAttributeNames: pick('#issuedAt', '#expiresAt', '#version'),
      ExpressionAttributeValues: { ':zero': 0, ':version': version },
    });
  }

  /**
   * A conditional update: `false` when its condition did not hold (an applied write whose answer was lost counts
   * as applied); an unreachable store still throws.
   */
  private async conditional(update: UpdateCommandInput): Promise<boolean> {
    const outcome = await this.call(() => conditionalWrite(this.client, { update }));
    return outcome.applied;
  }

  private async call<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw new TokenStoreUnavailableError(`DynamoDB call failed: ${errorCode(error)}`, { cause: error });
    }
  }
}
