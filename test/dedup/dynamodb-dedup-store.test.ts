import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDbDedupStore } from '../../functions/relay/io/dynamodb/dedup-store';
import {
  type DynamoDbRequest,
  type FaultProxy,
  onDynamoDbWrite,
  startFaultProxy,
} from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

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

/**
 * The second half of DynamoDB faults: the write was applied, then its answer was lost (connection reset, or no answer
 * within the client's 1 s), and the SDK sent it again. The retry fails its own condition; the store must see that
 * the write was its own.
 */
describe('DynamoDbDedupStore when a write is applied and its answer is lost', () => {
  let store: DynamoDbDedupStore;
  let direct: DynamoDbDedupStore;
  let proxy: FaultProxy;
  let n = 0;
  const key = () => `dedup#github#ambiguous-${++n}`;
  const claim = (claimToken: string, now = NOW) => ({
    relayId: 'relay-1',
    claimToken,
    now,
    lapseAt: now + 25_000,
    ttlSeconds: DAY_S,
  });
  const dedupWrite = (operation: string) => (r: DynamoDbRequest) =>
    r.operation === operation && r.pk?.startsWith('dedup#') === true;

  beforeAll(async () => {
    const { client, tableName } = await createTestTable();
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    store = new DynamoDbDedupStore(relayDocumentClient(proxy.url), tableName);
    direct = new DynamoDbDedupStore(DynamoDBDocumentClient.from(client), tableName);
  });

  afterAll(() => proxy.close());

  it.each([
    ['reset', { afterApply: 'reset' }],
    ['lost (no answer within the timeout)', { afterApply: 'hang' }],
  ] as const)(
    'claims, not "duplicate of itself", when the claim was applied and its answer %s',
    async (_, answer) => {
      // Prepare
      const k = key();
      proxy.setRule(onDynamoDbWrite(dedupWrite('PutItem'), answer));

      // Act
      const result = await store.claim(k, claim('attempt-a'));

      // Assess: the SDK did send it twice, and the second copy failed its condition against our own record
      expect(proxy.requests).toBeGreaterThanOrEqual(2);
      expect(result).toEqual({ status: 'claimed' });
      expect(await direct.claim(k, claim('attempt-b'))).toMatchObject({
        status: 'duplicate',
        state: 'in_progress',
      });
    },
  );

  it('still tells a real duplicate from its own retry: a second attempt of the same relay id is refused', async () => {
    // Prepare: two copies of one EventBridge event share their relay id; only the claim token tells them apart
    const k = key();
    await direct.claim(k, claim('copy-1'));
    proxy.setRule(onDynamoDbWrite(dedupWrite('PutItem'), { afterApply: 'reset' }));

    // Act
    const result = await store.claim(k, claim('copy-2'));

    // Assess
    expect(result).toEqual({ status: 'duplicate', state: 'in_progress', relayId: 'relay-1' });
  });

  it('completes once when the completion was applied and its answer reset', async () => {
    // Prepare
    const k = key();
    await direct.claim(k, claim('attempt-a'));
    proxy.setRule(onDynamoDbWrite(dedupWrite('UpdateItem'), { afterApply: 'reset' }));

    // Act
    await store.complete(k, 'attempt-a', 'delivered');

    // Assess
    expect(await direct.claim(k, claim('later'))).toEqual({
      status: 'duplicate',
      state: 'delivered',
      relayId: 'relay-1',
    });
  });

  it('releases once when the release was applied and its answer reset, so the sender may retry', async () => {
    // Prepare
    const k = key();
    await direct.claim(k, claim('attempt-a'));
    proxy.setRule(onDynamoDbWrite(dedupWrite('DeleteItem'), { afterApply: 'reset' }));

    // Act
    const releasing = store.release(k, 'attempt-a');

    // Assess
    await expect(releasing).resolves.toBeUndefined();
    expect(await direct.claim(k, claim('retry'))).toEqual({ status: 'claimed' });
  });
});
