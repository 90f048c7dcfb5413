import { afterEach, describe, expect, it } from 'vitest';
import { DYNAMODB_THROTTLED, firstRequests, type ProxyRule } from './fault-proxy';
import {
  type Expected,
  expectInvariants,
  expectLogged,
  type FaultWorld,
  matrix,
  sendWebhook,
  startFaultWorld,
} from './fault-world';

/**
 * DynamoDB fails under the relay (through a proxy in front of DynamoDB Local). It is the token cache, the de-dup
 * store and the outbox: without it the relay still delivers (a token of the instance's own, no de-duplication), but
 * what it cannot deliver it cannot keep either, so the sender is told 503 and retries: never 2xx for a lost message.
 */
interface Row {
  readonly fault: string;
  readonly dynamodb: ProxyRule;
  /** The receiver's state meanwhile: up, or answering 503 throughout. */
  readonly receiver: 'up' | '503';
  readonly expected: Expected;
  /** The log names the cause. */
  readonly logSays?: string;
}

const RESET: ProxyRule = () => 'reset';
const HANG: ProxyRule = () => 'hang';
const THROTTLED: ProxyRule = () => DYNAMODB_THROTTLED;

const ROWS: readonly Row[] = [
  {
    fault: 'unavailable (connections reset), receiver up',
    dynamodb: RESET,
    receiver: 'up',
    expected: { http: 200, message: 'delivered' },
    logSays: 'Token store unavailable; using a token of this instance',
  },
  {
    fault: 'unavailable (connections reset), receiver 503',
    dynamodb: RESET,
    receiver: '503',
    expected: { http: 503, message: 'nowhere' },
    logSays: 'ONEiO receiver answered 503; The outbox write failed',
  },
  {
    fault: 'unavailable (accepts connections, never answers), receiver up',
    dynamodb: HANG,
    receiver: 'up',
    expected: { http: 200, message: 'delivered' },
    logSays: 'Token store unavailable; using a token of this instance',
  },
  {
    fault: 'throttled (ProvisionedThroughputExceeded), receiver up',
    dynamodb: THROTTLED,
    receiver: 'up',
    expected: { http: 200, message: 'delivered' },
    logSays: 'DynamoDB call failed: ProvisionedThroughputExceededException',
  },
  {
    fault: 'throttled (ProvisionedThroughputExceeded), receiver 503',
    dynamodb: THROTTLED,
    receiver: '503',
    expected: { http: 503, message: 'nowhere' },
    logSays: 'ONEiO receiver answered 503; The outbox write failed',
  },
  {
    fault: 'throttled for one request (the SDK retries it)',
    dynamodb: firstRequests(1, DYNAMODB_THROTTLED),
    receiver: 'up',
    expected: { http: 200, message: 'delivered' },
  },
];

describe('fault matrix: DynamoDB', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  // A stalled service can keep an invocation running up to the function timeout (25 s).
  it.each(matrix(ROWS))('%s', { timeout: 45_000 }, async (_, row) => {
    world = await startFaultWorld();
    world.dynamodb.setRule(row.dynamodb);
    if (row.receiver === '503') world.fleet.oneio.failReceiver({ status: 503, times: 1_000 });

    const delivery = await sendWebhook(world);

    expect({ http: delivery.http, message: delivery.message }).toEqual(row.expected);
    expect(world.dynamodb.faults).toBeGreaterThan(0);
    // Degraded, not broken: one token for this instance, never one per attempt.
    expect(world.fleet.oneio.tokenRequests.count).toBe(1);
    if (row.logSays !== undefined) expectLogged(world, row.logSays);
    expectInvariants(world, delivery);
  });
});
