import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TABLE } from '../../functions/relay/contract';
import { DynamoDbTokenStore } from '../../functions/relay/io/dynamodb/token-store';
import { TokenStoreUnavailableError } from '../../functions/relay/ports/token-store';
import { type FaultProxy, onDynamoDbWrite, startFaultProxy } from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

const NOW = 1_700_000_000_000;

function token(version: string, expiresAt = NOW + 3_600_000) {
  return { accessToken: `access-${version}`, issuedAt: NOW, expiresAt, version };
}

describe('DynamoDbTokenStore (DynamoDB Local)', () => {
  let client: DynamoDBClient;
  let store: DynamoDbTokenStore;
  let tableName: string;
  let n = 0;
  const key = () => `token#test-${++n}`;

  beforeAll(async () => {
    ({ client, tableName } = await createTestTable());
    store = new DynamoDbTokenStore(DynamoDBDocumentClient.from(client), tableName);
  });

  it('reads nothing for a key that was never written', async () => {
    expect(await store.read(key(), { consistent: true })).toBeUndefined();
  });

  it('grants the lease to exactly one of twenty racing instances', async () => {
    const k = key();

    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        store.tryAcquireLease(k, { owner: `i${i}`, until: NOW + 10_000 }, NOW, undefined),
      ),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = `i${results.indexOf(true)}`;
    expect((await store.read(k, { consistent: true }))?.lease).toEqual({
      owner: winner,
      until: NOW + 10_000,
    });
  });

  it('lets the lease be taken over once it has lapsed', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);

    const early = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 15_000 }, NOW + 5_000, undefined);
    const late = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 20_000 }, NOW + 10_000, undefined);

    expect(early).toBe(false);
    expect(late).toBe(true);
  });

  it('publishes a token only while the publisher holds the lease, and clears the lease', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);
    await store.tryAcquireLease(k, { owner: 'b', until: NOW + 30_000 }, NOW + 11_000, undefined);

    const stale = await store.publish(k, 'a', token('from-a'));
    const current = await store.publish(k, 'b', token('from-b'));

    expect(stale).toBe(false);
    expect(current).toBe(true);
    expect(await store.read(k, { consistent: true })).toEqual({ token: token('from-b') });
  });

  it('writes the TTL attribute in epoch seconds, after the token expires', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);
    await store.publish(k, 'a', token('v1'));

    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { [TABLE.partitionKey]: { S: k } },
        ConsistentRead: true,
      }),
    );

    const ttl = Number(Item?.[TABLE.ttlAttribute]?.N);
    expect(ttl).toBeGreaterThan((NOW + 3_600_000) / 1000);
    expect(ttl).toBeLessThan((NOW + 3_600_000) / 1000 + 24 * 3600);
  });

  it('invalidates the stored token only when it is still the version that failed', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);
    await store.publish(k, 'a', token('v2'));

    const wrongVersion = await store.invalidate(k, 'v1');
    const stillThere = (await store.read(k, { consistent: true }))?.token;
    const rightVersion = await store.invalidate(k, 'v2');
    const after = (await store.read(k, { consistent: true }))?.token;

    expect(wrongVersion).toBe(false);
    expect(stillThere).toEqual(token('v2'));
    expect(rightVersion).toBe(true);
    expect(after?.expiresAt).toBe(0);
  });

  it('refuses the lease to a caller that read an older token than the one stored now', async () => {
    // Prepare: `a` refreshes and publishes while `b` still holds what it read before (no token at all, or v0).
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);
    await store.publish(k, 'a', token('v1'));

    // Act
    const readNothing = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 10_000 }, NOW, undefined);
    const readOlder = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 10_000 }, NOW, 'v0');
    const afterInvalidation = (await store.invalidate(k, 'v1'))
      ? await store.tryAcquireLease(k, { owner: 'b', until: NOW + 10_000 }, NOW, 'v1')
      : 'not invalidated';

    // Assess: the lease is free all along; only a caller that read v1 (here: invalidated) may take it.
    expect(readNothing).toBe(false);
    expect(readOlder).toBe(false);
    expect(afterInvalidation).toBe(true);
    expect((await store.read(k, { consistent: true }))?.lease?.owner).toBe('b');
  });

  it('releases the lease only for its owner', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);

    await store.releaseLease(k, 'b');
    const afterStranger = (await store.read(k, { consistent: true }))?.lease;
    await store.releaseLease(k, 'a');
    const afterOwner = (await store.read(k, { consistent: true }))?.lease;

    expect(afterStranger?.owner).toBe('a');
    expect(afterOwner).toBeUndefined();
  });

  it('reports an unreachable table as TokenStoreUnavailableError, naming no secret', async () => {
    const missing = new DynamoDbTokenStore(DynamoDBDocumentClient.from(client), 'no-such-table');

    const failure = missing.read(key(), { consistent: true });

    await expect(failure).rejects.toBeInstanceOf(TokenStoreUnavailableError);
    await expect(failure).rejects.toThrow('DynamoDB call failed: ResourceNotFoundException');
  });
});

/**
 * The SDK resends a write whose connection was reset after DynamoDB applied it. Each store call must read that as
 * its own success, never as somebody else's condition holding.
 */
describe('DynamoDbTokenStore: a write applied, then its answer lost (fault proxy, DynamoDB Local)', () => {
  let proxy: FaultProxy;
  let direct: DynamoDbTokenStore;
  let throughProxy: DynamoDbTokenStore;
  let n = 0;
  const key = () => `token#lost-answer-${++n}`;

  beforeAll(async () => {
    const { client, tableName } = await createTestTable();
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
    direct = new DynamoDbTokenStore(DynamoDBDocumentClient.from(client), tableName);
    throughProxy = new DynamoDbTokenStore(relayDocumentClient(proxy.url), tableName);
  });

  afterAll(async () => {
    await proxy.close();
  });

  /** Resets the answer of the next UpdateItem whose update expression contains `clause`, after it was applied. */
  function loseAnswerOf(clause: string): void {
    proxy.setRule(
      onDynamoDbWrite((r) => r.operation === 'UpdateItem' && (r.updateExpression ?? '').includes(clause), {
        afterApply: 'reset',
      }),
    );
  }

  it('lease: the retry finds its own lease and reports it taken', async () => {
    const k = key();
    loseAnswerOf('#leaseOwner = :owner');
    const before = proxy.requests;

    const acquired = await throughProxy.tryAcquireLease(
      k,
      { owner: 'me', until: NOW + 10_000 },
      NOW,
      undefined,
    );

    expect(proxy.requests - before).toBe(2);
    expect(acquired).toBe(true);
    expect((await direct.read(k, { consistent: true }))?.lease?.owner).toBe('me');
  });

  it('publish: the retry finds its own token and reports it published', async () => {
    const k = key();
    await direct.tryAcquireLease(k, { owner: 'me', until: NOW + 10_000 }, NOW, undefined);
    loseAnswerOf('#token = :token');
    const before = proxy.requests;

    const published = await throughProxy.publish(k, 'me', token('mine'));

    expect(proxy.requests - before).toBe(2);
    expect(published).toBe(true);
    expect(await direct.read(k, { consistent: true })).toEqual({ token: token('mine') });
  });

  it('release: the retry finds the lease already gone and reports no failure', async () => {
    const k = key();
    await direct.tryAcquireLease(k, { owner: 'me', until: NOW + 10_000 }, NOW, undefined);
    loseAnswerOf('REMOVE #leaseOwner');
    const before = proxy.requests;

    await throughProxy.releaseLease(k, 'me');

    expect(proxy.requests - before).toBe(2);
    expect((await direct.read(k, { consistent: true }))?.lease).toBeUndefined();
  });

  it('invalidate: the retry finds the token already invalidated and reports it invalidated', async () => {
    const k = key();
    await direct.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW, undefined);
    await direct.publish(k, 'a', token('v1'));
    loseAnswerOf('#expiresAt = :zero');
    const before = proxy.requests;

    const invalidated = await throughProxy.invalidate(k, 'v1');

    expect(proxy.requests - before).toBe(2);
    expect(invalidated).toBe(true);
    expect((await direct.read(k, { consistent: true }))?.token?.expiresAt).toBe(0);
  });
});
