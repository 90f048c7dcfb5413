import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import {
  createLocalDynamoDbClient,
  createRelayTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import {
  CLIENT_SECRET,
  coldStartMany,
  type Fleet,
  GITHUB_SIGNING_SECRET,
  githubWebhookFor,
  startFleet,
} from '../support/relay-fleet';

/**
 * The fleet-wide token claims, with real concurrency: every execution environment is its own module instance with
 * its own memory, clients and keep-alive agent; they meet only in DynamoDB Local, as Lambda instances meet in
 * DynamoDB.
 */

/** Each environment handles its share one invocation at a time, as Lambda does; environments run side by side. */
async function deliverAcross(
  handlers: RelayHandler[],
  perEnvironment: number,
  label: string,
): Promise<number[]> {
  const statuses = await Promise.all(
    handlers.map(async (handle, env) => {
      const seen: number[] = [];
      for (let i = 0; i < perEnvironment; i++) {
        // Written as text: a big integer that JSON.parse would round must reach ONEiO digit for digit.
        const body = `{"label":"${label}","env":${env},"i":${i},"big":12345678901234567890123}`;
        const response = await handle(githubWebhookFor(body), lambdaContext());
        seen.push(response?.statusCode ?? 0);
      }
      return seen;
    }),
  );
  return statuses.flat();
}

describe('one access token for the whole fleet', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const { tableName } = await createTestTable();
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName });
  });

  afterAll(async () => {
    await fleet.close();
  });

  it('asks the token endpoint once for 200 deliveries across 20 cold environments', async () => {
    const handlers = await coldStartMany(fleet, 20);

    const statuses = await deliverAcross(handlers, 10, 'cold-fleet');

    expect(statuses.filter((s) => s === 200)).toHaveLength(200);
    const received = fleet.oneio.messages.filter((m) => m.body.includes('"cold-fleet"'));
    expect(received).toHaveLength(200);
    expect(received.every((m) => m.body.endsWith('"big":12345678901234567890123}'))).toBe(true);
    expect(fleet.oneio.tokenRequests.count).toBe(1);
  });

  it('delivers every message with one new token fleet-wide when ONEiO revokes the token mid-traffic', async () => {
    const handlers = await coldStartMany(fleet, 8);
    await deliverAcross(handlers, 2, 'before-revoke');
    const tokensBefore = fleet.oneio.tokenRequests.count;

    fleet.oneio.revokeAllTokens();
    const statuses = await deliverAcross(handlers, 5, 'after-revoke');

    expect(statuses.filter((s) => s === 200)).toHaveLength(40);
    expect(fleet.oneio.messages.filter((m) => m.body.includes('"after-revoke"'))).toHaveLength(40);
    expect(fleet.oneio.tokenRequests.count - tokensBefore).toBe(1);
  });

  it('never writes the client secret, the signing secret or an access token to the logs', () => {
    const logs = fleet.logs();
    const issuedTokens = new Set(fleet.oneio.messages.map((m) => m.accessToken));

    expect(logs).toContain('Webhook handled');
    expect(issuedTokens.size).toBeGreaterThan(1);
    expect(logs).not.toContain(CLIENT_SECRET);
    expect(logs).not.toContain(encodeURIComponent(CLIENT_SECRET));
    expect(logs).not.toContain(GITHUB_SIGNING_SECRET);
    for (const token of issuedTokens) expect(logs).not.toContain(token);
  });
});

describe('short-lived tokens under steady traffic', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const { tableName } = await createTestTable();
    fleet = await startFleet({
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
      tokenLifetimeSeconds: 6,
    });
  });

  afterAll(() => fleet.close());

  it('refreshes ahead of expiry: across three lifetimes the receiver never answers 401', async () => {
    const handlers = await coldStartMany(fleet, 4);
    const until = Date.now() + 15_000;

    const statuses = await Promise.all(
      handlers.map(async (handle, env) => {
        const seen: number[] = [];
        for (let i = 0; Date.now() < until; i++) {
          const response = await handle(githubWebhookFor(JSON.stringify({ env, i })), lambdaContext());
          seen.push(response?.statusCode ?? 0);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        return seen;
      }),
    );

    const all = statuses.flat();
    expect(all.length).toBeGreaterThan(100);
    expect(all.every((s) => s === 200)).toBe(true);
    expect(fleet.oneio.unauthorizedResponses).toBe(0);
    // 15 s of 6 s tokens refreshed from 4.8 s on: about four tokens for the fleet, not four per environment.
    expect(fleet.oneio.tokenRequests.count).toBeGreaterThanOrEqual(3);
    expect(fleet.oneio.tokenRequests.count).toBeLessThanOrEqual(5);
  });
});

describe('DynamoDB unavailable', () => {
  let dynamodb: DynamoDbLocal;
  let fleet: Fleet;

  beforeAll(async () => {
    // A DynamoDB Local of its own, so stopping it leaves the rest of the run alone.
    dynamodb = await startDynamoDbLocal();
    await createRelayTable(createLocalDynamoDbClient(dynamodb.endpoint), 'relay-outage');
    fleet = await startFleet({ dynamodbEndpoint: dynamodb.endpoint, tableName: 'relay-outage' });
  });

  afterEach(async () => {
    await dynamodb.stop();
  });

  afterAll(() => fleet.close());

  it('still delivers, warm and cold, with a token per environment', async () => {
    const warm = await coldStartMany(fleet, 3);
    await deliverAcross(warm, 1, 'before-outage');

    await dynamodb.stop();
    const cold = await coldStartMany(fleet, 3);
    const statuses = await deliverAcross([...warm, ...cold], 3, 'during-outage');

    expect(statuses.filter((s) => s === 200)).toHaveLength(18);
    expect(fleet.oneio.messages.filter((m) => m.body.includes('"during-outage"'))).toHaveLength(18);
    // The warm environments keep their token; each cold one needs a token of its own.
    expect(fleet.oneio.tokenRequests.count).toBe(1 + 3);
  });
});

describe('ONEiO endpoint disabled: every token refused', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const { tableName } = await createTestTable();
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName });
  });

  afterAll(() => fleet.close());

  it('stops invalidating and requesting tokens after three refused tokens, and queues the messages', async () => {
    // Prepare: the receiver answers 401 to everything, whatever the token.
    const [handle] = await coldStartMany(fleet, 1);
    if (handle === undefined) throw new Error('no environment');
    fleet.oneio.failReceiver({ status: 401, times: 10_000 });

    // Act: messages one after the other, as one environment handles them.
    const answers: { status: number | undefined; body: string }[] = [];
    for (let i = 0; i < 4; i++) {
      const response = await handle(githubWebhookFor(JSON.stringify({ disabled: i })), lambdaContext());
      answers.push({ status: response?.statusCode, body: response?.body ?? '' });
    }

    // Assess: three tokens (each refused), then nothing more from the token endpoint nor the receiver.
    expect(answers.map((a) => a.status)).toEqual([202, 202, 202, 202]);
    expect(answers.every((a) => (JSON.parse(a.body) as { status?: string }).status === 'queued')).toBe(true);
    expect(fleet.oneio.tokenRequests.count).toBe(3);
    // Two POSTs for the first message (a retry with a new token), one for the second (its refused token is the
    // third: the hold starts), none after.
    expect(fleet.oneio.receiverRequests).toBe(3);
    const logs = fleet.logs();
    expect(logs).toContain('ONEiO keeps refusing new access tokens (401)');
    expect(logs.match(/"TokenRefusalHold":1/g)).toHaveLength(1);
  }, 40_000);
});
