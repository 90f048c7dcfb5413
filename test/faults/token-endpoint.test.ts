import { afterEach, describe, expect, it } from 'vitest';
import { CLIENT_ID } from '../support/relay-fleet';
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
 * ONEiO's token endpoint fails while no usable token exists anywhere (a fresh table, a cold environment). The
 * webhook cannot be delivered in its 8 s budget, so it must be kept in the outbox and answered 202; the endpoint
 * is asked again at most once in that time (an instance backs off ≥ 3 s after a failed token request).
 */
interface Row {
  readonly fault: string;
  readonly inject: (world: FaultWorld) => void;
  readonly expected: Expected;
  readonly tokenRequests: readonly [min: number, max: number];
  /** The log names the cause. */
  readonly logSays: string;
  readonly also?: (world: FaultWorld) => void;
}

const ROWS: readonly Row[] = [
  {
    fault: 'answers 500',
    inject: ({ fleet }) => fleet.oneio.failTokenEndpoint({ status: 500, times: 100 }),
    expected: { http: 202, message: 'queued' },
    tokenRequests: [1, 2],
    logSays: 'Token endpoint answered 500',
  },
  {
    fault: 'hangs past the 5 s token request timeout',
    inject: ({ fleet }) => fleet.oneio.delayTokenEndpoint(7_000),
    expected: { http: 202, message: 'queued' },
    tokenRequests: [1, 1],
    logSays: 'Token endpoint unreachable (TimeoutError)',
  },
  {
    fault: 'answers 401 invalid_client (secret rotated in ONEiO only)',
    inject: ({ fleet }) =>
      fleet.oneio.setCredentials({ clientId: CLIENT_ID, clientSecret: 'rotated-in-oneio-only' }),
    expected: { http: 202, message: 'queued' },
    tokenRequests: [1, 2],
    logSays: 'Token endpoint rejected the client credentials: 401 (invalid_client)',
    also: ({ fleet }) => {
      // Rotation check: the signing secret, the credentials, then one forced re-read per invalid_client answer.
      expect(fleet.secrets.calls.GetSecretValue).toBe(2 + fleet.oneio.tokenRequests.count);
    },
  },
  {
    fault: 'answers 200 with malformed JSON',
    inject: ({ fleet }) =>
      fleet.oneio.failTokenEndpoint({ status: 200, times: 100, body: '{"access_token":"tok","token_ty' }),
    expected: { http: 202, message: 'queued' },
    tokenRequests: [1, 2],
    logSays: 'Token endpoint answered 200 with a malformed token: not JSON',
  },
];

describe('fault matrix: ONEiO token endpoint', () => {
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
    expect(world.fleet.oneio.tokenRequests.count).toBeGreaterThanOrEqual(row.tokenRequests[0]);
    expect(world.fleet.oneio.tokenRequests.count).toBeLessThanOrEqual(row.tokenRequests[1]);
    expect(world.fleet.oneio.receiverRequests).toBe(0);
    expectLogged(world, row.logSays);
    row.also?.(world);
    expectInvariants(world, delivery);
  });
});
