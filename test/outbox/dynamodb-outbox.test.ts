import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, inject, it } from 'vitest';
import { MAX_BODY_BYTES_LIMIT } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { dynamoDbRequest, type FaultProxy, type ProxyRule, startFaultProxy } from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

const NOW = 1_700_000_000_000;

function item(relayId: string, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    relayId,
    source: 'github',
    deliveryId: `d-${relayId}`,
    body: '{"n":12345678901234567890123,"b":1,"a":2}',
    state: 'due',
    attempts: 3,
    retries: 0,
    firstSeenAt: NOW,
    receivedAt: NOW,
    dueAt: NOW + 60_000,
    lastError: 'ONEiO receiver answered 503',
    ...overrides,
  };
}

describe('DynamoDbOutbox (DynamoDB Local)', () => {
  let outbox: DynamoDbOutbox;

  // A table per test: the due queue is shared by every item of a table.
  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
  });

  it('stores an item and reads it back unchanged', async () => {
    await outbox.add(item('r1'));

    expect(await outbox.get('r1')).toEqual(item('r1'));
  });

  it('lists due items oldest first, and only those already due', async () => {
    await outbox.add(item('later', { dueAt: NOW + 3_000 }));
    await outbox.add(item('first', { dueAt: NOW + 1_000 }));
    await outbox.add(item('second', { dueAt: NOW + 2_000 }));
    await outbox.add(item('parked', { state: 'parked', dueAt: NOW }));

    const due = await outbox.due(NOW + 2_500, 10);

    expect(due.map((i) => i.relayId)).toEqual(['first', 'second']);
  });

  it('lets exactly one of two sweeps claim an item', async () => {
    await outbox.add(item('r1'));
    const [seen] = await outbox.due(NOW + 60_000, 10);
    if (!seen) throw new Error('the item should be due');

    const [a, b] = await Promise.all([
      outbox.claim(seen, NOW + 180_000, 'sweep-a'),
      outbox.claim(seen, NOW + 180_000, 'sweep-b'),
    ]);

    expect([a, b].filter(Boolean)).toHaveLength(1);
    // The winner gets the item with its body, read with the claim itself.
    expect([a, b].find(Boolean)).toEqual({ ...item('r1'), dueAt: NOW + 180_000 });
    expect(await outbox.due(NOW + 60_000, 10)).toEqual([]);
  });

  it('makes an item of a crashed sweep due again when its claim lapses', async () => {
    await outbox.add(item('r1'));
    const [seen] = await outbox.due(NOW + 60_000, 10);
    if (!seen) throw new Error('the item should be due');
    await outbox.claim(seen, NOW + 180_000, 'crashed-sweep');

    expect((await outbox.due(NOW + 180_000, 10)).map((i) => i.relayId)).toEqual(['r1']);
  });

  it('reschedules, parks, redrives and purges, each idempotent', async () => {
    await outbox.add(item('r1'));
    await outbox.claim(item('r1'), NOW + 120_000, 'sweep-1');

    await outbox.reschedule('r1', 'sweep-1', {
      attempts: 5,
      retries: 1,
      dueAt: NOW + 120_000,
      lastError: 'timeout',
    });
    const rescheduled = await outbox.get('r1');
    await outbox.claim(item('r1', { dueAt: NOW + 120_000 }), NOW + 240_000, 'sweep-2');
    await outbox.park('r1', 'sweep-2', {
      attempts: 6,
      parkedAt: NOW + 130_000,
      lastError: 'ONEiO receiver answered 400',
    });
    const parked = await outbox.list('parked', 10);
    const redriven = [await outbox.redrive('r1', NOW + 200_000), await outbox.redrive('r1', NOW + 200_000)];
    const dueAgain = await outbox.list('due', 10);
    const purged = [await outbox.purge('r1'), await outbox.purge('r1')];

    expect(rescheduled).toMatchObject({ state: 'due', attempts: 5, retries: 1, dueAt: NOW + 120_000 });
    expect(parked.map((i) => [i.relayId, i.state, i.lastError])).toEqual([
      ['r1', 'parked', 'ONEiO receiver answered 400'],
    ]);
    expect(redriven).toEqual([true, false]);
    // A redriven item gets a fresh retry window: the maximum age counts from the redrive.
    expect(dueAgain.map((i) => [i.relayId, i.retries, i.firstSeenAt])).toEqual([['r1', 0, NOW + 200_000]]);
    expect(purged).toEqual([true, false]);
    expect(await outbox.get('r1')).toBeUndefined();
  });

  it('counts the items of a queue, up to a maximum', async () => {
    for (let i = 0; i < 5; i++) await outbox.add(item(`p${i}`, { state: 'parked', dueAt: NOW + i }));
    await outbox.add(item('due-one'));

    expect(await outbox.count('parked', 100)).toBe(5);
    expect(await outbox.count('parked', 3)).toBe(3);
    expect(await outbox.count('due', 100)).toBe(1);
  });

  it('holds a body of the largest size the relay can be configured to accept, even when it does not compress', async () => {
    // Random base64 barely compresses: the worst case for the 400 KB item limit.
    const filler = randomBytes(MAX_BODY_BYTES_LIMIT)
      .toString('base64')
      .slice(0, MAX_BODY_BYTES_LIMIT - '{"f":""}'.length);
    const body = JSON.stringify({ f: filler });
    expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES_LIMIT);

    await outbox.add(item('big', { body, lastError: 'x'.repeat(500) }));

    expect((await outbox.get('big'))?.body).toBe(body);
  });

  it('compresses a large, repetitive body and restores it byte for byte', async () => {
    const body = JSON.stringify({
      rows: Array.from({ length: 5_000 }, (_, i) => ({ i, name: 'same text' })),
    });

    await outbox.add(item('gz', { body }));

    expect((await outbox.get('gz'))?.body).toBe(body);
  });
});

/**
 * The second half of DynamoDB faults: the write was applied, then its answer was lost and the SDK sent it again. Each
 * outbox write must see its own work rather than report a failure (a kept message reported lost) or a lost claim.
 */
describe('DynamoDbOutbox when a write is applied and its answer is lost', () => {
  let outbox: DynamoDbOutbox;
  let direct: DynamoDbOutbox;
  let proxy: FaultProxy;

  /** The first outbox write of `operation` (optionally whose body mentions `text`) is applied, then reset. */
  const resetAfterApplying = (operation: string, text?: string): ProxyRule => {
    let left = 1;
    return (request, body) => {
      const r = dynamoDbRequest(request, body);
      if (left === 0 || r.operation !== operation || !r.pk?.startsWith('outbox#')) return 'pass';
      if (text !== undefined && !body.includes(text)) return 'pass';
      left--;
      return { afterApply: 'reset' };
    };
  };

  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    outbox = new DynamoDbOutbox(relayDocumentClient(proxy.url), tableName);
    direct = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
  });

  afterEach(() => proxy.close());

  it('adds: resolves (the message is kept), not "could not be stored"', async () => {
    proxy.setRule(resetAfterApplying('PutItem'));

    await expect(outbox.add(item('r1'))).resolves.toBeUndefined();

    expect(proxy.faults).toBe(1);
    expect(await direct.get('r1')).toMatchObject({ relayId: 'r1', state: 'due' });
  });

  it('claims: wins its own claim instead of losing to itself', async () => {
    await direct.add(item('r1'));
    proxy.setRule(resetAfterApplying('UpdateItem'));

    const claimed = await outbox.claim(item('r1'), NOW + 180_000, 'sweep-1');

    expect(proxy.faults).toBe(1);
    expect(claimed).toMatchObject({ relayId: 'r1', body: item('r1').body, dueAt: NOW + 180_000 });
    expect(await direct.claim(item('r1'), NOW + 180_000, 'sweep-2')).toBeUndefined();
  });

  it.each([
    ['reschedules', '"S":"due"'],
    ['parks', '"S":"parked"'],
  ] as const)('%s: reports its own transition done, not a lost claim', async (verb, text) => {
    await direct.add(item('r1'));
    await direct.claim(item('r1'), NOW + 180_000, 'sweep-1');
    proxy.setRule(resetAfterApplying('UpdateItem', text));

    const done =
      verb === 'reschedules'
        ? await outbox.reschedule('r1', 'sweep-1', {
            attempts: 4,
            retries: 1,
            dueAt: NOW + 1,
            lastError: 'x',
          })
        : await outbox.park('r1', 'sweep-1', { attempts: 4, parkedAt: NOW + 1, lastError: 'x' });

    expect(proxy.faults).toBe(1);
    expect(done).toBe(true);
    expect(await direct.get('r1')).toMatchObject({ state: verb === 'parks' ? 'parked' : 'due', attempts: 4 });
  });

  it('removes a delivered item: reports it removed, not a lost claim', async () => {
    await direct.add(item('r1'));
    await direct.claim(item('r1'), NOW + 180_000, 'sweep-1');
    proxy.setRule(resetAfterApplying('DeleteItem'));

    expect(await outbox.remove('r1', 'sweep-1')).toBe(true);
    expect(proxy.faults).toBe(1);
    expect(await direct.get('r1')).toBeUndefined();
  });

  it('redrives: reports the redrive done', async () => {
    await direct.add(item('r1', { state: 'parked' }));
    proxy.setRule(resetAfterApplying('UpdateItem'));

    expect(await outbox.redrive('r1', NOW + 5_000)).toBe(true);
    expect(proxy.faults).toBe(1);
    expect(await direct.get('r1')).toMatchObject({ state: 'due', dueAt: NOW + 5_000 });
  });
});

describe('DynamoDbOutbox transitions of a claimed item', () => {
  let outbox: DynamoDbOutbox;

  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
  });

  it('changes nothing for a sweep whose claim was taken over', async () => {
    await outbox.add(item('r1'));
    await outbox.claim(item('r1'), NOW + 120_000, 'overran');
    // The first claim lapsed; another sweep claimed the item again.
    await outbox.claim(item('r1', { dueAt: NOW + 120_000 }), NOW + 240_000, 'current');

    const late = [
      await outbox.reschedule('r1', 'overran', { attempts: 9, retries: 9, dueAt: NOW, lastError: 'late' }),
      await outbox.park('r1', 'overran', { attempts: 9, parkedAt: NOW, lastError: 'late' }),
      await outbox.remove('r1', 'overran'),
    ];

    expect(late).toEqual([false, false, false]);
    expect(await outbox.get('r1')).toMatchObject({ state: 'due', dueAt: NOW + 240_000, attempts: 3 });
  });

  it('does not bring a purged item back', async () => {
    await outbox.add(item('r1'));
    await outbox.claim(item('r1'), NOW + 120_000, 'sweep-1');
    await outbox.purge('r1');

    const rescheduled = await outbox.reschedule('r1', 'sweep-1', {
      attempts: 4,
      retries: 1,
      dueAt: NOW,
      lastError: 'x',
    });

    expect(rescheduled).toBe(false);
    expect(await outbox.get('r1')).toBeUndefined();
  });

  it('keeps one item for two copies of one event added under the same relay id', async () => {
    await outbox.add(item('event-1'));

    await expect(outbox.add(item('event-1', { attempts: 7 }))).resolves.toBeUndefined();

    expect(await outbox.get('event-1')).toMatchObject({ attempts: 3 });
  });
});
