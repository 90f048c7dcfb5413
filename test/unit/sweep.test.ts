import { afterEach, describe, expect, it, vi } from 'vitest';
import { DestinationGate } from '../../functions/relay/core/destination/destination-gate';
import { ReceiverNetworkError } from '../../functions/relay/core/errors';
import { Pacer } from '../../functions/relay/core/outbox/pacer';
import { type SweepDeps, sweepOutbox } from '../../functions/relay/core/outbox/sweep';
import { handleSweep } from '../../functions/relay/events/sweep-handler';
import { InMemoryDestinationStore } from '../../functions/relay/io/memory/destination-store';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { maxInAnySecond } from '../support/arrivals';
import { captureTelemetry } from './capturing-telemetry';
import { FakeClock, FakeTokenSource, type Scripted, ScriptedReceiver } from './fakes';

const DAY_MS = 24 * 3600_000;

function item(relayId: string, clock: FakeClock, overrides: Partial<OutboxItem> = {}): OutboxItem {
  return {
    relayId,
    source: 'github',
    deliveryId: `d-${relayId}`,
    body: `{"id":"${relayId}"}`,
    state: 'due',
    attempts: 2,
    retries: 0,
    firstSeenAt: clock.now() - 60_000,
    receivedAt: clock.now() - 60_000,
    dueAt: clock.now(),
    lastError: 'ONEiO receiver answered 503',
    ...overrides,
  };
}

async function sweepWith(script: Scripted[], items: (clock: FakeClock) => OutboxItem[], budgetMs = 20_000) {
  const clock = new FakeClock();
  const outbox = new InMemoryOutbox();
  for (const i of items(clock)) await outbox.add(i);
  const receiver = new ScriptedReceiver(script, clock, 10);
  const report = await sweepOutbox(clock.now() + budgetMs, {
    outbox,
    tokens: new FakeTokenSource(),
    receiver,
    now: clock.now,
    sleep: clock.sleep,
    random: () => 0.5,
    maxAgeMs: DAY_MS,
  });
  return { clock, outbox, receiver, report };
}

describe('sweepOutbox', () => {
  it('delivers due items and removes them', async () => {
    // Act
    const { outbox, receiver, report } = await sweepWith([{ status: 200 }], (c) => [
      item('a', c),
      item('b', c),
    ]);

    // Assess
    expect(report).toMatchObject({ claimed: 2, delivered: 2, rescheduled: 0, parked: 0, parkedItems: 0 });
    expect(receiver.requests.map((r) => r.body).sort()).toEqual(['{"id":"a"}', '{"id":"b"}']);
    expect(await outbox.list('due', 10)).toEqual([]);
  });

  it('tries the removal of a delivered item again, so a DynamoDB blip does not send ONEiO a second copy later', async () => {
    // Prepare: the first removal fails as DynamoDB would after its SDK retries
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    await outbox.add(item('a', clock));
    const remove = outbox.remove.bind(outbox);
    let removals = 0;
    outbox.remove = async (...args) => {
      if (++removals === 1)
        throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
      return remove(...args);
    };
    const itemErrors: string[] = [];

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: new ScriptedReceiver([{ status: 200 }], clock, 10),
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
      maxAgeMs: DAY_MS,
      onItemError: (relayId) => itemErrors.push(relayId),
    });

    // Assess
    expect(report).toMatchObject({ delivered: 1, errors: 0 });
    expect(removals).toBe(2);
    expect(itemErrors).toEqual([]);
    expect(await outbox.get('a')).toBeUndefined();
  });

  it('goes on with the other items when one claim fails; that item stays due for the next sweep', async () => {
    // Prepare
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    for (const id of ['a', 'b', 'c']) await outbox.add(item(id, clock));
    const claim = outbox.claim.bind(outbox);
    outbox.claim = async (entry, ...rest) => {
      if (entry.relayId === 'b') throw Object.assign(new Error('Throttled'), { name: 'ThrottlingException' });
      return claim(entry, ...rest);
    };
    const itemErrors: string[] = [];

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: new ScriptedReceiver([{ status: 200 }], clock, 10),
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
      maxAgeMs: DAY_MS,
      onItemError: (relayId) => itemErrors.push(relayId),
    });

    // Assess
    expect(report).toMatchObject({ claimed: 2, delivered: 2, errors: 1 });
    expect(itemErrors).toEqual(['b']);
    expect((await outbox.due(clock.now(), 10)).map((e) => e.relayId)).toEqual(['b']);
  });

  it('leaves items that are not due yet alone', async () => {
    // Act
    const { receiver, report } = await sweepWith([{ status: 200 }], (c) => [
      item('later', c, { dueAt: c.now() + 1 }),
    ]);

    // Assess
    expect(report.claimed).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it('reschedules a still-failing item one step further along the schedule', async () => {
    // Act
    const { clock, outbox, report } = await sweepWith([{ status: 503 }], (c) => [
      item('a', c, { retries: 2 }),
    ]);

    // Assess
    const after = await outbox.get('a');
    expect(report.rescheduled).toBe(1);
    expect(after).toMatchObject({ state: 'due', retries: 3, lastError: 'ONEiO receiver answered 503' });
    // Step 3 of the schedule is 10 minutes; random 0.5 puts the jitter in the middle.
    expect((after?.dueAt ?? 0) - clock.now()).toBe(10 * 60_000);
    expect(after?.attempts).toBeGreaterThan(2);
  });

  it('parks an item ONEiO refuses', async () => {
    // Act
    const { outbox, report } = await sweepWith([{ status: 422 }], (c) => [item('a', c)]);

    // Assess
    expect(report).toMatchObject({ parked: 1, parkedItems: 1 });
    expect(await outbox.get('a')).toMatchObject({
      state: 'parked',
      lastError: 'ONEiO receiver answered 422',
    });
  });

  it('parks an item still failing after the maximum age', async () => {
    // Act
    const { outbox, report } = await sweepWith([{ status: 503 }], (c) => [
      item('old', c, { firstSeenAt: c.now() - DAY_MS }),
    ]);

    // Assess
    expect(report.parked).toBe(1);
    expect((await outbox.get('old'))?.lastError).toMatch(/maximum age/);
  });

  it('skips an item another sweep claimed first', async () => {
    // Prepare: a second sweep claims the item between this sweep's query and its claim
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    await outbox.add(item('a', clock));
    const due = outbox.due.bind(outbox);
    outbox.due = async (now, limit) => {
      const seen = await due(now, limit);
      for (const i of seen) await outbox.claim(i, now + 120_000, 'the-other-sweep');
      return seen;
    };
    const receiver = new ScriptedReceiver([{ status: 200 }], clock);

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver,
      now: clock.now,
      sleep: clock.sleep,
      maxAgeMs: DAY_MS,
    });

    // Assess
    expect(report.claimed).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it('takes no item when the time left would not fit one', async () => {
    // Act
    const { receiver, report } = await sweepWith([{ status: 200 }], (c) => [item('a', c)], 1_000);

    // Assess
    expect(report.claimed).toBe(0);
    expect(receiver.requests).toHaveLength(0);
  });

  it('reports the age of the oldest due item', async () => {
    // Act
    const { report } = await sweepWith([{ status: 200 }], (c) => [
      item('a', c, { firstSeenAt: c.now() - 5 * 60_000 }),
      item('b', c, { firstSeenAt: c.now() - 60_000 }),
    ]);

    // Assess
    expect(report.oldestDueAgeMs).toBe(5 * 60_000);
  });

  it('claims only what its workers can finish, and ends before its deadline', async () => {
    // Prepare: 20 due items, ONEiO taking 5 s per request, and 13 s left: room for two rounds of four workers at an
    // item's 6 s budget each
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    for (let i = 0; i < 20; i++) await outbox.add(item(`i${i}`, clock));
    const receiver = new ScriptedReceiver([{ status: 200 }], clock, 5_000, { honourTimeouts: true });
    const start = clock.now();
    const deadline = start + 13_000;

    // Act
    const report = await sweepOutbox(deadline, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver,
      now: clock.now,
      sleep: clock.sleep,
      maxAgeMs: DAY_MS,
    });

    // Assess: on the fake clock the workers' requests run one after the other, so the later ones are cut short by
    // their timeout or find no time to start (given back unsent, due as before)
    const outcomes =
      report.delivered +
      report.rescheduled +
      report.parked +
      report.claimsLost +
      report.errors +
      report.released;
    expect(report.claimed).toBe(8);
    expect(outcomes).toBe(report.claimed);
    expect(clock.now()).toBeLessThanOrEqual(deadline);
    vi.restoreAllMocks();
    expect(await outbox.due(start, 100)).toHaveLength(12 + report.released);
  });

  it('in doubt: reschedules an item whose answer never came two minutes or more ahead, and counts it', async () => {
    // Act
    const { clock, outbox, report } = await sweepWith(
      [new ReceiverNetworkError('ONEiO receiver unreachable (TimeoutError)', true)],
      (c) => [item('a', c)],
    );

    // Assess
    expect(report).toMatchObject({ rescheduled: 1, inDoubt: 1 });
    expect(((await outbox.get('a'))?.dueAt ?? 0) - clock.now()).toBeGreaterThanOrEqual(60_000);
  });

  it('carries on with the other items when one item’s write fails, and reports it', async () => {
    // Prepare: rescheduling item b fails (DynamoDB), the others go on
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    for (const id of ['a', 'b', 'c']) await outbox.add(item(id, clock));
    const reschedule = outbox.reschedule.bind(outbox);
    outbox.reschedule = async (relayId, claimToken, update) => {
      if (relayId === 'b') throw new Error('DynamoDB unavailable');
      return reschedule(relayId, claimToken, update);
    };
    const failed: string[] = [];

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: new ScriptedReceiver([{ status: 503 }], clock, 10),
      now: clock.now,
      sleep: clock.sleep,
      random: () => 0.5,
      maxAgeMs: DAY_MS,
      onItemError: (relayId) => failed.push(relayId),
    });

    // Assess
    expect(report).toMatchObject({ claimed: 3, rescheduled: 2, errors: 1 });
    expect(failed).toEqual(['b']);
  });

  it('changes nothing for an item an operator purged while it was being delivered', async () => {
    // Prepare
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    await outbox.add(item('a', clock));
    const receiver = new ScriptedReceiver([{ status: 503 }], clock, 10);
    const send = receiver.send.bind(receiver);
    receiver.send = async (message, token, options) => {
      await outbox.purge(message.relayId);
      return send(message, token, options);
    };

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver,
      now: clock.now,
      sleep: clock.sleep,
      maxAgeMs: DAY_MS,
    });

    // Assess
    expect(report).toMatchObject({ claimed: 1, rescheduled: 0, claimsLost: 1, errors: 0 });
    expect(await outbox.get('a')).toBeUndefined();
  });

  it('leaves the parked gauge out when counting fails, instead of failing the sweep', async () => {
    // Prepare
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    outbox.count = async () => {
      throw new Error('DynamoDB unavailable');
    };

    // Act
    const report = await sweepOutbox(clock.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: new ScriptedReceiver([{ status: 200 }], clock),
      now: clock.now,
      sleep: clock.sleep,
      maxAgeMs: DAY_MS,
    });

    // Assess
    expect(report.parkedItems).toBeUndefined();
  });
});

describe('handleSweep', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('publishes the sweep as metrics, the parked-items gauge among them', async () => {
    // Prepare
    const captured = captureTelemetry();
    const report = {
      claimed: 3,
      delivered: 1,
      rescheduled: 1,
      parked: 1,
      inDoubt: 1,
      claimsLost: 0,
      errors: 0,
      released: 0,
      paused: false,
      breakerOpenMs: 0,
      parkedItems: 4,
      oldestDueAgeMs: 90_000,
    };

    // Act
    await handleSweep(20_000, { sweep: async () => report, telemetry: captured.telemetry, now: () => 0 });

    // Assess
    expect(captured.metricNames()).toEqual([
      'OutboxDelivered',
      'OutboxRetried',
      'OutboxParked',
      'DeliveryInDoubt',
      'OutboxSweepErrors',
      'OutboxParkedItems',
      'OutboxOldestDueAge',
      'DeliveriesPaused',
      'BreakerOpenAge',
      // Published on its own before the sweep, so it comes after the buffered ones here.
      'OutboxSweepHeartbeat',
    ]);
    expect(captured.logs()).toEqual([expect.objectContaining({ message: 'Outbox swept', parkedItems: 4 })]);
  });
});

describe('sweepOutbox and the destination', () => {
  const KEY = 'destination#oneio-receiver';

  async function world(items: number, script: Scripted[] = [{ status: 200 }]) {
    const clock = new FakeClock();
    const outbox = new InMemoryOutbox();
    for (let i = 0; i < items; i++) {
      await outbox.add(
        item(`i${i}`, clock, { dueAt: clock.now() - (items - i), firstSeenAt: clock.now() - 60_000 }),
      );
    }
    const store = new InMemoryDestinationStore();
    const destination = new DestinationGate({
      store,
      key: KEY,
      policy: { threshold: 3, coolDownMs: 60_000 },
      now: clock.now,
    });
    const receiver = new ScriptedReceiver(script, clock, 10);
    const sweep = (overrides: Partial<SweepDeps> = {}) =>
      sweepOutbox(clock.now() + 20_000, {
        outbox,
        tokens: new FakeTokenSource(),
        receiver,
        now: clock.now,
        sleep: clock.sleep,
        random: () => 0.5,
        maxAgeMs: DAY_MS,
        destination,
        ...overrides,
      });
    return { clock, outbox, store, destination, receiver, sweep };
  }

  const holds: ReadonlyArray<
    readonly [string, (store: InMemoryDestinationStore, now: number) => Promise<unknown>]
  > = [
    ['paused', (store, now) => store.pause(KEY, { at: now, by: 'alice' })],
    ['backoff', (store, now) => store.extendNotBefore(KEY, now + 30_000)],
  ];

  it.each(holds)('sends nothing while %s, yet reports the backlog’s age', async (reason, hold) => {
    // Prepare
    const { clock, store, receiver, outbox, sweep } = await world(3);
    await hold(store, clock.now());

    // Act
    const report = await sweep();

    // Assess
    expect(report).toMatchObject({
      held: reason,
      claimed: 0,
      oldestDueAgeMs: 60_000,
      paused: reason === 'paused',
    });
    expect(receiver.requests).toHaveLength(0);
    expect(await outbox.due(clock.now(), 10)).toHaveLength(3);
  });

  it('half-open with nothing due: takes no probe lease, so a sweep with something to send can probe at once', async () => {
    // Prepare: the breaker opened a cool-down ago; this sweep's outbox view is empty
    const { clock, store, sweep } = await world(0);
    await store.recordFailure(KEY, { now: clock.now() - 60_000, threshold: 1, coolDownMs: 60_000 });

    // Act
    const report = await sweep();

    // Assess
    expect(report.probe).toBeUndefined();
    expect(report.claimed).toBe(0);
    expect(
      await store.acquireProbe(KEY, {
        owner: 'another sweep',
        now: clock.now(),
        until: clock.now() + 60_000,
      }),
    ).toBe(true);
  });

  it('half-open: probes with the oldest item alone; delivered, it closes the breaker and drains the rest', async () => {
    // Prepare: the breaker opened a cool-down ago
    const { clock, store, receiver, outbox, sweep } = await world(5);
    const opened = await store.recordFailure(KEY, {
      now: clock.now() - 60_000,
      threshold: 1,
      coolDownMs: 60_000,
    });

    // Act
    const report = await sweep();

    // Assess
    expect(opened.opened).toBe(true);
    expect(report).toMatchObject({ probe: 'closed', delivered: 5, breakerOpenMs: 0 });
    expect(report.held).toBeUndefined();
    expect(receiver.requests[0]?.message.relayId).toBe('i0');
    expect((await store.read(KEY)).breaker).toBeUndefined();
    expect(await outbox.due(clock.now(), 10)).toEqual([]);
  });

  it('half-open: a failed probe opens the breaker again and sends nothing more', async () => {
    const { clock, store, receiver, sweep } = await world(5, [{ status: 503 }]);
    await store.recordFailure(KEY, {
      now: clock.now() - 60_000,
      threshold: 1,
      coolDownMs: 60_000,
    });

    const report = await sweep();

    expect(report).toMatchObject({ probe: 'reopened', held: 'breaker', rescheduled: 1, claimed: 1 });
    expect(new Set(receiver.requests.map((r) => r.message.relayId))).toEqual(new Set(['i0']));
    expect((await store.read(KEY)).breaker?.openUntil).toBeGreaterThan(clock.now());
    expect(report.breakerOpenMs).toBeGreaterThanOrEqual(60_000);
  });

  it('stops sending once its own failures open the breaker, giving the claimed rest back unsent', async () => {
    // Prepare: ONEiO fails everything; the breaker opens at three failures
    const { clock, outbox, receiver, sweep } = await world(10, [{ status: 503 }]);

    // Act
    const report = await sweep();

    // Assess: the four workers' first items were under way when the third failure opened it; they finish
    expect(report).toMatchObject({ held: 'breaker', rescheduled: 4, released: 6 });
    expect(new Set(receiver.requests.map((r) => r.message.relayId))).toEqual(
      new Set(['i0', 'i1', 'i2', 'i3']),
    );
    // Given back at their old due times: first in line when ONEiO is back.
    expect((await outbox.due(clock.now(), 20)).map((e) => e.relayId).slice(0, 6)).toEqual([
      'i4',
      'i5',
      'i6',
      'i7',
      'i8',
      'i9',
    ]);
  });

  it('sends at most drainRatePerSecond in any second, oldest first', async () => {
    // Prepare: 25 due items, an instant ONEiO, the real clock (pacing waits are real waits)
    const outbox = new InMemoryOutbox();
    const now = Date.now();
    for (let i = 0; i < 25; i++) {
      await outbox.add({ ...item(`i${i}`, new FakeClock(now)), dueAt: now - 25 + i });
    }
    const starts: number[] = [];
    const order: string[] = [];

    // Act
    const report = await sweepOutbox(Date.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: {
        send: async (message) => {
          starts.push(Date.now());
          order.push(message.relayId);
          return { status: 200 };
        },
      },
      now: () => Date.now(),
      maxAgeMs: DAY_MS,
      drainRatePerSecond: 20,
    });

    // Assess
    expect(report.delivered).toBe(25);
    expect(maxInAnySecond(starts)).toBeLessThanOrEqual(20);
    expect(order.slice(0, 5)).toEqual(['i0', 'i1', 'i2', 'i3', 'i4']);
  });

  it('counts the half-open probe in the drain rate', async () => {
    // Prepare: the breaker opened a cool-down ago; 12 due items, an instant ONEiO, the real clock
    const outbox = new InMemoryOutbox();
    const now = Date.now();
    for (let i = 0; i < 12; i++)
      await outbox.add({ ...item(`p${i}`, new FakeClock(now)), dueAt: now - 12 + i });
    const store = new InMemoryDestinationStore();
    await store.recordFailure(KEY, { now: now - 60_000, threshold: 1, coolDownMs: 60_000 });
    const starts: number[] = [];

    // Act
    const report = await sweepOutbox(Date.now() + 20_000, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver: {
        send: async () => {
          starts.push(Date.now());
          return { status: 200 };
        },
      },
      now: () => Date.now(),
      maxAgeMs: DAY_MS,
      drainRatePerSecond: 5,
      destination: new DestinationGate({
        store,
        key: KEY,
        policy: { threshold: 1, coolDownMs: 60_000 },
        now: () => Date.now(),
      }),
    });

    // Assess: the probe and the drain after it share one pace
    expect(report).toMatchObject({ probe: 'closed', delivered: 12 });
    expect(maxInAnySecond(starts)).toBeLessThanOrEqual(5);
  });
});

describe('Pacer', () => {
  it('spaces turns 5 % wider than the rate, from when the previous one really started, and refuses a late one', async () => {
    const clock = new FakeClock();
    const pacer = new Pacer(4, clock.now, clock.sleep);
    const start = clock.now();

    const granted = await Promise.all([
      pacer.take(start + 600),
      pacer.take(start + 600),
      pacer.take(start + 600),
    ]);
    const late = await pacer.take(start + 600);

    expect(granted).toEqual([true, true, true]);
    expect(clock.sleeps).toEqual([262.5, 262.5]);
    expect(late).toBe(false);
    expect(clock.now()).toBe(start + 525);
    expect(pacer.turnsUntil(start + 1_100)).toBe(2);
  });

  it('waits again when a timer fires early', async () => {
    const clock = new FakeClock();
    // A timer that fires a millisecond before it was asked to.
    const early = async (ms: number) => clock.sleep(Math.max(1, ms - 1));
    const pacer = new Pacer(10, clock.now, early);
    const start = clock.now();

    await pacer.take(start + 1_000);
    await pacer.take(start + 1_000);

    expect(clock.now() - start).toBeGreaterThanOrEqual(105);
  });
});
