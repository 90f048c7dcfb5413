import { afterEach, describe, expect, it } from 'vitest';
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
 * ONEiO's REST receiver fails while the token endpoint works. Within the webhook's 8 s budget the relay refreshes
 * the token once after a 401, retries transient answers (429 honouring Retry-After when it fits, 5xx) and parks what
 * ONEiO refuses; what it still cannot deliver goes to the outbox and is answered 202. A request whose answer never
 * came (reset, timeout) is in doubt and is not sent again in the same call.
 */
interface Row {
  readonly fault: string;
  readonly inject: (world: FaultWorld) => void;
  readonly expected: Expected;
  readonly receiverRequests: readonly [min: number, max: number];
  readonly tokenRequests: number;
  /** The log names the cause. */
  readonly logSays?: string;
}

const ROWS: readonly Row[] = [
  {
    fault: '401 once (token revoked)',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 401, times: 1 }),
    expected: { http: 200, message: 'delivered' },
    receiverRequests: [2, 2],
    tokenRequests: 2,
  },
  {
    fault: '401 even with a fresh token',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 401, times: 100 }),
    expected: { http: 202, message: 'queued' },
    receiverRequests: [2, 2],
    tokenRequests: 2,
    logSays: 'ONEiO receiver answered 401 after a token refresh',
  },
  {
    fault: '403',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 403, times: 100 }),
    expected: { http: 202, message: 'parked' },
    receiverRequests: [1, 1],
    tokenRequests: 1,
    logSays: 'ONEiO receiver answered 403',
  },
  {
    fault: '429 with Retry-After: 1 (fits the budget)',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 429, times: 1, retryAfter: 1 }),
    expected: { http: 200, message: 'delivered' },
    receiverRequests: [2, 2],
    tokenRequests: 1,
  },
  {
    fault: '429 with Retry-After: 120 (does not fit)',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 429, times: 100, retryAfter: 120 }),
    expected: { http: 202, message: 'queued' },
    receiverRequests: [1, 1],
    tokenRequests: 1,
    logSays: 'ONEiO receiver answered 429',
  },
  {
    fault: '503 twice',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 503, times: 2 }),
    expected: { http: 200, message: 'delivered' },
    receiverRequests: [3, 3],
    tokenRequests: 1,
  },
  {
    fault: '503 throughout',
    inject: ({ fleet }) => fleet.oneio.failReceiver({ status: 503, times: 1_000 }),
    expected: { http: 202, message: 'queued' },
    receiverRequests: [2, 40],
    tokenRequests: 1,
    logSays: 'ONEiO receiver answered 503',
  },
  {
    // The relay cannot tell a reset before ONEiO read the request from one after it committed it: either way the
    // message is in doubt and waits for the outbox (see receiver-ambiguous.test.ts for the other half).
    fault: 'resets the connection once',
    inject: ({ fleet }) => fleet.oneio.resetConnections({ times: 1 }),
    expected: { http: 202, message: 'queued' },
    receiverRequests: [1, 1],
    tokenRequests: 1,
    logSays: 'ONEiO receiver unreachable (ECONNRESET); in doubt',
  },
];

describe('fault matrix: ONEiO receiver', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  it.each(matrix(ROWS))('%s', async (_, row) => {
    world = await startFaultWorld();
    row.inject(world);

    const delivery = await sendWebhook(world);

    expect({ http: delivery.http, message: delivery.message }).toEqual(row.expected);
    expect(world.fleet.oneio.receiverRequests).toBeGreaterThanOrEqual(row.receiverRequests[0]);
    expect(world.fleet.oneio.receiverRequests).toBeLessThanOrEqual(row.receiverRequests[1]);
    expect(world.fleet.oneio.tokenRequests.count).toBe(row.tokenRequests);
    if (row.logSays !== undefined) expectLogged(world, row.logSays);
    expectInvariants(world, delivery);
  });
});
