import { describe, expect, it } from 'vitest';
import { OutboxSink } from '../../functions/relay/core/outbox/outbox-sink';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';

const NOW = 1_700_000_000_000;
const MESSAGE = { relayId: 'r1', source: 'github', deliveryId: 'd1', body: '{}', receivedAt: NOW };

describe('OutboxSink', () => {
  async function keep(
    ...args: Parameters<OutboxSink['keep']> extends [unknown, ...infer Rest] ? Rest : never
  ) {
    const outbox = new InMemoryOutbox();
    const kept = await new OutboxSink(
      outbox,
      () => NOW,
      () => 0.5,
    ).keep(MESSAGE, ...args);
    return { kept, item: await outbox.get('r1') };
  }

  it('makes a message held by the destination due at once: it was never sent, the sweep waits for the hold', async () => {
    const { kept, item } = await keep(
      {
        status: 'undelivered',
        attempts: 0,
        lastError: 'not sent: deliveries paused by alice',
        inDoubt: false,
      },
      { held: true },
    );

    expect(kept).toBe('queued');
    expect(item).toMatchObject({ state: 'due', dueAt: NOW, attempts: 0, retries: 0 });
  });

  it('waits the first retry step for a message that failed, and at least a minute for one in doubt', async () => {
    const failed = await keep({ status: 'undelivered', attempts: 2, lastError: '503', inDoubt: false });
    const inDoubt = await keep({
      status: 'undelivered',
      attempts: 1,
      lastError: 'reset; in doubt',
      inDoubt: true,
    });

    expect(failed.item?.dueAt).toBe(NOW + 60_000);
    expect(inDoubt.item?.dueAt).toBeGreaterThanOrEqual(NOW + 60_000);
  });

  it('parks a message ONEiO refused', async () => {
    const { kept, item } = await keep({ status: 'rejected', attempts: 1, lastError: '400', httpStatus: 400 });

    expect(kept).toBe('parked');
    expect(item).toMatchObject({ state: 'parked', dueAt: NOW });
  });
});
