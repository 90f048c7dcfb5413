import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TokenManager } from '../../functions/relay/core/token/token-manager';
import { DynamoDbTokenStore } from '../../functions/relay/io/dynamodb/token-store';
import type { IssuedToken, TokenEndpoint } from '../../functions/relay/ports/oneio';
import { type FaultProxy, onDynamoDbWrite, type ProxyRule, startFaultProxy } from '../faults/fault-proxy';
import { createTestTable, relayDocumentClient } from '../support/dynamodb';

/**
 * The refresh lease with real concurrency: every instance is a TokenManager with a DynamoDB client of its own
 * (its own connections), meeting the others only in DynamoDB Local. A fault proxy in front of DynamoDB Local holds
 * chosen lease writes back before DynamoDB sees them, which is how a slow network or a paused instance orders them
 * in production.
 */

const HOUR_S = 3600;

/** A token endpoint that counts requests and takes `latencyMs` (real time) to answer. */
function countingEndpoint(latencyMs: number) {
  const endpoint: TokenEndpoint & { requests: number } = {
    requests: 0,
    async requestToken(): Promise<IssuedToken> {
      endpoint.requests++;
      const serial = endpoint.requests;
      await new Promise((resolve) => setTimeout(resolve, latencyMs));
      return { accessToken: `token-${serial}`, expiresInSeconds: HOUR_S };
    },
  };
  return endpoint;
}

const isLease = (rule: { operation: string; updateExpression: string | undefined }) =>
  rule.operation === 'UpdateItem' && (rule.updateExpression ?? '').includes('#leaseOwner = :owner');

describe('TokenManager on DynamoDB Local: one token request per refresh, with real concurrency', () => {
  let tableName: string;
  let proxy: FaultProxy;
  let n = 0;
  const key = () => `token#races-${++n}`;

  beforeAll(async () => {
    ({ tableName } = await createTestTable());
    proxy = await startFaultProxy(inject('dynamodbEndpoint'));
  });

  afterAll(async () => {
    await proxy.close();
  });

  function instance(k: string, endpoint: TokenEndpoint, via: 'proxy' | 'direct', now?: () => number) {
    const client = relayDocumentClient(via === 'proxy' ? proxy.url : inject('dynamodbEndpoint'));
    return new TokenManager({
      key: k,
      store: new DynamoDbTokenStore(client, tableName),
      endpoint,
      credentials: { get: async () => ({ clientId: 'relay', clientSecret: 's3cr3t' }) },
      ...(now && { now }),
    });
  }

  it('an instance whose lease write arrives after another published does not request a second token', async () => {
    // Prepare: both find no token. Slow's lease write reaches DynamoDB 400 ms late, after fast has taken the
    // lease, fetched a token and published it (which frees the lease again).
    const k = key();
    const endpoint = countingEndpoint(20);
    proxy.setRule(onDynamoDbWrite(isLease, { commitAfterMs: 400 }));
    const slow = instance(k, endpoint, 'proxy');
    const fast = instance(k, endpoint, 'direct');

    // Act
    const [fromSlow, fromFast] = await Promise.all([
      slow.get(Date.now() + 8_000),
      fast.get(Date.now() + 8_000),
    ]);

    // Assess
    expect(endpoint.requests).toBe(1);
    expect(fromSlow).toEqual(fromFast);
  });

  it('eight instances refresh an expiring token ten times with ten token requests, lease writes arriving in any order', async () => {
    // Prepare: each lease write is held back 0-150 ms (pseudo-random, seeded), so lease attempts of one round reach
    // DynamoDB before, during and after the winner's publish. The clock moves an hour per round: every instance
    // finds its token expired at once.
    const k = key();
    const endpoint = countingEndpoint(15);
    let seed = 20_240_312;
    const random = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const jitterLeases: ProxyRule = (request, body) =>
      onDynamoDbWrite(isLease, { commitAfterMs: Math.floor(random() * 150) })(request, body);
    proxy.setRule(jitterLeases);
    let offset = 0;
    const now = () => Date.now() + offset;
    const fleet = Array.from({ length: 8 }, () => instance(k, endpoint, 'proxy', now));

    // Act
    const versionsPerRound: number[] = [];
    for (let round = 0; round < 10; round++) {
      const tokens = await Promise.all(fleet.map((tokens) => tokens.get(now() + 8_000)));
      versionsPerRound.push(new Set(tokens.map((t) => t.version)).size);
      offset += HOUR_S * 1000;
    }

    // Assess
    expect(endpoint.requests).toBe(10);
    expect(versionsPerRound).toEqual(Array.from({ length: 10 }, () => 1));
  });
});
