import { afterEach, describe, expect, it, vi } from 'vitest';
import { sweepOutbox } from '../../functions/relay/core/outbox/sweep';
import { handleSweep } from '../../functions/relay/events/sweep-handler';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
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
      for (const i of seen) await outbox.claim(i, now + 120_000);
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
      'OutboxParkedItems',
      'OutboxOldestDueAge',
      // Published on its own before the sweep, so it comes after the buffered ones here.
      'OutboxSweepHeartbeat',
    ]);
    expect(captured.logs()).toEqual([expect.objectContaining({ message: 'Outbox swept', parkedItems: 4 })]);
  });
});
