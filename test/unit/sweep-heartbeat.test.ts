import { afterEach, describe, expect, it, vi } from 'vitest';
import { sweepOutbox } from '../../functions/relay/core/outbox/sweep';
import { handleSweep } from '../../functions/relay/events/sweep-handler';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';
import type { OutboxItem, QueuedEntry } from '../../functions/relay/ports/outbox';
import { captureTelemetry } from './capturing-telemetry';
import { emfRecords } from './emf-records';
import { FakeClock, FakeTokenSource, ScriptedReceiver } from './fakes';

/** An outbox whose second query of due items fails, as DynamoDB would after the sweep delivered a first batch. */
class FailingAfterOneBatch extends InMemoryOutbox {
  private queries = 0;
  override async due(now: number, limit: number): Promise<QueuedEntry[]> {
    if (++this.queries > 1)
      throw Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    return super.due(now, limit);
  }
}

function dueItem(clock: FakeClock, n: number): OutboxItem {
  return {
    relayId: `r${n}`,
    source: 'github',
    deliveryId: `d${n}`,
    body: '{"id":1}',
    state: 'due',
    attempts: 1,
    retries: 0,
    firstSeenAt: clock.now() - 60_000,
    receivedAt: clock.now() - 60_000,
    dueAt: clock.now(),
    lastError: 'ONEiO receiver answered 503',
  };
}

/** The heartbeat records printed so far: their metric value and their dimension sets. */
function heartbeats(output: string) {
  return emfRecords(output)
    .filter((record) => record.metrics.includes('OutboxSweepHeartbeat'))
    .map((record) => ({ value: record.fields.OutboxSweepHeartbeat, dimensionSets: record.dimensionSets }));
}

function realSweep(
  outbox: InMemoryOutbox,
  clock: FakeClock,
  receiver = new ScriptedReceiver([{ status: 200 }], clock),
) {
  return (deadline: number) =>
    sweepOutbox(deadline, {
      outbox,
      tokens: new FakeTokenSource(),
      receiver,
      now: clock.now,
      sleep: clock.sleep,
      maxAgeMs: 24 * 3600_000,
    });
}

describe('the outbox sweep heartbeat', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('is published by a sweep of an empty outbox', async () => {
    // Prepare
    const captured = captureTelemetry();
    const clock = new FakeClock();

    // Act
    await handleSweep(20_000, {
      sweep: realSweep(new InMemoryOutbox(), clock),
      telemetry: captured.telemetry,
      now: clock.now,
    });

    // Assess: once, with the service dimension alone, which is what the OutboxSweepStopped alarm watches.
    expect(heartbeats(captured.output())).toEqual([{ value: 1, dimensionSets: [['service']] }]);
  });

  it('is published by a sweep that fails part-way, after delivering', async () => {
    // Prepare
    const captured = captureTelemetry();
    const clock = new FakeClock();
    const outbox = new FailingAfterOneBatch();
    // A full first batch, so the sweep asks for more.
    for (let n = 0; n < 10; n++) await outbox.add(dueItem(clock, n));
    const receiver = new ScriptedReceiver([{ status: 200 }], clock);

    // Act
    const swept = handleSweep(20_000, {
      sweep: realSweep(outbox, clock, receiver),
      telemetry: captured.telemetry,
      now: clock.now,
    });

    // Assess
    await expect(swept).rejects.toThrow('Service unavailable');
    expect(receiver.requests).toHaveLength(10);
    expect(heartbeats(captured.output())).toEqual([{ value: 1, dimensionSets: [['service']] }]);
    // The sweep's own report never came: only the heartbeat tells that it ran.
    expect(captured.logs()).toEqual([]);
  });

  it('is out before the sweep has touched the outbox', async () => {
    // Prepare
    const captured = captureTelemetry();
    let finish: (() => void) | undefined;
    const sweep = () =>
      new Promise<never>((_, reject) => {
        finish = () => reject(new Error('function timed out'));
      });

    // Act
    const swept = handleSweep(20_000, { sweep, telemetry: captured.telemetry, now: () => 0 });

    // Assess: printed while the sweep is still running, so not even a timeout can keep it back.
    expect(heartbeats(captured.output())).toHaveLength(1);
    finish?.();
    await expect(swept).rejects.toThrow('function timed out');
  });
});
