import { describe, expect, it } from 'vitest';
import type { DeliveryOutcome } from '../../functions/relay/core/delivery/deliver';
import {
  type DestinationEvents,
  DestinationGate,
  holdOf,
} from '../../functions/relay/core/destination/destination-gate';
import { InMemoryDestinationStore } from '../../functions/relay/io/memory/destination-store';
import { CLEAR_STATE, type DestinationStore } from '../../functions/relay/ports/destination-store';
import { FakeClock } from './fakes';

const KEY = 'destination#oneio-receiver';
const DELIVERED: DeliveryOutcome = { status: 'delivered', attempts: 1 };
const UNCONFIGURED: DeliveryOutcome = {
  status: 'unconfigured',
  attempts: 0,
  lastError: 'The credentials secret holds no credentials for ONEiO endpoint "itsm"',
  inDoubt: false,
};
/** ONEiO's receiver answered 401 to a fresh token: up, but refusing this credential pair. */
const PAIR_REFUSED: DeliveryOutcome = {
  status: 'undelivered',
  attempts: 2,
  lastError: 'ONEiO receiver answered 401 after a token refresh',
  inDoubt: false,
  credentialsRefused: true,
};
const FAILED: DeliveryOutcome = {
  status: 'undelivered',
  attempts: 3,
  lastError: 'ONEiO receiver answered 503',
  inDoubt: false,
};

/** A fleet of instances: one gate each, one shared store, one clock, and every event any of them reported. */
function fleet(instances: number, policy = { threshold: 3, coolDownMs: 60_000 }) {
  const clock = new FakeClock();
  const store = new InMemoryDestinationStore();
  const events: string[] = [];
  const recorder: DestinationEvents = {
    stateUnavailable: (error) => events.push(`unavailable: ${error.message}`),
    backoffStarted: ({ until }) => events.push(`backoff until +${until - clock.now()}`),
    breakerOpened: ({ failures }) => events.push(`opened after ${failures}`),
    breakerClosed: () => events.push('closed'),
    breakerReopened: () => events.push('reopened'),
  };
  const gates = Array.from(
    { length: instances },
    () => new DestinationGate({ store, key: KEY, policy, now: clock.now, events: recorder }),
  );
  return { clock, store, gates, events };
}

describe('DestinationGate', () => {
  it('costs a warm delivery no store call while its state is fresh, and reads again after 5 s', async () => {
    // Prepare
    const { clock, store, gates } = fleet(1);
    const [gate] = gates as [DestinationGate];
    await gate.hold();
    const reads = store.calls.read;

    // Act: 100 deliveries within 4.9 s
    for (let i = 0; i < 100; i++) {
      await gate.hold();
      await gate.record(DELIVERED);
      clock.advance(49);
    }
    const whileFresh = { ...store.calls };
    clock.advance(200);
    await gate.hold();

    // Assess
    expect(reads).toBe(1);
    expect(whileFresh).toEqual({ read: 1 });
    expect(store.calls.read).toBe(2);
  });

  it('holds the whole fleet when ONEiO asks to wait, with one write per instance, not one per message', async () => {
    // Prepare: two instances; the first meets a 429 with Retry-After: 30 on three messages
    const { clock, store, gates, events } = fleet(2, { threshold: 5, coolDownMs: 60_000 });
    const [first, second] = gates as [DestinationGate, DestinationGate];
    await second.hold();
    const until = clock.now() + 30_000;
    const asked: DeliveryOutcome = { ...FAILED, attempts: 1, notBefore: until };

    // Act
    for (let i = 0; i < 3; i++) await first.record(asked);
    const firstHold = await first.hold();
    const secondBefore = await second.hold();
    clock.advance(5_000);
    const secondAfter = await second.hold();
    clock.advance(25_001);
    const afterwards = [await first.hold(), await second.hold()];

    // Assess
    expect(store.calls.extendNotBefore).toBe(1);
    expect(events).toContain('backoff until +30000');
    expect(firstHold).toMatchObject({ reason: 'backoff' });
    // The second instance sees it once its cached state is older than 5 s.
    expect(secondBefore).toBeUndefined();
    expect(secondAfter).toMatchObject({ reason: 'backoff', until });
    expect(afterwards).toEqual([undefined, undefined]);
  });

  it('extends the fleet’s backoff only when ONEiO asks for longer, and caps a broken Retry-After at an hour', async () => {
    const { clock, store, gates } = fleet(1);
    const [gate] = gates as [DestinationGate];
    const askFor = (ms: number): DeliveryOutcome => ({ ...FAILED, attempts: 1, notBefore: clock.now() + ms });

    await gate.record(askFor(30_000));
    await gate.record(askFor(10_000));
    await gate.record(askFor(365 * 24 * 3_600_000));

    expect(store.calls.extendNotBefore).toBe(2);
    expect((await store.read(KEY)).notBefore).toBe(clock.now() + 3_600_000);
  });

  it('opens the breaker after the threshold of failures across the fleet, once, and holds every instance', async () => {
    // Prepare
    const { clock, store, gates, events } = fleet(3);
    const [a, b, c] = gates as [DestinationGate, DestinationGate, DestinationGate];

    // Act: one failure in each instance
    await a.record(FAILED);
    await b.record(FAILED);
    await c.record(FAILED);
    const opener = await c.hold();
    clock.advance(5_001);
    const others = [await a.hold(), await b.hold()];

    // Assess
    expect(store.calls.recordFailure).toBe(3);
    expect(events.filter((e) => e.startsWith('opened'))).toEqual(['opened after 3']);
    expect(opener).toMatchObject({ reason: 'breaker', until: clock.now() - 5_001 + 60_000 });
    expect(others.map((h) => h?.reason)).toEqual(['breaker', 'breaker']);
  });

  it('counts nothing for an attempt that never reached ONEiO, and resets the count on the next answer', async () => {
    const { store, gates } = fleet(1);
    const [gate] = gates as [DestinationGate];

    await gate.record({ status: 'undelivered', attempts: 0, lastError: 'no token', inDoubt: false });
    await gate.record(FAILED);
    await gate.record(FAILED);
    // A message whose ONEiO endpoint has no pair in the secret: ONEiO never saw it, the run of failures goes on.
    await gate.record(UNCONFIGURED);
    expect(store.calls.resetFailures ?? 0).toBe(0);
    await gate.record({
      status: 'rejected',
      attempts: 1,
      lastError: 'ONEiO receiver answered 400',
      httpStatus: 400,
    });
    await gate.record(DELIVERED);

    expect(store.calls.recordFailure).toBe(2);
    // One reset after the refusal (ONEiO answered); none on the success after it: the count was already 0.
    expect(store.calls.resetFailures).toBe(1);
    expect((await store.read(KEY)).failures).toBe(0);
  });

  it('half-open: one sweep probes; a delivered probe closes the breaker, a failed one opens it again', async () => {
    // Prepare: the breaker opened by three failures
    const { clock, gates, events } = fleet(2);
    const [sweepA, sweepB] = gates as [DestinationGate, DestinationGate];
    for (let i = 0; i < 3; i++) await sweepA.record(FAILED);

    // Act
    const duringCoolDown = await sweepA.planSweep();
    clock.advance(60_000);
    const plans = [await sweepA.planSweep(), await sweepB.planSweep()];
    const won = [await sweepA.tryProbe(), await sweepB.tryProbe()];
    const liveDuringProbe = await sweepB.hold();
    const failedProbe = await sweepA.endProbe(FAILED);
    const afterFailure = await sweepB.planSweep();
    clock.advance(60_000);
    await sweepB.planSweep();
    const secondProbe = [await sweepB.tryProbe(), await sweepB.endProbe(DELIVERED)];
    const afterClose = [await sweepA.planSweep(), await sweepB.hold()];

    // Assess
    expect(duringCoolDown).toMatchObject({ kind: 'hold', hold: { reason: 'breaker' } });
    expect(plans).toEqual([{ kind: 'probe' }, { kind: 'probe' }]);
    expect(won).toEqual([true, false]);
    expect(liveDuringProbe).toMatchObject({ reason: 'breaker' });
    expect(failedProbe).toBe('reopened');
    expect(afterFailure).toMatchObject({ kind: 'hold', hold: { reason: 'breaker', until: clock.now() } });
    expect(secondProbe).toEqual([true, 'closed']);
    expect(afterClose).toEqual([{ kind: 'deliver' }, undefined]);
    expect(events.filter((e) => !e.startsWith('backoff'))).toEqual(['opened after 3', 'reopened', 'closed']);
  });

  it('half-open: a probe message without a credential pair neither closes nor reopens; the next sweep probes again', async () => {
    // Prepare: the breaker open and past its cool-down
    const { clock, gates, events } = fleet(1);
    const [sweep] = gates as [DestinationGate];
    for (let i = 0; i < 3; i++) await sweep.record(FAILED);
    clock.advance(60_000);
    await sweep.planSweep();

    // Act
    const won = await sweep.tryProbe();
    const ended = await sweep.endProbe(UNCONFIGURED);
    const next = await sweep.planSweep();

    // Assess
    expect(won).toBe(true);
    expect(ended).toBe('lost');
    expect(next).toEqual({ kind: 'probe' });
    expect(await sweep.hold()).toMatchObject({ reason: 'breaker' });
    expect(events.filter((e) => !e.startsWith('backoff'))).toEqual(['opened after 3']);
  });

  it('takes a 401 to a fresh token as ONEiO answering: one refused credential pair opens no breaker', async () => {
    // Prepare: two failures in a row, one short of the threshold
    const { store, gates, events } = fleet(1);
    const [gate] = gates as [DestinationGate];
    await gate.record(FAILED);
    await gate.record(FAILED);

    // Act: an endpoint whose pair ONEiO refuses, many times over
    for (let i = 0; i < 5; i++) await gate.record(PAIR_REFUSED);

    // Assess
    expect((await store.read(KEY)).failures).toBe(0);
    expect(await gate.hold()).toBeUndefined();
    expect(events).toEqual([]);
  });

  it('closes the breaker on a probe that ONEiO answered with 401: the receiver is up', async () => {
    // Prepare
    const { clock, gates, events } = fleet(1);
    const [sweep] = gates as [DestinationGate];
    for (let i = 0; i < 3; i++) await sweep.record(FAILED);
    clock.advance(60_000);
    await sweep.planSweep();
    await sweep.tryProbe();

    // Act
    const ended = await sweep.endProbe(PAIR_REFUSED);

    // Assess
    expect(ended).toBe('closed');
    expect(events).toEqual(['opened after 3', 'closed']);
  });

  it('half-open: waits for a Retry-After longer than the cool-down before it probes', async () => {
    // Prepare: ONEiO asked for 10 minutes, and the failures opened the breaker for one
    const { clock, store, gates } = fleet(2);
    const [sweep, other] = gates as [DestinationGate, DestinationGate];
    for (let i = 0; i < 3; i++) {
      await sweep.record({ ...FAILED, notBefore: clock.now() + 600_000 });
    }

    // Act
    clock.advance(60_000);
    const afterCoolDown = await sweep.planSweep();
    const leaseEarly = await store.acquireProbe(KEY, {
      owner: 'x',
      now: clock.now(),
      until: clock.now() + 1,
    });
    clock.advance(540_000);
    const afterRetryAfter = await other.planSweep();

    // Assess
    expect(afterCoolDown).toMatchObject({ kind: 'hold', hold: { reason: 'breaker' } });
    expect(leaseEarly).toBe(false);
    expect(afterRetryAfter).toEqual({ kind: 'probe' });
  });

  it('gives a probe lease back at once, so the next sweep can probe without waiting for it to lapse', async () => {
    // Prepare: half-open
    const { clock, gates, events } = fleet(2);
    const [sweepA, sweepB] = gates as [DestinationGate, DestinationGate];
    for (let i = 0; i < 3; i++) await sweepA.record(FAILED);
    clock.advance(60_000);

    // Act
    const won = await sweepA.tryProbe();
    await sweepA.releaseProbe();
    const next = [await sweepB.planSweep(), await sweepB.tryProbe()];

    // Assess
    expect(won).toBe(true);
    expect(next).toEqual([{ kind: 'probe' }, true]);
    expect(events.filter((e) => !e.startsWith('backoff'))).toEqual(['opened after 3']);
  });

  it('lets a pause outrank the breaker and the backoff, and end by itself at its time', async () => {
    const { clock, store, gates } = fleet(1);
    const [gate] = gates as [DestinationGate];
    await store.pause(KEY, {
      at: clock.now(),
      until: clock.now() + 60_000,
      by: 'alice',
      reason: 'maintenance',
    });
    for (let i = 0; i < 3; i++) await gate.record(FAILED);

    const paused = await gate.hold();
    clock.advance(60_001);
    const after = await gate.hold();

    expect(paused).toEqual({
      reason: 'paused',
      until: clock.now() - 1,
      description: `deliveries paused by alice until ${new Date(clock.now() - 1).toISOString()} (maintenance)`,
    });
    expect(after?.reason).toBe('breaker');
  });

  it('goes on as the last known state says when the store fails, reporting it, and does not ask again at once', async () => {
    // Prepare: a store that fails every call
    const { clock } = fleet(1);
    const events: string[] = [];
    let calls = 0;
    const failing = new Proxy({} as DestinationStore, {
      get: () => async () => {
        calls++;
        throw new Error('DynamoDB unavailable');
      },
    });
    const gate = new DestinationGate({
      store: failing,
      key: KEY,
      policy: { threshold: 3, coolDownMs: 60_000 },
      now: clock.now,
      events: { stateUnavailable: (error) => events.push(error.message) },
    });

    // Act
    const holds = [await gate.hold(), await gate.hold()];
    await gate.record(FAILED);
    clock.advance(5_000);
    await gate.hold();

    // Assess: open road, one read per 5 s, the failure to count it reported too; never a throw
    expect(holds).toEqual([undefined, undefined]);
    expect(calls).toBe(3);
    expect(events).toEqual(['DynamoDB unavailable', 'DynamoDB unavailable', 'DynamoDB unavailable']);
    expect(gate.known).toEqual(CLEAR_STATE);
  });
});

describe('holdOf', () => {
  it('says nothing holds a clear state', () => {
    expect(holdOf(CLEAR_STATE, Date.now())).toBeUndefined();
  });
});
