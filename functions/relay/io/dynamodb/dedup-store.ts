import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import type { DedupClaim, DedupState, DedupStore } from '../../ports/dedup-store';
import { conditionalWrite } from './conditional-write';

const PK = TABLE.partitionKey;
const NAMES = {
  '#pk': PK,
  '#state': 'state',
  '#relayId': 'relayId',
  '#lapseAt': 'lapseAt',
  '#ttl': TABLE.ttlAttribute,
};

/** {@link DedupStore} on the relay table: one item per (source, delivery id), expiring by TTL. */
export class DynamoDbDedupStore implements DedupStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async claim(
    key: string,
    claim: { relayId: string; now: number; lapseAt: number; ttlSeconds: number },
  ): Promise<DedupClaim> {
    // Two rounds at most: the record we collided with may be released between our write and our read.
    for (let round = 0; round < 2; round++) {
      const claimed = await conditionalWrite(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              [PK]: key,
              kind: 'dedup',
              state: 'in_progress',
              relayId: claim.relayId,
              lapseAt: claim.lapseAt,
              [TABLE.ttlAttribute]: Math.ceil(claim.now / 1000) + claim.ttlSeconds,
            },
            // Absent, expired but not yet deleted by TTL, or an in-progress claim of an attempt that has died.
            ConditionExpression:
              'attribute_not_exists(#pk) OR #ttl < :nowSeconds OR (#state = :inProgress AND #lapseAt < :now)',
            ExpressionAttributeNames: {
              '#pk': NAMES['#pk'],
              '#ttl': NAMES['#ttl'],
              '#state': NAMES['#state'],
              '#lapseAt': NAMES['#lapseAt'],
            },
            ExpressionAttributeValues: {
              ':nowSeconds': Math.floor(claim.now / 1000),
              ':inProgress': 'in_progress',
              ':now': claim.now,
            },
          }),
        ),
      );
      if (claimed) return { status: 'claimed' };
      const { Item: item } = await this.client.send(
        new GetCommand({ TableName: this.tableName, Key: { [PK]: key }, ConsistentRead: true }),
      );
      if (item && typeof item.relayId === 'string' && isState(item.state)) {
        return { status: 'duplicate', state: item.state, relayId: item.relayId };
      }
    }
    throw new Error('De-duplication record changed twice while it was being claimed');
  }

  async complete(key: string, relayId: string, state: 'delivered' | 'queued'): Promise<void> {
    // A claim taken over by a later attempt is no longer ours to change: the lost condition is the answer.
    await conditionalWrite(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { [PK]: key },
          UpdateExpression: 'SET #state = :state REMOVE #lapseAt',
          ConditionExpression: '#relayId = :relayId',
          ExpressionAttributeNames: {
            '#state': NAMES['#state'],
            '#lapseAt': NAMES['#lapseAt'],
            '#relayId': NAMES['#relayId'],
          },
          ExpressionAttributeValues: { ':state': state, ':relayId': relayId },
        }),
      ),
    );
  }

  async release(key: string, relayId: string): Promise<void> {
    // A claim taken over by a later attempt is no longer ours to change: the lost condition is the answer.
    await conditionalWrite(() =>
      this.client.send(
        new DeleteCommand({
          TableName: this.tableName,
          Key: { [PK]: key },
          ConditionExpression: '#relayId = :relayId AND #state = :inProgress',
          ExpressionAttributeNames: { '#relayId': NAMES['#relayId'], '#state': NAMES['#state'] },
          ExpressionAttributeValues: { ':relayId': relayId, ':inProgress': 'in_progress' },
        }),
      ),
    );
  }
}

function isState(value: unknown): value is DedupState {
  return value === 'in_progress' || value === 'delivered' || value === 'queued';
}
