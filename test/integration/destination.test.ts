import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import { ENV, SWEEP_EVENT } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { maxInAnySecond } from '../support/arrivals';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import { type Fleet, githubWebhookFor, startFleet } from '../support/relay-fleet';

/**
 * The destination's fleet-wide state end to end: execution environments of the real handler sharing one table in
 * DynamoDB Local, ONEiO's emulator behind undici, and the clock moved with Date only (sockets and timers keep real
 * time).
 */
describe('fleet-wide backoff, circuit breaker and drain rate', () => {
  let fleet: Fleet;
  let outbox: DynamoDbOutbox;

  async function start(env: Record<string, string> = {}): Promise<void> {
    const { client, tableName } = await createTestTable();
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName, env });
  }

  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
    vi.setSystemTime(Date.now());
  });

  afterEach(async () => {
    vi.useRealTimers();
    await fleet.close();
  });

  const later = (ms: number) => vi.setSystemTime(Date.now() + ms);

  async function webhook(handle: RelayHandler, label: string): Promise<number | undefined> {
    return (await handle(githubWebhookFor(JSON.stringify({ label })), lambdaContext()))?.statusCode;
  }

  /** A message queued earlier and due now, as the outbox holds it. */
  function queued(relayId: string, dueAt = Date.now()): OutboxItem {
    return {
      relayId,
      source: 'github',
      deliveryId: `d-${relayId}`,
      body: JSON.stringify({ label: relayId }),
      receivedAt: dueAt,
      state: 'due',
      attempts: 1,
      retries: 0,
      firstSeenAt: dueAt - 60_000,
      dueAt,
      lastError: 'ONEiO receiver answered 503',
    };
  }

  const received = (label: string) =>
    fleet.oneio.messages.filter((m) => m.body.includes(`"${label}"`)).length;

  it('a 429 with Retry-After: 30 stops every instance and the sweep for 30 s, then both deliver', async () => {
    // Prepare: three warm-or-cold instances; a message already due in the outbox
    await start();
    const [a, b, sweeper] = [await fleet.coldStart(), await fleet.coldStart(), await fleet.coldStart()];
    await outbox.add(queued('waiting'));
    fleet.oneio.failReceiver({ status: 429, retryAfter: 30, times: 1 });

    // Act: the 429 reaches instance a; then, within the 30 s, b (never seen the state), a again, and the sweep
    const first = await webhook(a, 'first');
    const requestsAfter429 = fleet.oneio.receiverRequests;
    const during = [await webhook(b, 'during-b'), await webhook(a, 'during-a')];
    later(25_000);
    await sweeper(SWEEP_EVENT, lambdaContext());
    const requestsDuring = fleet.oneio.receiverRequests;
    later(5_001);
    const after = await webhook(b, 'after');
    await sweeper(SWEEP_EVENT, lambdaContext());

    // Assess
    expect(first).toBe(202);
    expect(requestsAfter429).toBe(1);
    expect(during).toEqual([202, 202]);
    expect(requestsDuring).toBe(1);
    expect(after).toBe(200);
    expect(received('waiting')).toBe(1);
    expect(fleet.logs()).toContain('"message":"ONEiO asked to wait; deliveries held fleet-wide until then"');
  });

  it('opens the breaker after failures in a row, probes with one message after the cool-down, then closes', async () => {
    // Prepare: three failures open it; ONEiO resets every connection (each a failure in doubt, sent once)
    await start({ [ENV.breakerThreshold]: '3', [ENV.breakerCoolDownSeconds]: '60' });
    const [a, b] = [await fleet.coldStart(), await fleet.coldStart()];
    fleet.oneio.resetConnections({ times: 1_000 });

    // Act 1: three failing webhooks, then one more to each instance
    const failing = [await webhook(a, 'f1'), await webhook(b, 'f2'), await webhook(a, 'f3')];
    const requestsToOpen = fleet.oneio.receiverRequests;
    later(5_001);
    const whileOpen = [await webhook(a, 'held-a'), await webhook(b, 'held-b')];
    const requestsWhileOpen = fleet.oneio.receiverRequests;

    // Act 2: past the cool-down and the in-doubt wait, ONEiO still down: the probe fails, nothing else is sent
    later(120_000);
    await a(SWEEP_EVENT, lambdaContext());
    const requestsAfterFailedProbe = fleet.oneio.receiverRequests;

    // Act 3: ONEiO back; the next sweep after another cool-down probes, closes, and drains the rest
    fleet.oneio.resetConnections({ times: 0 });
    later(61_000);
    await b(SWEEP_EVENT, lambdaContext());
    later(5_001);
    const afterClose = await webhook(a, 'after');

    // Assess
    expect(failing).toEqual([202, 202, 202]);
    expect(requestsToOpen).toBe(3);
    expect(whileOpen).toEqual([202, 202]);
    expect(requestsWhileOpen).toBe(3);
    expect(requestsAfterFailedProbe).toBe(4);
    // The failed probe's message was rescheduled a step further (two minutes); the other four went once each.
    const copies = ['f1', 'f2', 'f3', 'held-a', 'held-b'].map(received);
    expect(copies.filter((n) => n === 1)).toHaveLength(4);
    expect(copies.filter((n) => n === 0)).toHaveLength(1);
    expect(await outbox.count('due', 100)).toBe(1);
    expect(afterClose).toBe(200);
    const logs = fleet.logs();
    expect(logs.match(/Circuit breaker opened/g)).toHaveLength(1);
    expect(logs.match(/Circuit breaker open again: the probe failed/g)).toHaveLength(1);
    expect(logs.match(/Circuit breaker closed: the probe was delivered/g)).toHaveLength(1);
  });

  it('drains a backlog at the configured rate, oldest first, as ONEiO counts it', async () => {
    // Prepare: 30 messages due, a rate of 5 per second
    await start({ [ENV.drainRatePerSecond]: '5' });
    const sweeper = await fleet.coldStart();
    const now = Date.now();
    for (let i = 0; i < 30; i++) await outbox.add(queued(`backlog-${i}`, now - 30 + i));
    const before = fleet.oneio.messages.length;

    // Act
    await sweeper(SWEEP_EVENT, lambdaContext());

    // Assess: the emulator's own arrival times; at most five in any second, in order
    const arrivals = fleet.oneio.messages.slice(before);
    expect(arrivals).toHaveLength(30);
    expect(maxInAnySecond(arrivals.map((m) => m.request.receivedAt))).toBeLessThanOrEqual(5);
    expect(arrivals.map((m) => (JSON.parse(m.body) as { label: string }).label)).toEqual(
      Array.from({ length: 30 }, (_, i) => `backlog-${i}`),
    );
  });
});
