import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES_LIMIT } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { createTestTable } from '../support/dynamodb';

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
    const dueAgain = await outbox.due(NOW + 200_000, 10);
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
