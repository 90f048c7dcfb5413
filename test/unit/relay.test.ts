import { describe, expect, it, vi } from 'vitest';
import type { OutboundMessage } from '../../functions/relay/core/delivery/deliver';
import { DestinationGate } from '../../functions/relay/core/destination/destination-gate';
import { OneioEndpointUnconfiguredError, TokenUnavailableError } from '../../functions/relay/core/errors';
import {
  NO_OUTBOX,
  NotKeptError,
  type RelayDeps,
  relay,
  type Undelivered,
  type UndeliveredSink,
} from '../../functions/relay/core/relay';
import { InMemoryDestinationStore } from '../../functions/relay/io/memory/destination-store';
import { FakeClock, FakeTokenSource, type Scripted, ScriptedReceiver } from './fakes';

const KEY = 'destination#oneio-receiver';

const MESSAGE: OutboundMessage = {
  relayId: 'relay-1',
  source: 'demo',
  deliveryId: 'delivery-1',
  body: '{"ticket":1}',
  receivedAt: Date.parse('2024-03-12T19:00:00Z'),
};

/** A sink that records what it is given and keeps it the way it is told to. */
function recordingSink(keep: (outcome: Undelivered) => Promise<'queued' | 'parked'>) {
  const kept: Array<{ message: OutboundMessage; outcome: Undelivered }> = [];
  const sink: UndeliveredSink = {
    keep: vi.fn(async (message: OutboundMessage, outcome: Undelivered) => {
      kept.push({ message, outcome });
      return keep(outcome);
    }),
  };
  return { sink, kept };
}

function deps(script: readonly Scripted[], sink: UndeliveredSink): { deps: RelayDeps; deadline: number } {
  const clock = new FakeClock();
  return {
    deps: {
      tokens: new FakeTokenSource(),
      receiver: new ScriptedReceiver(script, clock, 100),
      sink,
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
    },
    deadline: clock.now() + 8_000,
  };
}

describe('relay', () => {
  it('returns a delivered message without bothering the sink', async () => {
    // Prepare
    const { sink } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 200 }], sink);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(result).toEqual({ status: 'delivered', attempts: 1 });
    expect(sink.keep).not.toHaveBeenCalled();
  });

  it('hands an undelivered message to the sink and reports it queued', async () => {
    // Prepare
    const { sink, kept } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 503 }], sink);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(kept).toHaveLength(1);
    expect(kept[0]?.message).toBe(MESSAGE);
    expect(kept[0]?.outcome).toMatchObject({
      status: 'undelivered',
      lastError: 'ONEiO receiver answered 503',
    });
    expect(result).toEqual({
      status: 'queued',
      attempts: kept[0]?.outcome.attempts,
      lastError: 'ONEiO receiver answered 503',
      inDoubt: false,
    });
  });

  it('hands a rejected message to the sink, which parks it', async () => {
    // Prepare
    const { sink, kept } = recordingSink(async (outcome) =>
      outcome.status === 'rejected' ? 'parked' : 'queued',
    );
    const { deps: relayDeps, deadline } = deps([{ status: 422 }], sink);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(kept[0]?.outcome).toEqual({
      status: 'rejected',
      attempts: 1,
      httpStatus: 422,
      lastError: 'ONEiO receiver answered 422',
    });
    expect(result).toEqual({
      status: 'parked',
      attempts: 1,
      lastError: 'ONEiO receiver answered 422',
      inDoubt: false,
    });
  });

  it('fails when the sink cannot keep the message, saying why', async () => {
    // Prepare
    const sink: UndeliveredSink = {
      keep: async () => {
        throw new NotKeptError('Outbox write refused (ProvisionedThroughputExceededException)');
      },
    };
    const { deps: relayDeps, deadline } = deps([{ status: 503 }], sink);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(result.status).toBe('failed');
    expect(result).toMatchObject({
      lastError: 'ONEiO receiver answered 503; Outbox write refused (ProvisionedThroughputExceededException)',
    });
  });

  it('fails on an unexpected sink error without repeating its message, which may hold anything', async () => {
    // Prepare
    const sink: UndeliveredSink = {
      keep: async () => {
        throw new Error('item {"body":"customer data"} could not be marshalled');
      },
    };
    const { deps: relayDeps, deadline } = deps([{ status: 503 }], sink);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      lastError: 'ONEiO receiver answered 503; the outbox write failed',
    });
  });

  it('fails without keeping a message whose ONEiO endpoint has no credentials, so the sender retries it', async () => {
    // Prepare
    const { sink } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 200 }], sink);
    const tokens = new FakeTokenSource().failGets(
      new TokenUnavailableError('No usable token: the token request failed', {
        cause: new OneioEndpointUnconfiguredError(
          'Secret "s" holds no credentials for ONEiO endpoint "itsm"',
          'itsm',
        ),
      }),
    );

    // Act
    const result = await relay({ ...MESSAGE, oneioEndpoint: 'itsm' }, deadline, { ...relayDeps, tokens });

    // Assess
    expect(result).toEqual({
      status: 'failed',
      attempts: 0,
      lastError: 'Secret "s" holds no credentials for ONEiO endpoint "itsm"',
      inDoubt: false,
    });
    expect(sink.keep).not.toHaveBeenCalled();
  });

  it('fails with NO_OUTBOX, so the sender is told to retry', async () => {
    // Prepare
    const { deps: relayDeps, deadline } = deps([{ status: 503 }], NO_OUTBOX);

    // Act
    const result = await relay(MESSAGE, deadline, relayDeps);

    // Assess
    expect(result).toMatchObject({
      status: 'failed',
      lastError: 'ONEiO receiver answered 503; No durable outbox is configured',
    });
    expect(result.attempts).toBeGreaterThan(0);
  });

  it('uses the retry policy it is given', async () => {
    // Prepare: the policy wants more time per attempt than the whole budget
    const { sink, kept } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 200 }], sink);
    const withPolicy: RelayDeps = {
      ...relayDeps,
      retryPolicy: { baseDelayMs: 200, maxDelayMs: 2_000, requestTimeoutMs: 5_000, minAttemptMs: 10_000 },
    };

    // Act
    const result = await relay(MESSAGE, deadline, withPolicy);

    // Assess
    expect(result).toMatchObject({ status: 'queued', attempts: 0 });
    expect(kept[0]?.outcome.lastError).toBe('no attempt fitted in the time budget');
  });

  it.each([
    [
      'paused',
      (store: InMemoryDestinationStore, now: number) =>
        store.pause(KEY, { at: now, by: 'alice', reason: 'maintenance' }),
    ],
    ['backoff', (store: InMemoryDestinationStore, now: number) => store.extendNotBefore(KEY, now + 30_000)],
  ] as const)(
    'sends nothing while %s: no token, no POST, straight to the sink, saying why',
    async (reason, hold) => {
      // Prepare
      const { sink, kept } = recordingSink(async () => 'queued');
      const { deps: relayDeps, deadline } = deps([{ status: 200 }], sink);
      const clock = { now: relayDeps.now ?? Date.now };
      const store = new InMemoryDestinationStore();
      await hold(store, clock.now());
      const tokens = new FakeTokenSource();
      const receiver = relayDeps.receiver as ScriptedReceiver;
      const destination = new DestinationGate({
        store,
        key: KEY,
        policy: { threshold: 5, coolDownMs: 60_000 },
        now: clock.now,
      });

      // Act
      const result = await relay(MESSAGE, deadline, { ...relayDeps, tokens, destination });

      // Assess
      expect(result).toMatchObject({ status: 'queued', attempts: 0, held: reason, inDoubt: false });
      expect(kept[0]?.outcome).toMatchObject({ status: 'undelivered', attempts: 0 });
      expect(sink.keep).toHaveBeenCalledWith(MESSAGE, expect.anything(), { held: true });
      expect(kept[0]?.outcome.lastError).toMatch(
        reason === 'paused'
          ? /^not sent: deliveries paused by alice \(maintenance\)$/
          : /^not sent: ONEiO asked to wait until /,
      );
      expect(tokens.gets).toEqual([]);
      expect(receiver.requests).toEqual([]);
    },
  );

  it('tells the destination what each delivery showed: ONEiO’s Retry-After reaches the fleet', async () => {
    // Prepare
    const { sink } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 429, retryAfter: '30' }], sink);
    const store = new InMemoryDestinationStore();
    const destination = new DestinationGate({
      store,
      key: KEY,
      policy: { threshold: 5, coolDownMs: 60_000 },
      now: relayDeps.now ?? Date.now,
    });

    // Act
    const result = await relay(MESSAGE, deadline, { ...relayDeps, destination });

    // Assess
    expect(result).toMatchObject({ status: 'queued', attempts: 1 });
    expect(await store.read(KEY)).toMatchObject({
      failures: 1,
      notBefore: (relayDeps.now?.() ?? 0) + 30_000 - 0,
    });
  });

  it('keeps an undelivered message without waiting for the destination’s writes', async () => {
    // Prepare: ONEiO fails; the destination's store answers only when told to (a slow DynamoDB)
    const { sink, kept } = recordingSink(async () => 'queued');
    const { deps: relayDeps, deadline } = deps([{ status: 503 }], sink);
    let answer: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      answer = resolve;
    });
    const store = new InMemoryDestinationStore();
    const recordFailure = store.recordFailure.bind(store);
    store.recordFailure = async (...args) => {
      await slow;
      return recordFailure(...args);
    };
    const destination = new DestinationGate({
      store,
      key: KEY,
      policy: { threshold: 5, coolDownMs: 60_000 },
      now: relayDeps.now ?? Date.now,
    });

    // Act
    const relaying = relay(MESSAGE, deadline, { ...relayDeps, destination });
    await vi.waitFor(() => expect(kept).toHaveLength(1));
    const keptBeforeTheStore = (await store.read(KEY)).failures === 0;
    answer();
    const result = await relaying;

    // Assess
    expect(keptBeforeTheStore).toBe(true);
    expect(result).toMatchObject({ status: 'queued' });
    expect((await store.read(KEY)).failures).toBe(1);
  });
});
