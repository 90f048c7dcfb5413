import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbDedupStore } from '../../functions/relay/io/dynamodb/dedup-store';
import { createTestTable } from '../support/dynamodb';

const NOW = 1_700_000_000_000;
const tokenOf = (relayId: string) => `claim-of-${relayId}`;
const DAY_S = 86_400;

describe('DynamoDbDedupStore (DynamoDB Local)', () => {
  let store: DynamoDbDedupStore;
  let n = 0;
  const key = () => `dedup#github#delivery-${++n}`;
  /** Each attempt's claim token is derived from its relay id here, so a test can name the attempt it completes. */
  const claim = (relayId: string, now = NOW, lapseAt = now + 25_000) => ({
    relayId,
    claimToken: tokenOf(relayId),
    now,
    lapseAt,
    ttlSeconds: DAY_S,
  });

  beforeAll(async () => {
    const { client, tableName } = await createTestTable();
    store = new DynamoDbDedupStore(DynamoDBDocumentClient.from(client), tableName);
  });

  it('claims a delivery id seen for the first time', async () => {
    expect(await store.claim(key(), claim('r1'))).toEqual({ status: 'claimed' });
  });

  it('answers a duplicate of a delivered message with the first relay id', async () => {
    const k = key();
    await store.claim(k, claim('r1'));
    await store.complete(k, tokenOf('r1'), 'delivered');

    expect(await store.claim(k, claim('r2'))).toEqual({
      status: 'duplicate',
      state: 'delivered',
      relayId: 'r1',
    });
  });

  it('lets exactly one of ten racing copies claim the id', async () => {
    const k = key();

    const results = await Promise.all(Array.from({ length: 10 }, (_, i) => store.claim(k, claim(`r${i}`))));

    expect(results.filter((r) => r.status === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'duplicate' && r.state === 'in_progress')).toHaveLength(9);
  });

  it('lets a retry take over an in-progress claim whose attempt died', async () => {
    const k = key();
    await store.claim(k, claim('crashed', NOW, NOW + 25_000));

    const during = await store.claim(k, claim('retry', NOW + 10_000));
    const after = await store.claim(k, claim('retry', NOW + 26_000));

    expect(during).toEqual({ status: 'duplicate', state: 'in_progress', relayId: 'crashed' });
    expect(after).toEqual({ status: 'claimed' });
  });

  it('forgets an id after its TTL even before DynamoDB deletes the item', async () => {
    const k = key();
    await store.claim(k, claim('old'));
    await store.complete(k, tokenOf('old'), 'delivered');

    expect(await store.claim(k, claim('new', NOW + (DAY_S + 1) * 1000))).toEqual({ status: 'claimed' });
  });

  it('releases a claim so that the sender may retry a message that was not kept', async () => {
    const k = key();
    await store.claim(k, claim('r1'));

    await store.release(k, tokenOf('r1'));

    expect(await store.claim(k, claim('r2'))).toEqual({ status: 'claimed' });
  });

  it('does not let a late attempt complete or release a claim that was taken over', async () => {
    const k = key();
    await store.claim(k, claim('first', NOW, NOW + 1_000));
    await store.claim(k, claim('second', NOW + 2_000));

    await store.complete(k, tokenOf('first'), 'delivered');
    await store.release(k, tokenOf('first'));

    expect(await store.claim(k, claim('third', NOW + 3_000))).toEqual({
      status: 'duplicate',
      state: 'in_progress',
      relayId: 'second',
    });
  });
});
