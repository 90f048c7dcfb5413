import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import {
  CLEAR_STATE,
  type DestinationState,
  type DestinationStore,
  type Pause,
} from '../../ports/destination-store';
import { conditionalWrite, NOT_APPLIED_YET, type WriteOutcome } from './conditional-write';

const PK = TABLE.partitionKey;

/**
 * {@link DestinationStore} on the relay table: one item per destination key holding `notBefore`, the failure count,
 * the breaker (`openedAt`, `openUntil`, `probeOwner`, `probeUntil`) and the pause (`pausedAt`, `pausedUntil`,
 * `pausedBy`, `pauseReason`). No TTL: the item is a handful of attributes and must outlive any pause.
 */
export class DynamoDbDestinationStore implements DestinationStore {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async read(key: string): Promise<DestinationState> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: { [PK]: key }, ConsistentRead: true }),
    );
    return toState(Item);
  }

  async extendNotBefore(key: string, until: number): Promise<{ state: DestinationState; extended: boolean }> {
    const outcome = await this.update(key, {
      set: { notBefore: until },
      condition: 'attribute_not_exists(#notBefore) OR #notBefore < :notBefore',
    });
    return { state: stateOf(outcome), extended: outcome.applied };
  }

  async recordFailure(
    key: string,
    policy: { now: number; threshold: number; coolDownMs: number },
  ): Promise<{ state: DestinationState; opened: boolean }> {
    // An atomic increment: a fleet failing at once counts every failure without a conflict to retry.
    const counted = stateOf(await this.update(key, { add: { failures: 1 }, condition: NOT_APPLIED_YET }));
    if (counted.failures < policy.threshold || counted.breaker !== undefined) {
      return { state: counted, opened: false };
    }
    // Of every instance that saw the count reach the threshold, the first one opens it, and only while the count
    // still stands there: a success elsewhere in between reset it, and ONEiO is answering again.
    const outcome = await this.update(key, {
      set: { openedAt: policy.now, openUntil: policy.now + policy.coolDownMs },
      condition: 'attribute_not_exists(#openedAt) AND #failures >= :threshold',
      values: { ':threshold': policy.threshold },
    });
    return { state: stateOf(outcome), opened: outcome.applied };
  }

  async resetFailures(key: string): Promise<DestinationState> {
    const outcome = await this.update(key, {
      set: { failures: 0 },
      condition: '#failures > :zero',
      values: { ':zero': 0 },
    });
    return stateOf(outcome);
  }

  async acquireProbe(key: string, probe: { owner: string; now: number; until: number }): Promise<boolean> {
    const outcome = await this.update(key, {
      set: { probeOwner: probe.owner, probeUntil: probe.until },
      condition:
        'attribute_exists(#openedAt) AND #openUntil <= :now AND (attribute_not_exists(#probeUntil) OR #probeUntil < :now)' +
        ' AND (attribute_not_exists(#notBefore) OR #notBefore <= :now)',
      values: { ':now': probe.now },
    });
    return outcome.applied;
  }

  async endProbe(
    key: string,
    owner: string,
    result: { close: true } | { reopenUntil: number },
  ): Promise<boolean> {
    const outcome = await this.update(key, {
      set: 'close' in result ? { failures: 0 } : { openUntil: result.reopenUntil },
      remove: [...('close' in result ? ['openedAt', 'openUntil'] : []), 'probeOwner', 'probeUntil'],
      condition: '#probeOwner = :owner',
      values: { ':owner': owner },
    });
    return outcome.applied;
  }

  async pause(key: string, pause: Pause): Promise<void> {
    await this.update(key, {
      set: {
        pausedAt: pause.at,
        pausedBy: pause.by,
        ...(pause.until !== undefined && { pausedUntil: pause.until }),
        ...(pause.reason !== undefined && { pauseReason: pause.reason }),
      },
      remove: [
        ...(pause.until === undefined ? ['pausedUntil'] : []),
        ...(pause.reason === undefined ? ['pauseReason'] : []),
      ],
    });
  }

  async resume(key: string): Promise<Pause | undefined> {
    // Two rounds: an operator may pause again between our read and our write; that newer pause is the one ended.
    for (let round = 0; round < 2; round++) {
      const { pause } = await this.read(key);
      if (pause === undefined) return undefined;
      const outcome = await this.update(key, {
        remove: ['pausedAt', 'pausedUntil', 'pausedBy', 'pauseReason'],
        condition: '#pausedAt = :seenAt',
        values: { ':seenAt': pause.at },
      });
      if (outcome.applied) return pause;
    }
    throw new Error('The pause changed twice while it was being ended; run resume again');
  }

  /**
   * One conditional update of the destination item, returning the item as written. Attribute names are always
   * aliased (`#name`, found in the condition too); DynamoDB refuses a declared name or value nothing uses.
   */
  private update(
    key: string,
    change: {
      set?: Readonly<Record<string, unknown>>;
      add?: Readonly<Record<string, number>>;
      remove?: readonly string[];
      condition?: string;
      values?: Readonly<Record<string, unknown>>;
    },
  ): Promise<WriteOutcome> {
    const set = { kind: 'destination', ...change.set };
    const add = change.add ?? {};
    const names = new Set([...Object.keys(set), ...Object.keys(add), ...(change.remove ?? [])]);
    // conditionalWrite declares its own write id placeholder.
    for (const match of (change.condition ?? '').matchAll(/#(\w+)/g)) {
      if (match[1] && match[1] !== 'relayWriteId') names.add(match[1]);
    }
    const remove = change.remove ?? [];
    return conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: { [PK]: key },
        UpdateExpression: [
          `SET ${Object.keys(set)
            .map((name) => `#${name} = :${name}`)
            .join(', ')}`,
          ...(Object.keys(add).length > 0
            ? [
                `ADD ${Object.keys(add)
                  .map((name) => `#${name} :add_${name}`)
                  .join(', ')}`,
              ]
            : []),
          ...(remove.length > 0 ? [`REMOVE ${remove.map((name) => `#${name}`).join(', ')}`] : []),
        ].join(' '),
        ...(change.condition !== undefined && { ConditionExpression: change.condition }),
        ExpressionAttributeNames: Object.fromEntries([...names].map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: {
          ...Object.fromEntries(Object.entries(set).map(([name, value]) => [`:${name}`, value])),
          ...Object.fromEntries(Object.entries(add).map(([name, value]) => [`:add_${name}`, value])),
          ...change.values,
        },
        ReturnValues: 'ALL_NEW',
      },
    });
  }
}

/** The state after a write: as written when applied, as found when its condition did not hold. */
function stateOf(outcome: WriteOutcome): DestinationState {
  return toState(outcome.applied ? outcome.item : outcome.current);
}

function toState(item: Readonly<Record<string, unknown>> | undefined): DestinationState {
  if (item === undefined) return CLEAR_STATE;
  const number = (name: string) => (typeof item[name] === 'number' ? (item[name] as number) : undefined);
  const text = (name: string) => (typeof item[name] === 'string' ? (item[name] as string) : undefined);
  const openedAt = number('openedAt');
  const pausedAt = number('pausedAt');
  const probeOwner = text('probeOwner');
  const probeUntil = number('probeUntil');
  const pausedUntil = number('pausedUntil');
  const reason = text('pauseReason');
  return {
    notBefore: number('notBefore') ?? 0,
    failures: number('failures') ?? 0,
    ...(openedAt !== undefined && {
      breaker: {
        openedAt,
        openUntil: number('openUntil') ?? openedAt,
        ...(probeOwner !== undefined &&
          probeUntil !== undefined && { probe: { owner: probeOwner, until: probeUntil } }),
      },
    }),
    ...(pausedAt !== undefined && {
      pause: {
        at: pausedAt,
        by: text('pausedBy') ?? 'unknown',
        ...(pausedUntil !== undefined && { until: pausedUntil }),
        ...(reason !== undefined && { reason }),
      },
    }),
  };
}
