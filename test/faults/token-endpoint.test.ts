import { afterEach, describe, expect, it, vi } from 'vitest';
import { ENV } from '../../functions/relay/contract';
import { lambdaContext } from '../support/lambda-context';
import { CLIENT_ID, githubWebhookFor } from '../support/relay-fleet';
import { type FaultProxy, firstRequests, startFaultProxy } from './fault-proxy';
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

/** A world whose token endpoint is reached through a fault proxy (the emulator behind it issues real tokens). */
async function worldWithTokenProxy(): Promise<{ world: FaultWorld; tokenProxy: FaultProxy }> {
  const tokenProxy = await startFaultProxy();
  const world = await startFaultWorld({ [ENV.tokenUrl]: `${tokenProxy.url}/oauth2/token` });
  tokenProxy.setUpstream(world.fleet.oneio.baseUrl);
  return { world, tokenProxy };
}

/** Structured log messages the relay wrote. */
function logMessages(world: FaultWorld): string[] {
  return world.fleet
    .logs()
    .split('\n')
    .flatMap((line) => {
      try {
        const record = JSON.parse(line) as { message?: unknown };
        return typeof record.message === 'string' ? [record.message] : [];
      } catch {
        return [];
      }
    });
}

describe('ambiguous faults: ONEiO token endpoint issued a token, then its answer was lost or late', () => {
  let world: FaultWorld | undefined;
  let tokenProxy: FaultProxy | undefined;

  afterEach(async () => {
    await tokenProxy?.close();
    await world?.close();
    world = undefined;
    tokenProxy = undefined;
  });

  it('connection reset after the token was issued → the message is kept, the next request after the backoff works', async () => {
    // Prepare
    ({ world, tokenProxy } = await worldWithTokenProxy());
    tokenProxy.setRule(firstRequests(1, { afterApply: 'reset' }));

    // Act: one webhook now, one after the instance's failure backoff (at most 6 s).
    const first = await sendWebhook(world);
    await new Promise((resolve) => setTimeout(resolve, 6_000));
    const second = await sendWebhook(world);

    // Assess: the token whose answer was lost is never used; the first message was delivered with the next token
    // or kept for the sweep; a token request per failure, not per retry.
    expect([
      { http: 200, message: 'delivered' },
      { http: 202, message: 'queued' },
    ]).toContainEqual({ http: first.http, message: first.message });
    expect({ http: second.http, message: second.message }).toEqual({ http: 200, message: 'delivered' });
    expect(world.fleet.oneio.tokenRequests.count).toBe(2);
    expect(tokenProxy.faults).toBe(1);
    expectLogged(world, 'Token endpoint unreachable (ECONNRESET)');
    expectInvariants(world, first);
    expectInvariants(world, second);
  }, 30_000);

  it('token answer later than the 5 s request timeout → 202, message queued, one token request', async () => {
    // Prepare
    ({ world, tokenProxy } = await worldWithTokenProxy());
    tokenProxy.setRule(firstRequests(1, { afterApply: 'delay', ms: 7_000 }));

    // Act
    const delivery = await sendWebhook(world);

    // Assess
    expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 202, message: 'queued' });
    expect(world.fleet.oneio.tokenRequests.count).toBe(1);
    expect(world.fleet.oneio.receiverRequests).toBe(0);
    expectLogged(world, 'Token endpoint unreachable (TimeoutError)');
    expectInvariants(world, delivery);
  }, 30_000);

  it('a refresh started by an invocation with little time left outlives it and serves the next one', async () => {
    // Prepare: the token endpoint takes 3.5 s; the first invocation has 3 s left (a 2 s budget).
    ({ world, tokenProxy } = await worldWithTokenProxy());
    world.fleet.oneio.delayTokenEndpoint(3_500);

    // Act
    const hurried = await world.handle(githubWebhookFor('{"hurried":true}'), lambdaContext(3_000));
    await vi.waitFor(() => expect(logMessages(world as FaultWorld)).toContain('Access token refreshed'), {
      timeout: 10_000,
      interval: 100,
    });
    const next = await sendWebhook(world);

    // Assess: the hurried call gave up alone and queued its message; the request it started was not cut short,
    // reported no failure, started no backoff, and its token delivered the next message.
    expect(hurried?.statusCode).toBe(202);
    expect({ http: next.http, message: next.message }).toEqual({ http: 200, message: 'delivered' });
    expect(world.fleet.oneio.tokenRequests.count).toBe(1);
    expect(logMessages(world)).not.toContain('Access token refresh failed');
    expectInvariants(world, next);
  }, 30_000);
});
