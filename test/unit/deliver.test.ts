import { describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_RETRY_POLICY,
  type DeliverDeps,
  deliver,
  type OutboundMessage,
  type RetryPolicy,
} from '../../functions/relay/core/delivery/deliver';
import {
  OneioEndpointUnconfiguredError,
  ReceiverNetworkError,
  TokenUnavailableError,
} from '../../functions/relay/core/errors';
import { FakeClock, FakeTokenSource, type Scripted, ScriptedReceiver } from './fakes';

const MESSAGE: OutboundMessage = {
  relayId: 'relay-1',
  source: 'demo',
  deliveryId: 'delivery-1',
  body: '{"id": 12345678901234567890123, "b": 1, "a": 2}',
  receivedAt: Date.parse('2024-03-12T19:00:00Z'),
};
/** The webhook path's budget. */
const BUDGET_MS = 8_000;
const POLICY: RetryPolicy = DEFAULT_RETRY_POLICY;

interface Setup {
  readonly clock: FakeClock;
  readonly tokens: FakeTokenSource;
  readonly receiver: ScriptedReceiver;
  readonly deps: DeliverDeps;
  readonly deadline: number;
}

function setup(script: readonly Scripted[], options: { latencyMs?: number; random?: number } = {}): Setup {
  const clock = new FakeClock();
  const tokens = new FakeTokenSource();
  const receiver = new ScriptedReceiver(script, clock, options.latencyMs ?? 50);
  const random = options.random ?? 0.5;
  return {
    clock,
    tokens,
    receiver,
    deps: { tokens, receiver, now: clock.now, sleep: clock.sleep, random: () => random },
    deadline: clock.now() + BUDGET_MS,
  };
}

/** A connection that failed before the request could reach ONEiO: nothing is in doubt, a retry is safe. */
const networkError = () => new ReceiverNetworkError('ONEiO receiver unreachable (ECONNREFUSED)', false);

describe('deliver', () => {
  it('delivers on the first attempt, sending the body untouched with the current token', async () => {
    // Prepare
    const { deps, deadline, receiver, clock } = setup([{ status: 202 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
    expect(receiver.requests[0]?.body).toBe(MESSAGE.body);
    expect(receiver.requests[0]?.accessToken).toBe('token-1');
    expect(clock.sleeps).toEqual([]);
  });

  it('asks the token source for a token valid until the deadline', async () => {
    // Prepare
    const { deps, deadline, tokens } = setup([{ status: 200 }]);

    // Act
    await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(tokens.gets).toEqual([deadline]);
  });

  it('retries a 503 and delivers on the next attempt', async () => {
    // Prepare
    const { deps, deadline, receiver, clock } = setup([{ status: 503 }, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 2 });
    expect(receiver.requests).toHaveLength(2);
    expect(clock.sleeps).toHaveLength(1);
  });

  it('backs off between retries with growing, jittered delays', async () => {
    // Prepare
    const { deps, deadline, clock } = setup(
      [{ status: 503 }, { status: 502 }, { status: 504 }, { status: 200 }],
      {
        random: 0.999,
      },
    );

    // Act
    await deliver(MESSAGE, deadline, deps);

    // Assess: full jitter below 200, 400, 800 ms
    expect(clock.sleeps).toEqual([199, 399, 799]);
  });

  it('retries after a network error and delivers on the next attempt', async () => {
    // Prepare
    const { deps, deadline, receiver } = setup([networkError(), { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 2 });
    expect(receiver.requests).toHaveLength(2);
  });

  it('on a 401 invalidates exactly the token that failed and retries once with a fresh one', async () => {
    // Prepare
    const { deps, deadline, receiver, tokens } = setup([{ status: 401 }, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 2 });
    expect(tokens.invalidated).toEqual([FakeTokenSource.token(1)]);
    expect(receiver.requests.map((r) => r.accessToken)).toEqual(['token-1', 'token-2']);
  });

  it('gives up after a second 401 with one refresh, never looping, and reports the second refused token too', async () => {
    // Prepare: the receiver refuses every token
    const { deps, deadline, receiver, tokens } = setup([{ status: 401 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess: two attempts; both refused tokens reported, so neither is handed out again
    expect(outcome.status).toBe('undelivered');
    expect(outcome.attempts).toBe(2);
    expect(receiver.requests.map((r) => r.accessToken)).toEqual(['token-1', 'token-2']);
    expect(tokens.invalidated).toEqual([FakeTokenSource.token(1), FakeTokenSource.token(2)]);
    expect(outcome).toMatchObject({ lastError: expect.stringContaining('401'), credentialsRefused: true });
  });

  it('does not refresh a second time when a 401 follows a transient failure after the first refresh', async () => {
    // Prepare
    const { deps, deadline, tokens } = setup([
      { status: 401 },
      { status: 503 },
      { status: 401 },
      { status: 200 },
    ]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess: the second 401 is reported, not retried
    expect(outcome).toMatchObject({ status: 'undelivered', attempts: 3 });
    expect(tokens.invalidated.map((t) => t.version)).toEqual(['v1', 'v2']);
  });

  it('answers at once when the token source says no token comes before the deadline', async () => {
    // Prepare: holding off after refused tokens for five minutes
    const { deps, deadline, clock, receiver, tokens } = setup([{ status: 200 }]);
    tokens.failGets(
      new TokenUnavailableError('No usable token: ONEiO keeps refusing new tokens (401)', {
        until: clock.now() + 300_000,
      }),
    );

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess: one look, no waiting out the budget
    expect(outcome).toMatchObject({ status: 'undelivered', attempts: 0, inDoubt: false });
    expect(tokens.gets).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
    expect(receiver.requests).toEqual([]);
  });

  it('keeps trying within the budget when the token source is only backing off briefly', async () => {
    // Prepare: a backoff that ends a second from now, well inside the 8 s budget
    const { deps, deadline, clock, receiver, tokens } = setup([{ status: 200 }]);
    tokens.failGets(
      new TokenUnavailableError('No usable token: backing off', { until: clock.now() + 1_000 }),
      1,
    );

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('rejects a 400 immediately, after a single attempt and no wait', async () => {
    // Prepare
    const { deps, deadline, receiver, clock } = setup([{ status: 400 }, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({
      status: 'rejected',
      attempts: 1,
      httpStatus: 400,
      lastError: 'ONEiO receiver answered 400',
    });
    expect(receiver.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it.each([403, 404, 413, 422])('rejects a %i without retrying', async (status) => {
    // Prepare
    const { deps, deadline, receiver } = setup([{ status }, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toMatchObject({ status: 'rejected', httpStatus: status, attempts: 1 });
    expect(receiver.requests).toHaveLength(1);
  });

  it('waits at least as long as a 429 Retry-After asks when it fits the budget', async () => {
    // Prepare: the jitter alone would wait 0 ms
    const { deps, deadline, receiver, clock } = setup([{ status: 429, retryAfter: '3' }, { status: 200 }], {
      random: 0,
    });

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 2 });
    expect(clock.sleeps).toHaveLength(1);
    expect(clock.sleeps[0]).toBeGreaterThanOrEqual(3_000);
    const [first, second] = receiver.requests;
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(3_000);
  });

  it('honours a Retry-After given as an HTTP date', async () => {
    // Prepare
    const clock = new FakeClock();
    const retryAt = new Date(clock.now() + 2_000).toUTCString();
    const receiver = new ScriptedReceiver([{ status: 503, retryAfter: retryAt }, { status: 200 }], clock);
    const deps: DeliverDeps = {
      tokens: new FakeTokenSource(),
      receiver,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0,
    };

    // Act
    await deliver(MESSAGE, clock.now() + BUDGET_MS, deps);

    // Assess
    expect(receiver.requests[1]?.at).toBeGreaterThanOrEqual(Date.parse(retryAt));
  });

  it('leaves a message undelivered without waiting when Retry-After does not fit the budget, saying until when', async () => {
    // Prepare
    const { deps, deadline, receiver, clock } = setup([{ status: 429, retryAfter: '120' }, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess: the time ONEiO asked for goes with the outcome, for the fleet-wide backoff
    expect(outcome).toEqual({
      status: 'undelivered',
      attempts: 1,
      lastError: 'ONEiO receiver answered 429',
      inDoubt: false,
      notBefore: (receiver.requests[0]?.at ?? 0) + 50 + 120_000,
    });
    expect(receiver.requests).toHaveLength(1);
    expect(clock.sleeps).toEqual([]);
  });

  it('stops when the budget is spent, every attempt starting with enough time left', async () => {
    // Prepare: ONEiO is down for longer than the budget; each attempt takes 100 ms
    const { deps, deadline, receiver, clock } = setup([{ status: 503 }], { latencyMs: 100 });

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toMatchObject({ status: 'undelivered', lastError: 'ONEiO receiver answered 503' });
    expect(outcome.attempts).toBe(receiver.requests.length);
    expect(outcome.attempts).toBeGreaterThan(3);
    expect(outcome.attempts).toBeLessThanOrEqual(12);
    for (const request of receiver.requests) {
      expect(deadline - request.at).toBeGreaterThanOrEqual(POLICY.minAttemptMs);
    }
    expect(clock.now()).toBeLessThanOrEqual(deadline);
  });

  it('makes no attempt when less than the minimum attempt time is left', async () => {
    // Prepare
    const { deps, clock, receiver, tokens } = setup([{ status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, clock.now() + POLICY.minAttemptMs - 1, deps);

    // Assess
    expect(outcome).toEqual({
      status: 'undelivered',
      attempts: 0,
      lastError: 'no attempt fitted in the time budget',
      inDoubt: false,
    });
    expect(tokens.gets).toEqual([]);
    expect(receiver.requests).toEqual([]);
  });

  it('does not start a request when getting the token used up the time budget', async () => {
    // Prepare: a token refresh that returns just before the deadline
    const clock = new FakeClock();
    const tokens = new FakeTokenSource(clock, BUDGET_MS - 100);
    const receiver = new ScriptedReceiver([{ status: 200 }], clock);
    const deadline = clock.now() + BUDGET_MS;

    // Act
    const outcome = await deliver(MESSAGE, deadline, {
      tokens,
      receiver,
      now: clock.now,
      sleep: clock.sleep,
    });

    // Assess: a POST with 100 ms left would likely be cut off after ONEiO took it, and then be sent again
    expect(receiver.requests).toEqual([]);
    expect(outcome).toMatchObject({ status: 'undelivered', attempts: 0 });
  });

  it('retries when no token is available, then leaves the message undelivered', async () => {
    // Prepare
    const { deps, deadline, receiver, tokens } = setup([{ status: 200 }]);
    tokens.failGets(new TokenUnavailableError('Token endpoint unreachable (ECONNREFUSED)'));

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({
      status: 'undelivered',
      attempts: 0,
      lastError: 'Token endpoint unreachable (ECONNREFUSED)',
      inDoubt: false,
    });
    expect(tokens.gets.length).toBeGreaterThan(1);
    expect(receiver.requests).toEqual([]);
  });

  it('delivers once a token becomes available again', async () => {
    // Prepare
    const { deps, deadline, tokens } = setup([{ status: 200 }]);
    tokens.failGets(new TokenUnavailableError('lease held by a stuck refresher'), 2);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(outcome).toEqual({ status: 'delivered', attempts: 1 });
    expect(tokens.gets).toHaveLength(3);
  });

  it('lets an unexpected error (a bug, not a relay failure) escape instead of retrying it', async () => {
    // Prepare
    const { deps, deadline, receiver } = setup([
      new TypeError('cannot read properties of undefined'),
      { status: 200 },
    ]);

    // Act
    const delivering = deliver(MESSAGE, deadline, deps);

    // Assess
    await expect(delivering).rejects.toThrow(TypeError);
    expect(receiver.requests).toHaveLength(1);
  });

  it('gives every request its own AbortSignal, not yet aborted when the request starts', async () => {
    // Prepare
    const { deps, deadline, receiver } = setup([{ status: 503 }, networkError(), { status: 200 }]);
    const abortedAtStart: boolean[] = [];
    const send = receiver.send.bind(receiver);
    receiver.send = (message, token, options) => {
      abortedAtStart.push(options.signal?.aborted ?? true);
      return send(message, token, options);
    };

    // Act
    await deliver(MESSAGE, deadline, deps);

    // Assess
    const signals = receiver.requests.map((r) => r.signal);
    expect(signals).toHaveLength(3);
    for (const signal of signals) expect(signal).toBeInstanceOf(AbortSignal);
    expect(new Set(signals).size).toBe(3);
    expect(abortedAtStart).toEqual([false, false, false]);
  });

  it('aborts a request that outlives the request timeout, and leaves the message in doubt', async () => {
    // Prepare: a receiver that never answers on its own; a 20 ms request timeout (real time)
    const clock = new FakeClock();
    let seen: AbortSignal | undefined;
    const deps: DeliverDeps = {
      tokens: new FakeTokenSource(),
      receiver: {
        send: (_message, _token, { signal }) =>
          new Promise((_resolve, reject) => {
            seen = signal;
            signal?.addEventListener('abort', () =>
              reject(new ReceiverNetworkError('ONEiO receiver unreachable (TimeoutError)', true)),
            );
          }),
      },
      now: clock.now,
      sleep: clock.sleep,
    };

    // Act
    const outcome = await deliver(MESSAGE, clock.now() + BUDGET_MS, deps, {
      ...POLICY,
      requestTimeoutMs: 20,
    });

    // Assess: plenty of budget was left, and still no second copy was started
    expect(seen?.aborted).toBe(true);
    expect((seen?.reason as Error | undefined)?.name).toBe('TimeoutError');
    expect(outcome).toEqual({
      status: 'undelivered',
      attempts: 1,
      lastError: 'ONEiO receiver unreachable (TimeoutError); in doubt',
      inDoubt: true,
    });
  });

  it.each([
    ['ECONNRESET', 'the connection was reset after the request was sent'],
    ['TimeoutError', 'the answer did not come in time'],
  ])('never starts a second copy in the same call after %s (%s)', async (code) => {
    // Prepare: an answer that never came, then a receiver that would take the message
    const inDoubt = new ReceiverNetworkError(`ONEiO receiver unreachable (${code})`, true);
    const { deps, deadline, receiver } = setup([inDoubt, { status: 200 }]);

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(receiver.requests).toHaveLength(1);
    expect(outcome).toMatchObject({ status: 'undelivered', attempts: 1, inDoubt: true });
  });

  it('gives an attempt the whole remaining budget by default, so a slow ONEiO is not hit twice', async () => {
    // Prepare
    const { deps, deadline } = setup([{ status: 200 }]);
    const timeout = vi.spyOn(AbortSignal, 'timeout');
    let timeouts: unknown[][] = [];

    // Act
    try {
      await deliver(MESSAGE, deadline, deps);
      timeouts = [...timeout.mock.calls];
    } finally {
      timeout.mockRestore();
    }

    // Assess: the request's timeout is the whole budget (8 s), not a fixed 5 s
    expect(timeouts).toEqual([[BUDGET_MS]]);
  });

  it('sends the message itself to the receiver, so its ids go with every attempt', async () => {
    // Prepare
    const { deps, deadline, receiver } = setup([{ status: 503 }, { status: 200 }]);

    // Act
    await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(receiver.requests.map((r) => r.message)).toEqual([MESSAGE, MESSAGE]);
  });

  it("takes the token of the message's ONEiO endpoint, and the default pair's when it names none", async () => {
    // Prepare: a token source per endpoint
    const clock = new FakeClock();
    const byEndpoint = { itsm: new FakeTokenSource(), default: new FakeTokenSource() };
    byEndpoint.itsm.invalidate(FakeTokenSource.token(1));
    const receiver = new ScriptedReceiver([{ status: 200 }], clock);
    const tokens = {
      forEndpoint: (name: string | undefined) => (name === 'itsm' ? byEndpoint.itsm : byEndpoint.default),
    };
    const deps: DeliverDeps = { tokens, receiver, now: clock.now, sleep: clock.sleep };

    // Act
    await deliver({ ...MESSAGE, oneioEndpoint: 'itsm' }, clock.now() + BUDGET_MS, deps);
    await deliver(MESSAGE, clock.now() + BUDGET_MS, deps);

    // Assess: itsm's source hands out token-2, the default's token-1
    expect(receiver.requests.map((r) => r.accessToken)).toEqual(['token-2', 'token-1']);
    expect(byEndpoint.itsm.gets).toHaveLength(1);
    expect(byEndpoint.default.gets).toHaveLength(1);
  });

  it('sends nothing and stops at once when the message names an endpoint without credentials', async () => {
    // Prepare: the token source failed because the credentials secret holds no pair for the endpoint
    const { deps, deadline, receiver, tokens, clock } = setup([{ status: 200 }]);
    const missing = new OneioEndpointUnconfiguredError(
      'Secret "oneio-relay/qa" holds no credentials for ONEiO endpoint "itsm"',
      'itsm',
    );
    tokens.failGets(
      new TokenUnavailableError('No usable token: the token request failed', { cause: missing }),
    );
    const started = clock.now();

    // Act
    const outcome = await deliver({ ...MESSAGE, oneioEndpoint: 'itsm' }, deadline, deps);

    // Assess: no retry within the budget, no POST
    expect(outcome).toEqual({
      status: 'unconfigured',
      attempts: 0,
      lastError: missing.message,
      inDoubt: false,
    });
    expect(tokens.gets).toHaveLength(1);
    expect(receiver.requests).toHaveLength(0);
    expect(clock.now()).toBe(started);
    expect(tokens.endpoints).toEqual(['itsm']);
  });

  it('queues instead of retrying when the token source holds off after repeated 401s', async () => {
    // Prepare: the token source says a fresh token would not help
    const { deps, deadline, receiver, tokens } = setup([{ status: 401 }, { status: 200 }]);
    tokens.invalidate = async () => false;

    // Act
    const outcome = await deliver(MESSAGE, deadline, deps);

    // Assess
    expect(receiver.requests).toHaveLength(1);
    expect(outcome).toMatchObject({
      status: 'undelivered',
      inDoubt: false,
      credentialsRefused: true,
      lastError: expect.stringContaining('ONEiO keeps refusing fresh tokens'),
    });
  });
});
