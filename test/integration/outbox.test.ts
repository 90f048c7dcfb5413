import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import type { RelayHandler } from '../../functions/relay/app';
import { SWEEP_EVENT } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import {
  createLocalDynamoDbClient,
  createRelayTable,
  type DynamoDbLocal,
  startDynamoDbLocal,
} from '../../infra/local/dynamodb-local';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import { type Fleet, githubWebhookFor, startFleet } from '../support/relay-fleet';
import { eventBridgeEvent } from '../support/webhook-event';

/**
 * Receiver answers that the in-call budget cannot wait for, so the relay queues at once instead of retrying. ONEiO
 * asks for 10 minutes: the fleet and the sweep hold that long, and the breaker opens after five such failures.
 */
const OUTAGE = { status: 503, retryAfter: 600 };
/** Past ONEiO's `Retry-After` and the breaker's cool-down: the next sweep probes, and drains once the probe is taken. */
const AFTER_OUTAGE_MS = 11 * 60_000;

function bodyOf(label: string, i: number): string {
  return JSON.stringify({ label, i });
}

async function send(handle: RelayHandler, label: string, count: number): Promise<(number | undefined)[]> {
  const statuses: (number | undefined)[] = [];
  for (let i = 0; i < count; i++)
    statuses.push((await handle(githubWebhookFor(bodyOf(label, i)), lambdaContext()))?.statusCode);
  return statuses;
}

function deliveredCopies(fleet: Fleet, label: string): Map<number, number> {
  const copies = new Map<number, number>();
  for (const message of fleet.oneio.messages) {
    const parsed = JSON.parse(message.body) as { label?: string; i?: number };
    if (parsed.label === label && typeof parsed.i === 'number')
      copies.set(parsed.i, (copies.get(parsed.i) ?? 0) + 1);
  }
  return copies;
}

/** Moves the wall clock on (Date only: sockets and timers keep real time) so queued items become due. */
function advanceClock(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + ms);
}

describe('durable outbox', () => {
  let fleet: Fleet;
  let outbox: DynamoDbOutbox;

  // A table per test: ONEiO's backoff and the breaker are fleet-wide state in the table.
  beforeEach(async () => {
    const { client, tableName } = await createTestTable();
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName });
  });

  afterEach(async () => {
    vi.useRealTimers();
    await fleet.close();
  });

  it('queues messages while ONEiO is down and delivers each exactly once after it recovers', async () => {
    const handle = await fleet.coldStart();
    fleet.oneio.failReceiver({ ...OUTAGE, times: 10 });

    const statuses = await send(handle, 'outage', 10);
    const queued = await outbox.list('due', 50);
    fleet.oneio.failReceiver({ ...OUTAGE, times: 0 });
    advanceClock(AFTER_OUTAGE_MS);
    await handle(SWEEP_EVENT, lambdaContext());

    expect(statuses).toEqual(Array(10).fill(202));
    expect(queued).toHaveLength(10);
    expect([...deliveredCopies(fleet, 'outage').values()]).toEqual(Array(10).fill(1));
    expect(await outbox.list('due', 50)).toEqual([]);
  });

  it('delivers each item once when two sweeps run at the same time', async () => {
    const [first, second] = [await fleet.coldStart(), await fleet.coldStart()];
    // Refused, parked, then redriven by an operator: due at once, with no backoff or open breaker holding a sweep.
    fleet.oneio.failReceiver({ status: 400, times: 30 });
    await send(first, 'two-sweeps', 30);
    for (const item of await outbox.list('parked', 50)) await outbox.redrive(item.relayId, Date.now());

    await Promise.all([first(SWEEP_EVENT, lambdaContext()), second(SWEEP_EVENT, lambdaContext())]);

    const copies = deliveredCopies(fleet, 'two-sweeps');
    expect(copies.size).toBe(30);
    expect([...copies.values()].every((n) => n === 1)).toBe(true);
  });

  it('parks a message ONEiO refuses, and delivers it after an operator redrives it', async () => {
    const handle = await fleet.coldStart();
    fleet.oneio.failReceiver({ status: 400, times: 1 });

    const [status] = await send(handle, 'refused', 1);
    const [parked] = await outbox.list('parked', 10);
    await handle(SWEEP_EVENT, lambdaContext());
    const stillParked = deliveredCopies(fleet, 'refused').size;
    if (!parked) throw new Error('the refused message should be parked');
    await outbox.redrive(parked.relayId, Date.now());
    await handle(SWEEP_EVENT, lambdaContext());

    expect(status).toBe(202);
    expect(parked.lastError).toBe('ONEiO receiver answered 400');
    expect(stillParked).toBe(0);
    expect([...deliveredCopies(fleet, 'refused').values()]).toEqual([1]);
    expect(await outbox.list('parked', 10)).toEqual([]);
  });

  it('parks a message that is still failing after the maximum age', async () => {
    const handle = await fleet.coldStart();
    fleet.oneio.failReceiver({ ...OUTAGE, times: 1 });
    await send(handle, 'too-old', 1);

    fleet.oneio.failReceiver({ ...OUTAGE, times: 100 });
    advanceClock(25 * 3600_000);
    await handle(SWEEP_EVENT, lambdaContext());

    const parked = (await outbox.list('parked', 10)).filter((i) => i.body === bodyOf('too-old', 0));
    expect(parked).toHaveLength(1);
    expect(parked[0]?.lastError).toMatch(/maximum age/);
  });
});

describe('when even the outbox cannot be written', () => {
  let dynamodb: DynamoDbLocal;
  let fleet: Fleet;
  let handle: RelayHandler;

  beforeAll(async () => {
    dynamodb = await startDynamoDbLocal();
    await createRelayTable(createLocalDynamoDbClient(dynamodb.endpoint), 'relay-outbox-down');
    fleet = await startFleet({ dynamodbEndpoint: dynamodb.endpoint, tableName: 'relay-outbox-down' });
    handle = await fleet.coldStart();
    await dynamodb.stop();
    fleet.oneio.failReceiver({ ...OUTAGE, times: 100 });
  });

  afterAll(async () => {
    await dynamodb.stop();
    await fleet.close();
  });

  it('answers a webhook 503 so that the sender retries', async () => {
    const response = await handle(githubWebhookFor(bodyOf('no-outbox', 0)), lambdaContext());

    expect(response?.statusCode).toBe(503);
    expect(JSON.parse(response?.body ?? '{}')).toHaveProperty('relayId');
  });

  // The handler module is loaded afresh per environment, so the error class is compared by name.
  it('throws for an EventBridge event so that Lambda retries it and then keeps it in the on-failure queue', async () => {
    await expect(handle(eventBridgeEvent({ state: 'stopped' }), lambdaContext())).rejects.toMatchObject({
      name: 'EventNotRelayedError',
    });
  });
});
