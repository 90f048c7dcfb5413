import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { TABLE } from '../../functions/relay/contract';
import { DynamoDbTokenStore } from '../../functions/relay/io/dynamodb/token-store';
import { TokenStoreUnavailableError } from '../../functions/relay/ports/token-store';
import { createTestTable } from '../support/dynamodb';

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
        store.tryAcquireLease(k, { owner: `i${i}`, until: NOW + 10_000 }, NOW),
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
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW);

    const early = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 15_000 }, NOW + 5_000);
    const late = await store.tryAcquireLease(k, { owner: 'b', until: NOW + 20_000 }, NOW + 10_000);

    expect(early).toBe(false);
    expect(late).toBe(true);
  });

  it('publishes a token only while the publisher holds the lease, and clears the lease', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW);
    await store.tryAcquireLease(k, { owner: 'b', until: NOW + 30_000 }, NOW + 11_000);

    const stale = await store.publish(k, 'a', token('from-a'));
    const current = await store.publish(k, 'b', token('from-b'));

    expect(stale).toBe(false);
    expect(current).toBe(true);
    expect(await store.read(k, { consistent: true })).toEqual({ token: token('from-b') });
  });

  it('writes the TTL attribute in epoch seconds, after the token expires', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW);
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
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW);
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

  it('releases the lease only for its owner', async () => {
    const k = key();
    await store.tryAcquireLease(k, { owner: 'a', until: NOW + 10_000 }, NOW);

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
