import { randomUUID } from 'node:crypto';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandOutput,
  DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { OUTBOX_SHARDS, TABLE } from '../../functions/relay/contract';
import { sweepOutbox } from '../../functions/relay/core/outbox/sweep';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { outboxShard } from '../../functions/relay/io/dynamodb/outbox-shards';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { dynamoDbRequest, type FaultProxy, startFaultProxy } from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

const NOW = 1_700_000_000_000;
const SHARDED_INDEX = 'outbox-due-shards';
const LEGACY_INDEX = 'outbox-by-due-time';
/** The shard count of the release that introduced the sharded index: a later one may only be larger. */
const FIRST_SHARD_COUNT = 8;

function item(relayId: string, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    relayId,
    source: 'github',
    deliveryId: `d-${relayId}`,
    body: JSON.stringify({ relayId, padding: 'x'.repeat(2_000) }),
    receivedAt: NOW - 60_000,
    state: 'due',
    attempts: 1,
    retries: 0,
    firstSeenAt: NOW - 60_000,
    dueAt: NOW,
    lastError: 'ONEiO receiver answered 503',
    ...overrides,
  };
}

describe('the outbox index, sharded', () => {
  let client: DynamoDBClient;
  let documents: DynamoDBDocumentClient;
  let tableName: string;
  let outbox: DynamoDbOutbox;

  beforeEach(async () => {
    ({ client, tableName } = await createTestTable());
    documents = DynamoDBDocumentClient.from(client);
    outbox = new DynamoDbOutbox(documents, tableName);
  });

  /** Items per shard of one queue, read straight from the index. */
  async function perShard(state: 'due' | 'parked', shards = OUTBOX_SHARDS): Promise<number[]> {
    const counts: number[] = [];
    for (let n = 0; n < shards; n++) {
      const { Count = 0 } = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: SHARDED_INDEX,
          KeyConditionExpression: 'dueShard = :shard',
          ExpressionAttributeValues: { ':shard': `${state}#${n}` },
          Select: 'COUNT',
        }),
      );
      counts.push(Count);
    }
    return counts;
  }

  it('never shrinks below the shard count of the release that introduced it', () => {
    // Readers query shards 0 to N-1: lowering N would leave items in the dropped shards unswept for good.
    expect(OUTBOX_SHARDS).toBeGreaterThanOrEqual(FIRST_SHARD_COUNT);
  });

  it('spreads 400 adds over every shard, and copies no body into the index', async () => {
    // Act
    for (let i = 0; i < 400; i++) await outbox.add(item(randomUUID(), { dueAt: NOW + i }));

    // Assess: 50 per shard expected; a shard with under half or over one and a half times that would be a hot spot
    const counts = await perShard('due');
    expect(counts.reduce((a, b) => a + b, 0)).toBe(400);
    for (const count of counts) expect(count).toBeGreaterThanOrEqual(25);
    for (const count of counts) expect(count).toBeLessThanOrEqual(75);
    const { Items = [] } = await documents.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: SHARDED_INDEX,
        KeyConditionExpression: 'dueShard = :shard',
        ExpressionAttributeValues: { ':shard': 'due#0' },
        Limit: 1,
      }),
    );
    expect(Object.keys(Items[0] ?? {}).sort()).toEqual(['dueAt', 'dueShard', 'firstSeenAt', 'pk']);
  });

  it('spreads claims over every shard while taking the oldest items first', async () => {
    // Prepare: 240 items due one millisecond apart
    const ids = Array.from({ length: 240 }, () => randomUUID());
    for (const [i, relayId] of ids.entries()) await outbox.add(item(relayId, { dueAt: NOW + i }));

    // Act: a sweep-sized batch, claimed
    const due = await outbox.due(NOW + 1_000, 80);
    const claimed = await Promise.all(due.map((entry) => outbox.claim(entry, NOW + 120_000, randomUUID())));

    // Assess
    expect(due.map((entry) => entry.relayId)).toEqual(ids.slice(0, 80));
    expect(claimed.every((c) => c?.body.includes(c.relayId))).toBe(true);
    const claimsPerShard = new Map<number, number>();
    for (const entry of due) {
      const shard = outboxShard(entry.relayId, OUTBOX_SHARDS);
      claimsPerShard.set(shard, (claimsPerShard.get(shard) ?? 0) + 1);
    }
    expect(claimsPerShard.size).toBe(OUTBOX_SHARDS);
    expect(Math.max(...claimsPerShard.values())).toBeLessThanOrEqual(20);
  });

  it('delivers each item once when two sweeps race over the shards', async () => {
    // Prepare: 160 due items over eight shards; two sweeps on two clients, one receiver counting copies
    for (let i = 0; i < 160; i++) await outbox.add(item(`race-${i}`, { dueAt: NOW - 1_000 + i }));
    const other = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
    // Both sweeps read their first batch before either claims: every claim of that batch is contested.
    let arrived = 0;
    let bothRead: () => void = () => {};
    const barrier = new Promise<void>((resolve) => {
      bothRead = resolve;
    });
    const firstBatches: string[][] = [];
    for (const store of [outbox, other]) {
      const due = store.due.bind(store);
      let first = true;
      store.due = async (now, limit) => {
        const entries = await due(now, limit);
        if (first) {
          first = false;
          firstBatches.push(entries.map((e) => e.relayId));
          if (++arrived === 2) bothRead();
          await barrier;
        }
        return entries;
      };
    }
    const copies = new Map<string, number>();
    const sweep = (store: DynamoDbOutbox) =>
      sweepOutbox(Date.now() + 20_000, {
        outbox: store,
        tokens: {
          forEndpoint: () => ({
            get: async () => ({
              accessToken: 't',
              issuedAt: 0,
              expiresAt: Number.MAX_SAFE_INTEGER,
              version: 'v',
            }),
            invalidate: async () => true,
          }),
        },
        receiver: {
          send: async (message) => {
            copies.set(message.relayId, (copies.get(message.relayId) ?? 0) + 1);
            return { status: 200 };
          },
        },
        now: () => Date.now(),
        maxAgeMs: 24 * 3_600_000,
        drainRatePerSecond: 100,
      });

    // Act
    const reports = await Promise.all([sweep(outbox), sweep(other)]);

    // Assess: both went for the same items, and still every item went to ONEiO once
    expect(firstBatches[0]).toEqual(firstBatches[1]);
    expect(firstBatches[0]?.length).toBe(100);
    expect(copies.size).toBe(160);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
    expect(reports.map((r) => r.claimed).reduce((a, b) => a + b, 0)).toBe(160);
    expect(reports.map((r) => r.delivered).reduce((a, b) => a + b, 0)).toBe(160);
    expect(await outbox.count('due', 1_000)).toBe(0);
  });

  it('strands nothing when a later release adds shards', async () => {
    // Prepare: items written by a release with four shards
    const before = new DynamoDbOutbox(documents, tableName, { shards: 4 });
    for (let i = 0; i < 40; i++) await before.add(item(`grow-${i}`, { dueAt: NOW + i }));
    await before.add(item('grow-parked', { state: 'parked' }));
    const after = new DynamoDbOutbox(documents, tableName, { shards: 8 });

    // Act
    const due = await after.due(NOW + 1_000, 100);
    const counts = [await after.count('due', 1_000), await after.count('parked', 1_000)];
    const parked = await after.list('parked', 10);
    const claimed = await after.claim(due[0] as (typeof due)[number], NOW + 120_000, 'sweep');

    // Assess: all found; a claim rewrites the item into its shard of the new count
    expect(due).toHaveLength(40);
    expect(counts).toEqual([40, 1]);
    expect(parked.map((i) => i.relayId)).toEqual(['grow-parked']);
    expect(claimed?.relayId).toBe('grow-0');
    expect((await perShard('due', 8)).reduce((a, b) => a + b, 0)).toBe(40);
  });

  it('answers counts and summaries from the index alone', async () => {
    // Prepare
    for (let i = 0; i < 12; i++)
      await outbox.add(item(`c-${i}`, { firstSeenAt: NOW - i * 1_000, dueAt: NOW + i }));
    for (let i = 0; i < 3; i++) await outbox.add(item(`p-${i}`, { state: 'parked', dueAt: NOW - 5_000 + i }));
    const proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    const operations: string[] = [];
    proxy.setRule((request, body) => {
      const r = dynamoDbRequest(request, body);
      const index = (JSON.parse(body) as { IndexName?: string }).IndexName;
      operations.push(`${r.operation} ${index ?? 'table'}`);
      return 'pass';
    });
    const viaProxy = new DynamoDbOutbox(relayDocumentClient(proxy.url), tableName);

    // Act
    const due = await viaProxy.count('due', 100);
    const summary = await viaProxy.summary('due', 100);
    const parked = await viaProxy.summary('parked', 100);
    await proxy.close();

    // Assess
    expect(due).toBe(12);
    expect(summary).toEqual({ items: 12, oldestFirstSeenAt: NOW - 11_000, earliestDueAt: NOW });
    expect(parked).toEqual({ items: 3, oldestFirstSeenAt: NOW - 60_000, earliestDueAt: NOW - 5_000 });
    expect(new Set(operations)).toEqual(new Set([`Query ${SHARDED_INDEX}`, `Query ${LEGACY_INDEX}`]));
  });

  it('lists whole items by key, asking again for keys DynamoDB left unprocessed', async () => {
    // Prepare: 150 items (two BatchGetItem requests); the first answer leaves 20 keys unprocessed, as a
    // throttled table does (DynamoDB Local never does it by itself)
    for (let i = 0; i < 150; i++)
      await outbox.add(item(`l-${String(i).padStart(3, '0')}`, { dueAt: NOW + i }));
    const send = documents.send.bind(documents);
    let batchGets = 0;
    documents.send = (async (command: unknown) => {
      const output = await send(command as BatchGetCommand);
      if (!(command instanceof BatchGetCommand) || batchGets++ > 0) return output;
      const answer = output as BatchGetCommandOutput;
      const got = answer.Responses?.[tableName] ?? [];
      const held = got.splice(0, 20);
      return {
        ...answer,
        UnprocessedKeys: {
          [tableName]: { Keys: held.map((i) => ({ [TABLE.partitionKey]: i[TABLE.partitionKey] })) },
        },
      };
    }) as typeof documents.send;

    // Act
    const listed = await outbox.list('due', 150);

    // Assess
    expect(batchGets).toBe(3);
    expect(listed.map((i) => i.relayId)).toEqual(
      Array.from({ length: 150 }, (_, i) => `l-${String(i).padStart(3, '0')}`),
    );
  });
});

/**
 * Items the first release wrote (`queue` = `outbox#due` / `outbox#parked` in the old index, whole items there) are
 * still read, and move into the sharded layout by any claim, transition or redrive, or by the sweep's upgrade.
 */
describe('the first release’s outbox layout', () => {
  let documents: DynamoDBDocumentClient;
  let tableName: string;
  let outbox: DynamoDbOutbox;
  let proxy: FaultProxy | undefined;

  beforeEach(async () => {
    const table = await createTestTable();
    tableName = table.tableName;
    documents = DynamoDBDocumentClient.from(table.client);
    outbox = new DynamoDbOutbox(documents, tableName);
  });

  afterEach(async () => {
    await proxy?.close();
    proxy = undefined;
  });

  /** An item exactly as the first release's DynamoDbOutbox wrote it. */
  async function putLegacy(
    relayId: string,
    state: 'due' | 'parked',
    dueAt: number,
    extra = {},
  ): Promise<void> {
    await documents.send(
      new PutCommand({
        TableName: tableName,
        Item: {
          [TABLE.partitionKey]: `outbox#${relayId}`,
          kind: 'outbox',
          relayId,
          source: 'github',
          deliveryId: `d-${relayId}`,
          state,
          queue: `outbox#${state}`,
          dueAt,
          attempts: 2,
          retries: 1,
          firstSeenAt: NOW - 3_600_000,
          lastError: 'ONEiO receiver answered 503',
          payload: `{"legacy":"${relayId}"}`,
          encoding: 'identity',
          ...extra,
        },
      }),
    );
  }

  async function inLegacyIndex(): Promise<number> {
    let total = 0;
    for (const queue of ['outbox#due', 'outbox#parked']) {
      const { Count = 0 } = await documents.send(
        new QueryCommand({
          TableName: tableName,
          IndexName: LEGACY_INDEX,
          KeyConditionExpression: '#q = :q',
          ExpressionAttributeNames: { '#q': 'queue' },
          ExpressionAttributeValues: { ':q': queue },
          Select: 'COUNT',
        }),
      );
      total += Count;
    }
    return total;
  }

  it('reads old items beside new ones, oldest first, and a claim moves one into the sharded index', async () => {
    await putLegacy('old-due', 'due', NOW - 10);
    await putLegacy('old-parked', 'parked', NOW - 20);
    await outbox.add(item('new-due', { dueAt: NOW - 5 }));

    const due = await outbox.due(NOW, 10);
    const counts = [await outbox.count('due', 100), await outbox.count('parked', 100)];
    const parked = await outbox.list('parked', 10);
    const claimed = await outbox.claim(due[0] as (typeof due)[number], NOW + 120_000, 'sweep');
    const rescheduled = await outbox.reschedule('old-due', 'sweep', {
      attempts: 3,
      retries: 2,
      dueAt: NOW + 300_000,
      lastError: 'x',
    });

    expect(due.map((e) => e.relayId)).toEqual(['old-due', 'new-due']);
    expect(counts).toEqual([2, 1]);
    expect(parked.map((i) => i.relayId)).toEqual(['old-parked']);
    expect(claimed).toMatchObject({ relayId: 'old-due', body: '{"legacy":"old-due"}', attempts: 2 });
    expect(rescheduled).toBe(true);
    expect(await inLegacyIndex()).toBe(1);
    expect((await outbox.list('due', 10)).map((i) => [i.relayId, i.dueAt])).toEqual([
      ['new-due', NOW - 5],
      ['old-due', NOW + 300_000],
    ]);
  });

  it('redrives an old parked item into the new layout', async () => {
    await putLegacy('old-parked', 'parked', NOW - 20);

    expect(await outbox.redrive('old-parked', NOW)).toBe(true);
    expect(await inLegacyIndex()).toBe(0);
    expect((await outbox.due(NOW, 10)).map((e) => e.relayId)).toEqual(['old-parked']);
  });

  it('moves the rest with the sweep’s upgrade, leaving an item an older sweep holds until it lets go', async () => {
    // Prepare: due hours from now, parked, and one claimed by a sweep of the first release
    await putLegacy('later', 'due', NOW + 4 * 3_600_000);
    await putLegacy('parked', 'parked', NOW - 20);
    await putLegacy('held', 'due', NOW + 120_000, { claimToken: 'old-sweep' });
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    const viaProxy = new DynamoDbOutbox(relayDocumentClient(proxy.url), tableName);

    // Act
    const left = await viaProxy.upgradeLayout(Date.now() + 5_000);
    await outbox.park('held', 'old-sweep', { attempts: 3, parkedAt: NOW, lastError: 'refused' });
    const leftAfter = await viaProxy.upgradeLayout(Date.now() + 5_000);

    // Assess
    expect(left).toBe(1);
    expect(leftAfter).toBe(0);
    expect(await inLegacyIndex()).toBe(0);
    expect((await outbox.list('due', 10)).map((i) => i.relayId)).toEqual(['later']);
    expect((await outbox.list('parked', 10)).map((i) => i.relayId).sort()).toEqual(['held', 'parked']);
    expect(await outbox.get('later')).toMatchObject({ body: '{"legacy":"later"}', retries: 1, attempts: 2 });
  });
});
