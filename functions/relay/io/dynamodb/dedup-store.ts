import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import type { DedupClaim, DedupClaimRequest, DedupState, DedupStore } from '../../ports/dedup-store';
import { conditionalWrite } from './conditional-write';

const PK = TABLE.partitionKey;

/** {@link DedupStore} on the relay table: one item per (source, delivery id), expiring by TTL. */
export class DynamoDbDedupStore implements DedupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(key: string, claim: DedupClaimRequest): Promise<DedupClaim> {
    // Two rounds at most: the record we collided with may be released between our write and DynamoDB's answer.
    for (let round = 0; round < 2; round++) {
      const outcome = await conditionalWrite(this.client, {
        put: {
          TableName: this.tableName,
          Item: {
            [PK]: key,
            kind: 'dedup',
            state: 'in_progress',
            relayId: claim.relayId,
            claimToken: claim.claimToken,
            lapseAt: claim.lapseAt,
            [TABLE.ttlAttribute]: Math.ceil(claim.now / 1000) + claim.ttlSeconds,
          },
          // Absent, expired but not yet deleted by TTL, or an in-progress claim of an attempt that has died.
          ConditionExpression:
            'attribute_not_exists(#pk) OR #ttl < :nowSeconds OR (#state = :inProgress AND #lapseAt < :now)',
          ExpressionAttributeNames: {
            '#pk': PK,
            '#ttl': TABLE.ttlAttribute,
            '#state': 'state',
            '#lapseAt': 'lapseAt',
          },
          ExpressionAttributeValues: {
            ':nowSeconds': Math.floor(claim.now / 1000),
            ':inProgress': 'in_progress',
            ':now': claim.now,
          },
        },
      });
      if (outcome.applied) return { status: 'claimed' };
      const item = outcome.current;
      if (item && typeof item.relayId === 'string' && isState(item.state)) {
        return { status: 'duplicate', state: item.state, relayId: item.relayId };
      }
    }
    throw new Error('De-duplication record changed twice while it was being claimed');
  }

  async complete(key: string, claimToken: string, state: 'delivered' | 'queued'): Promise<void> {
    // A claim taken over by a later attempt is no longer ours to change: the lost condition is the answer. A retry
    // of an applied completion still finds our token and applies again, unchanged.
    await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: { [PK]: key },
        UpdateExpression: 'SET #state = :state REMOVE #lapseAt',
        ConditionExpression: '#claimToken = :claimToken',
        ExpressionAttributeNames: { '#state': 'state', '#lapseAt': 'lapseAt', '#claimToken': 'claimToken' },
        ExpressionAttributeValues: { ':state': state, ':claimToken': claimToken },
      },
    });
  }

  async release(key: string, claimToken: string): Promise<void> {
    // Not ours any more, or already gone (our own earlier attempt, or the TTL): either way there is nothing to undo.
    await conditionalWrite(this.client, {
      delete: {
        TableName: this.tableName,
        Key: { [PK]: key },
        ConditionExpression: '#claimToken = :claimToken AND #state = :inProgress',
        ExpressionAttributeNames: { '#claimToken': 'claimToken', '#state': 'state' },
        ExpressionAttributeValues: { ':claimToken': claimToken, ':inProgress': 'in_progress' },
      },
    });
  }
}

function isState(value: unknown): value is DedupState {
  return value === 'in_progress' || value === 'delivered' || value === 'queued';
}
