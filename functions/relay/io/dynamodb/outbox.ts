import { setTimeout as sleep } from 'node:timers/promises';
import { gunzipSync, gzipSync } from 'node:zlib';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { TABLE } from '../../contract';
import type { OutboundMessage } from '../../core/delivery/deliver';
import type { Outbox, OutboxItem, QueuedEntry, QueueSummary } from '../../ports/outbox';
import { conditionalWrite } from './conditional-write';
import { checkShardCount, outboxShard, shardPartition } from './outbox-shards';

const PK = TABLE.partitionKey;
const KEY_PREFIX = 'outbox#';

/** Finds an index of the contract's layout by name; the module fails to load rather than query a wrong one. */
function indexNamed(name: string) {
  const index = TABLE.globalIndexes.find((candidate) => candidate.name === name);
  if (!index?.sortKey) throw new Error(`contract.ts must declare the index ${name} with a sort key`);
  return { name: index.name, partitionKey: index.partitionKey.name, sortKey: index.sortKey.name };
}

/** Current layout: each queue sharded, keys and first-seen time only. */
const SHARDED = indexNamed('outbox-due-shards');
/** Layout of the first release: one partition per queue, whole items. Read and emptied, never written. */
const LEGACY = indexNamed('outbox-by-due-time');
const DUE_SHARD = SHARDED.partitionKey;
const DUE_AT = SHARDED.sortKey;
const LEGACY_QUEUE = LEGACY.partitionKey;
const LEGACY_QUEUES = { due: 'outbox#due', parked: 'outbox#parked' } as const;
if (LEGACY.sortKey !== DUE_AT)
  throw new Error('Both outbox indexes must sort on the same due-time attribute');

/** Who holds a claimed item: the sweep attempt that claimed it; every later transition is conditioned on it. */
const CLAIM_TOKEN = 'claimToken';
/** Bodies above this are stored gzip-compressed when that makes them smaller (JSON usually shrinks 5-10×). */
const COMPRESS_ABOVE_BYTES = 1024;
/** BatchGetItem takes at most 100 keys per request. */
const BATCH_GET_MAX = 100;
/** Retries of keys DynamoDB left unprocessed (throttling), with a doubling pause from the first one. */
const UNPROCESSED_RETRIES = 5;
const UNPROCESSED_FIRST_PAUSE_MS = 50;
/** Legacy items moved per sweep at most: the sweep's own work comes first. */
const UPGRADE_BATCH = 100;

const key = (relayId: string) => ({ [PK]: `${KEY_PREFIX}${relayId}` });

export interface DynamoDbOutboxOptions {
  /** Shards per queue. @default OUTBOX_SHARDS from contract.ts; tests vary it to show growing never strands items */
  readonly shards?: number;
}

/**
 * {@link Outbox} on the relay table. Items live under `outbox#<relayId>`. The `outbox-due-shards` index holds each
 * queue (due, parked) in {@link OUTBOX_SHARDS} partitions (`due#<n>`, `parked#<n>`, n from the relay id) sorted by
 * `dueAt`, with only keys and the first-seen time copied: adds, claims and reschedules write a few bytes to the index
 * and spread over its partitions, and the sweep reads due items oldest first by querying every shard and merging.
 * Bodies are read only with the claim that wins an item (the update returns it) or by an operator's list.
 *
 * Items of the first release's layout (`queue` = `outbox#due` / `outbox#parked` in `outbox-by-due-time`) are read
 * as well; any claim, transition or redrive rewrites an item into the current layout, and {@link upgradeLayout}
 * moves the rest, so the old index empties without an operator.
 */
export class DynamoDbOutbox implements Outbox {
  private readonly shards: number;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    options: DynamoDbOutboxOptions = {},
  ) {
    this.shards = checkShardCount(options.shards);
  }

  async add(item: OutboxItem): Promise<void> {
    const outcome = await conditionalWrite(this.client, {
      put: {
        TableName: this.tableName,
        Item: { ...key(item.relayId), kind: 'outbox', ...this.toAttributes(item) },
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

  async due(now: number, limit: number): Promise<QueuedEntry[]> {
    return this.queued('due', limit, now);
  }

  async claim(entry: QueuedEntry, until: number, claimToken: string): Promise<OutboxItem | undefined> {
    const outcome = await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: key(entry.relayId),
        UpdateExpression: 'SET #dueAt = :until, #claimToken = :claimToken, #dueShard = :shard REMOVE #queue',
        // The index is eventually consistent: the condition on the item itself decides who wins.
        ConditionExpression: '#state = :due AND #dueAt = :seen',
        ExpressionAttributeNames: {
          '#dueAt': DUE_AT,
          '#state': 'state',
          '#claimToken': CLAIM_TOKEN,
          '#dueShard': DUE_SHARD,
          '#queue': LEGACY_QUEUE,
        },
        ExpressionAttributeValues: {
          ':until': until,
          ':claimToken': claimToken,
          ':shard': this.partition('due', entry.relayId),
          ':due': 'due',
          ':seen': entry.dueAt,
        },
        // The winner gets the body with its claim: no second read, and never a body older than the claim.
        ReturnValues: 'ALL_NEW',
      },
    });
    if (!outcome.applied) return undefined;
    return outcome.item ? fromAttributes(outcome.item) : this.get(entry.relayId);
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
      [DUE_SHARD]: this.partition('due', relayId),
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
      [DUE_SHARD]: this.partition('parked', relayId),
      [DUE_AT]: update.parkedAt,
      attempts: update.attempts,
      lastError: update.lastError,
    });
  }

  /** Operator call (the function never reads whole items by key outside a claim). */
  async get(relayId: string): Promise<OutboxItem | undefined> {
    const { Item } = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: key(relayId), ConsistentRead: true }),
    );
    return Item ? fromAttributes(Item) : undefined;
  }

  /** Operator call: the queue's entries from the index, then the items by key (BatchGetItem). */
  async list(state: 'due' | 'parked', limit: number): Promise<OutboxItem[]> {
    const entries = await this.queued(state, limit);
    const items = await this.batchGet(entries.map((entry) => entry.relayId));
    // Kept in queue order; an item delivered or purged between the two reads is left out.
    return entries.flatMap((entry) => {
      const item = items.get(entry.relayId);
      return item ? [item] : [];
    });
  }

  async count(state: 'due' | 'parked', max: number, deadline = Number.POSITIVE_INFINITY): Promise<number> {
    let total = 0;
    for (const partition of this.partitions(state)) {
      total += await this.countPartition(partition, max - total, deadline);
      if (total >= max || Date.now() >= deadline) break;
    }
    return Math.min(total, max);
  }

  async summary(state: 'due' | 'parked', max: number): Promise<QueueSummary> {
    let items = 0;
    let oldestFirstSeenAt: number | undefined;
    let earliestDueAt: number | undefined;
    for (const partition of this.partitions(state)) {
      await this.eachPage(partition, { projection: true }, (page) => {
        for (const entry of page) {
          if (items >= max) return false;
          items++;
          oldestFirstSeenAt = Math.min(oldestFirstSeenAt ?? entry.firstSeenAt, entry.firstSeenAt);
          earliestDueAt = Math.min(earliestDueAt ?? entry.dueAt, entry.dueAt);
        }
        return items < max;
      });
      if (items >= max) break;
    }
    return {
      items,
      ...(oldestFirstSeenAt !== undefined && { oldestFirstSeenAt }),
      ...(earliestDueAt !== undefined && { earliestDueAt }),
    };
  }

  async redrive(relayId: string, now: number): Promise<boolean> {
    const outcome = await conditionalWrite(this.client, {
      update: {
        TableName: this.tableName,
        Key: key(relayId),
        UpdateExpression:
          'SET #state = :due, #dueShard = :shard, #dueAt = :now, firstSeenAt = :now, retries = :zero REMOVE #queue',
        ConditionExpression: '#state = :parked',
        ExpressionAttributeNames: {
          '#state': 'state',
          '#dueShard': DUE_SHARD,
          '#dueAt': DUE_AT,
          '#queue': LEGACY_QUEUE,
        },
        ExpressionAttributeValues: {
          ':due': 'due',
          ':shard': this.partition('due', relayId),
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
   * Moves items still in the first release's layout (found in `outbox-by-due-time`) into the sharded one, each with
   * a write conditioned on the item being as read and unclaimed: an older version's sweep holding it finishes first,
   * and the next run moves it. Due items are also moved by any claim; this reaches those due hours from now and the
   * parked ones.
   */
  async upgradeLayout(deadline: number): Promise<number> {
    let moved = 0;
    for (const state of ['due', 'parked'] as const) {
      const { Items = [] } = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: LEGACY.name,
          KeyConditionExpression: '#queue = :queue',
          ProjectionExpression: '#pk, #queue, #dueAt, #claimToken',
          ExpressionAttributeNames: {
            '#pk': PK,
            '#queue': LEGACY_QUEUE,
            '#dueAt': DUE_AT,
            '#claimToken': CLAIM_TOKEN,
          },
          ExpressionAttributeValues: { ':queue': LEGACY_QUEUES[state] },
          Limit: UPGRADE_BATCH,
        }),
      );
      for (const item of Items) {
        if (Date.now() >= deadline || moved >= UPGRADE_BATCH) break;
        if (item[CLAIM_TOKEN] !== undefined) continue;
        const relayId = String(item[PK]).slice(KEY_PREFIX.length);
        const outcome = await conditionalWrite(this.client, {
          update: {
            TableName: this.tableName,
            Key: key(relayId),
            UpdateExpression: 'SET #dueShard = :shard REMOVE #queue',
            ConditionExpression:
              '#queue = :queue AND #dueAt = :seen AND #state = :state AND attribute_not_exists(#claimToken)',
            ExpressionAttributeNames: {
              '#dueShard': DUE_SHARD,
              '#queue': LEGACY_QUEUE,
              '#dueAt': DUE_AT,
              '#state': 'state',
              '#claimToken': CLAIM_TOKEN,
            },
            ExpressionAttributeValues: {
              ':shard': this.partition(state, relayId),
              ':queue': LEGACY_QUEUES[state],
              ':seen': item[DUE_AT],
              ':state': state,
            },
          },
        });
        if (outcome.applied) moved++;
      }
    }
    let left = 0;
    for (const state of ['due', 'parked'] as const) {
      left += await this.countPartition(
        { legacy: true, value: LEGACY_QUEUES[state] },
        UPGRADE_BATCH,
        deadline,
      );
    }
    return left;
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
    const names: Record<string, string> = { '#claimToken': CLAIM_TOKEN, '#queue': LEGACY_QUEUE };
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
        UpdateExpression: `SET ${assignments.join(', ')} REMOVE #claimToken, #queue`,
        ConditionExpression: '#claimToken = :claimToken',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    });
    return outcome.applied;
  }

  private partition(state: 'due' | 'parked', relayId: string): string {
    return shardPartition(state, outboxShard(relayId, this.shards));
  }

  /** Every index partition that holds items of one queue: the shards, then the legacy queue. */
  private partitions(state: 'due' | 'parked'): IndexPartition[] {
    return [
      ...Array.from({ length: this.shards }, (_, n) => ({ legacy: false, value: shardPartition(state, n) })),
      { legacy: true, value: LEGACY_QUEUES[state] },
    ];
  }

  /**
   * The `limit` first entries of a queue (`dueAt <= dueBy` when given), oldest first: each partition's own first
   * `limit`, merged. An item written in both layouts at once appears once.
   */
  private async queued(state: 'due' | 'parked', limit: number, dueBy?: number): Promise<QueuedEntry[]> {
    const pages = await Promise.all(
      this.partitions(state).map(async (partition) => {
        const { Items = [] } = await this.client.send(
          new QueryCommand({ ...this.query(partition, { projection: true, dueBy }), Limit: limit }),
        );
        return Items.map(toEntry);
      }),
    );
    const seen = new Set<string>();
    return pages
      .flat()
      .sort((a, b) => a.dueAt - b.dueAt)
      .filter((entry) => !seen.has(entry.relayId) && seen.add(entry.relayId))
      .slice(0, limit);
  }

  private query(
    partition: IndexPartition,
    options: { projection?: boolean; dueBy?: number | undefined },
  ): QueryCommandInput {
    const { dueBy } = options;
    const index = partition.legacy ? LEGACY : SHARDED;
    return {
      TableName: this.tableName,
      IndexName: index.name,
      KeyConditionExpression: dueBy === undefined ? '#part = :part' : '#part = :part AND #dueAt <= :dueBy',
      // The legacy index copies whole items: read the same few attributes the sharded one holds.
      ...(options.projection && { ProjectionExpression: '#pk, #dueAt, #firstSeenAt' }),
      ExpressionAttributeNames: {
        '#part': index.partitionKey,
        ...((options.projection || dueBy !== undefined) && { '#dueAt': DUE_AT }),
        ...(options.projection && { '#pk': PK, '#firstSeenAt': 'firstSeenAt' }),
      },
      ExpressionAttributeValues: {
        ':part': partition.value,
        ...(dueBy !== undefined && { ':dueBy': dueBy }),
      },
      ScanIndexForward: true,
    };
  }

  private async countPartition(partition: IndexPartition, max: number, deadline: number): Promise<number> {
    let total = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...this.query(partition, {}),
          Select: 'COUNT',
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      total += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey && total < max && Date.now() < deadline);
    return total;
  }

  /** Reads a partition page by page, oldest first, until it ends or `visit` returns false. */
  private async eachPage(
    partition: IndexPartition,
    options: { projection: boolean },
    visit: (page: QueuedEntry[]) => boolean,
  ): Promise<void> {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(
        new QueryCommand({
          ...this.query(partition, options),
          ...(startKey && { ExclusiveStartKey: startKey }),
        }),
      );
      if (!visit((page.Items ?? []).map(toEntry))) return;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }

  /** Whole items by relay id, 100 keys per request; keys DynamoDB leaves unprocessed are asked for again. */
  private async batchGet(relayIds: readonly string[]): Promise<Map<string, OutboxItem>> {
    const found = new Map<string, OutboxItem>();
    for (let start = 0; start < relayIds.length; start += BATCH_GET_MAX) {
      let keys: Record<string, unknown>[] = relayIds.slice(start, start + BATCH_GET_MAX).map(key);
      for (let attempt = 0; keys.length > 0; attempt++) {
        if (attempt > UNPROCESSED_RETRIES) {
          throw new Error(`${keys.length} outbox items could not be read (DynamoDB left them unprocessed)`);
        }
        if (attempt > 0) await sleep(UNPROCESSED_FIRST_PAUSE_MS * 2 ** (attempt - 1));
        const { Responses, UnprocessedKeys } = await this.client.send(
          new BatchGetCommand({
            RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } },
          }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          const parsed = fromAttributes(item);
          found.set(parsed.relayId, parsed);
        }
        keys = (UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  private toAttributes(item: OutboxItem): Record<string, unknown> {
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
      [DUE_SHARD]: this.partition(item.state, item.relayId),
      [DUE_AT]: item.dueAt,
      attempts: item.attempts,
      retries: item.retries,
      firstSeenAt: item.firstSeenAt,
      lastError: item.lastError,
      ...payload,
      ...messageAttributes(item),
    };
  }
}

/** One partition of one of the two indexes. */
interface IndexPartition {
  readonly legacy: boolean;
  readonly value: string;
}

function toEntry(attributes: Record<string, unknown>): QueuedEntry {
  return {
    relayId: String(attributes[PK]).slice(KEY_PREFIX.length),
    dueAt: Number(attributes[DUE_AT] ?? 0),
    firstSeenAt: Number(attributes.firstSeenAt ?? 0),
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
