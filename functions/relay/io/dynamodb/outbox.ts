import { gunzipSync, gzipSync } from 'node:zlib';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import type { OutboundMessage } from '../../core/delivery/deliver';
import type { Outbox, OutboxItem } from '../../ports/outbox';
import { conditionalWrite } from './conditional-write';

const PK = TABLE.partitionKey;
const [INDEX] = TABLE.globalIndexes;
if (!INDEX?.sortKey) throw new Error('contract.ts must declare the outbox index with a sort key');
const QUEUE = INDEX.partitionKey.name;
const DUE_AT = INDEX.sortKey.name;
const QUEUES = { due: 'outbox#due', parked: 'outbox#parked' } as const;
/** Who holds a claimed item: the sweep attempt that claimed it; every later transition is conditioned on it. */
const CLAIM_TOKEN = 'claimToken';

/** Bodies above this are stored gzip-compressed when that makes them smaller (JSON usually shrinks 5-10×). */
const COMPRESS_ABOVE_BYTES = 1024;

const key = (relayId: string) => ({ [PK]: `outbox#${relayId}` });

/**
 * {@link Outbox} on the relay table. Items live under `outbox#<relayId>`; the `outbox-by-due-time` index holds two
 * queues (`outbox#due`, `outbox#parked`) sorted by `dueAt`, so the sweep reads due items oldest first with a Query.
 */
export class DynamoDbOutbox implements Outbox {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async add(item: OutboxItem): Promise<void> {
    const outcome = await conditionalWrite(this.client, {
      put: {
        TableName: this.tableName,
        Item: { ...key(item.relayId), kind: 'outbox', ...toAttributes(item) },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
    });
    // Already there under this relay id: another copy of the same EventBridge event kept it first (relay ids of
    // webhooks are random). The message is kept either way.
    if (!outcome.applied && outcome.current === undefined) {
      throw new Error(`Outbox item ${item.relayId} could not be written and is not there`);
    }
  }

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return this.query('due', limit, now);
  }

  async claim(item: OutboxItem, until: number, claimToken: string): Promise<boolean> {
    const outcome = await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: key(item.relayId),
        UpdateExpression: 'SET #dueAt = :until, #claimToken = :claimToken',
        // The index is eventually consistent: the condition on the item itself decides who wins.
        ConditionExpression: '#queue = :due AND #dueAt = :seen',
        ExpressionAttributeNames: { '#dueAt': DUE_AT, '#queue': QUEUE, '#claimToken': CLAIM_TOKEN },
        ExpressionAttributeValues: {
          ':until': until,
          ':claimToken': claimToken,
          ':due': QUEUES.due,
          ':seen': item.dueAt,
        },
      },
    });
    return outcome.applied;
  }

  async remove(relayId: string, claimToken: string): Promise<boolean> {
    const outcome = await conditionalWrite(this.client, {
      delete: {
        TableName: this.tableName,
        Key: key(relayId),
        ConditionExpression: '#claimToken = :claimToken',
        ExpressionAttributeNames: { '#claimToken': CLAIM_TOKEN },
        ExpressionAttributeValues: { ':claimToken': claimToken },
      },
    });
    // Gone already (our own earlier attempt, or an operator's purge) is what a delivered item should be.
    return outcome.applied || outcome.current === undefined;
  }

  async reschedule(
    relayId: string,
    claimToken: string,
    update: { attempts: number; retries: number; dueAt: number; lastError: string },
  ): Promise<boolean> {
    return this.transition(relayId, claimToken, {
      state: 'due',
      [QUEUE]: QUEUES.due,
      [DUE_AT]: update.dueAt,
      attempts: update.attempts,
      retries: update.retries,
      lastError: update.lastError,
    });
  }

  async park(
    relayId: string,
    claimToken: string,
    update: { attempts: number; parkedAt: number; lastError: string },
  ): Promise<boolean> {
    return this.transition(relayId, claimToken, {
      state: 'parked',
      [QUEUE]: QUEUES.parked,
      [DUE_AT]: update.parkedAt,
      attempts: update.attempts,
      lastError: update.lastError,
    });
  }

  async get(relayId: string): Promise<OutboxItem | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key(relayId), ConsistentRead: true }),
    );
    return Item ? fromAttributes(Item) : undefined;
  }

  async list(state: 'due' | 'parked', limit: number): Promise<OutboxItem[]> {
    return this.query(state, limit);
  }

  async count(state: 'due' | 'parked', max: number, deadline = Number.POSITIVE_INFINITY): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: INDEX?.name,
          KeyConditionExpression: '#queue = :queue',
          ExpressionAttributeNames: { '#queue': QUEUE },
          ExpressionAttributeValues: { ':queue': QUEUES[state] },
          Select: 'COUNT',
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      total += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && total < max && Date.now() < deadline);
    return Math.min(total, max);
  }

  async redrive(relayId: string, now: number): Promise<boolean> {
    const outcome = await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: key(relayId),
        UpdateExpression:
          'SET #state = :due, #queue = :dueQueue, #dueAt = :now, firstSeenAt = :now, retries = :zero',
        ConditionExpression: '#state = :parked',
        ExpressionAttributeNames: { '#state': 'state', '#queue': QUEUE, '#dueAt': DUE_AT },
        ExpressionAttributeValues: {
          ':due': 'due',
          ':dueQueue': QUEUES.due,
          ':now': now,
          ':zero': 0,
          ':parked': 'parked',
        },
      },
    });
    return outcome.applied;
  }

  async purge(relayId: string): Promise<boolean> {
    const outcome = await conditionalWrite(this.client, {
      delete: {
        TableName: this.tableName,
        Key: key(relayId),
        ConditionExpression: 'attribute_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      },
    });
    return outcome.applied;
  }

  /**
   * Sets `changes` on a claimed item and gives the claim up, only while the claim is still `claimToken`'s: a sweep
   * that overran its claim must not undo what the next holder did, and a purged item must not come back.
   */
  private async transition(
    relayId: string,
    claimToken: string,
    changes: Readonly<Record<string, unknown>>,
  ): Promise<boolean> {
    const names: Record<string, string> = { '#claimToken': CLAIM_TOKEN };
    const values: Record<string, unknown> = { ':claimToken': claimToken };
    const assignments = Object.entries(changes).map(([name, value], i) => {
      names[`#a${i}`] = name;
      values[`:a${i}`] = value;
      return `#a${i} = :a${i}`;
    });
    const outcome = await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: key(relayId),
        UpdateExpression: `SET ${assignments.join(', ')} REMOVE #claimToken`,
        ConditionExpression: '#claimToken = :claimToken',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
    return outcome.applied;
  }

  private async query(state: 'due' | 'parked', limit: number, dueBy?: number): Promise<OutboxItem[]> {
    const { Items = [] } = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: INDEX?.name,
        KeyConditionExpression:
          dueBy === undefined ? '#queue = :queue' : '#queue = :queue AND #dueAt <= :dueBy',
        ExpressionAttributeNames: { '#queue': QUEUE, ...(dueBy !== undefined && { '#dueAt': DUE_AT }) },
        ExpressionAttributeValues: {
          ':queue': QUEUES[state],
          ...(dueBy !== undefined && { ':dueBy': dueBy }),
        },
        ScanIndexForward: true,
        Limit: limit,
      }),
    );
    return Items.map(fromAttributes);
  }
}

function toAttributes(item: OutboxItem): Record<string, unknown> {
  const raw = Buffer.from(item.body, 'utf8');
  const compressed = raw.length > COMPRESS_ABOVE_BYTES ? gzipSync(raw) : undefined;
  const payload =
    compressed && compressed.length < raw.length
      ? { payload: compressed, encoding: 'gzip' }
      : { payload: item.body, encoding: 'identity' };
  return {
    relayId: item.relayId,
    source: item.source,
    deliveryId: item.deliveryId,
    state: item.state,
    [QUEUE]: QUEUES[item.state],
    [DUE_AT]: item.dueAt,
    attempts: item.attempts,
    retries: item.retries,
    firstSeenAt: item.firstSeenAt,
    lastError: item.lastError,
    ...payload,
    ...messageAttributes(item),
  };
}

/**
 * What ONEiO is to receive besides the body, so every retry sends the same URL, headers and token pair. Absent
 * values are left out: an item keeps the shape it had before these fields existed.
 */
function messageAttributes(item: OutboxItem): Record<string, unknown> {
  return {
    receivedAt: item.receivedAt,
    ...(item.forwardedHeaders !== undefined &&
      Object.keys(item.forwardedHeaders).length > 0 && { forwardedHeaders: { ...item.forwardedHeaders } }),
    ...(item.query !== undefined && item.query !== '' && { query: item.query }),
    ...(item.oneioEndpoint !== undefined && { oneioEndpoint: item.oneioEndpoint }),
    ...(item.envelope === true && { envelope: true }),
  };
}

/** The message fields of an item; an item written before they existed was received when first seen. */
function messageFields(
  attributes: Record<string, unknown>,
): Omit<OutboundMessage, 'relayId' | 'source' | 'deliveryId' | 'body'> {
  const headers = attributes.forwardedHeaders;
  const stringHeaders =
    typeof headers === 'object' && headers !== null
      ? Object.entries(headers).filter((entry): entry is [string, string] => typeof entry[1] === 'string')
      : [];
  return {
    receivedAt: Number(attributes.receivedAt ?? attributes.firstSeenAt ?? 0),
    ...(stringHeaders.length > 0 && { forwardedHeaders: Object.fromEntries(stringHeaders) }),
    ...(typeof attributes.query === 'string' && attributes.query !== '' && { query: attributes.query }),
    ...(typeof attributes.oneioEndpoint === 'string' && { oneioEndpoint: attributes.oneioEndpoint }),
    ...(attributes.envelope === true && { envelope: true }),
  };
}

function fromAttributes(attributes: Record<string, unknown>): OutboxItem {
  const payload = attributes.payload;
  const body =
    attributes.encoding === 'gzip' && payload instanceof Uint8Array
      ? gunzipSync(payload).toString('utf8')
      : String(payload ?? '');
  return {
    relayId: String(attributes.relayId),
    source: String(attributes.source),
    deliveryId: String(attributes.deliveryId),
    body,
    state: attributes.state === 'parked' ? 'parked' : 'due',
    attempts: Number(attributes.attempts ?? 0),
    retries: Number(attributes.retries ?? 0),
    firstSeenAt: Number(attributes.firstSeenAt ?? 0),
    dueAt: Number(attributes[DUE_AT] ?? 0),
    lastError: String(attributes.lastError ?? ''),
    ...messageFields(attributes),
  };
}
