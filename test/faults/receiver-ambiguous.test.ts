import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SWEEP_EVENT } from '../../functions/relay/contract';
import { messageIdOf, overlappingCopies } from '../support/in-flight';
import { lambdaContext } from '../support/lambda-context';
import type { ProxyAnswer } from './fault-proxy';
import {
  copiesAtOneio,
  type Delivery,
  expectInvariants,
  expectLogged,
  type FaultWorld,
  outboxState,
  sendWebhook,
  startFaultWorld,
} from './fault-world';

/**
 * The second half of receiver faults: ONEiO took the message, and then its answer was lost, reset or late. The
 * relay cannot know whether ONEiO has the message. It must never lose it (the sender was told 2xx), never start a
 * second copy while the first may still be in ONEiO's hands, and every copy must carry the same message id so ONEiO
 * or a person can tell a copy from a new message.
 */
interface Row {
  readonly fault: string;
  readonly receiver: ProxyAnswer;
  /** How long after the webhook the receiver has certainly finished with the first copy. */
  readonly settlesAfterMs: number;
  readonly logSays: string;
}

const ROWS: readonly Row[] = [
  {
    fault: 'commits, then resets the connection',
    receiver: { afterApply: 'reset' },
    settlesAfterMs: 0,
    logSays: 'ONEiO receiver unreachable (ECONNRESET); in doubt',
  },
  {
    fault: 'commits, then never answers',
    receiver: { afterApply: 'hang' },
    settlesAfterMs: 0,
    logSays: 'ONEiO receiver unreachable (TimeoutError); in doubt',
  },
  {
    fault: 'commits, then answers 9 s late (after the webhook budget)',
    receiver: { afterApply: 'delay', ms: 9_000 },
    settlesAfterMs: 9_500,
    logSays: 'ONEiO receiver unreachable (TimeoutError); in doubt',
  },
  {
    fault: 'hangs past the request budget and commits at 12 s, after the relay gave up',
    receiver: { commitAfterMs: 12_000 },
    settlesAfterMs: 12_500,
    logSays: 'ONEiO receiver unreachable (TimeoutError); in doubt',
  },
];

/** Moves the wall clock on (Date only: sockets and timers keep real time) so queued items become due. */
function advanceClock(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now() + ms);
}

function messageIdsOfCopies(world: FaultWorld): (string | undefined)[] {
  return world.receiver.exchanges.map(messageIdOf);
}

describe('fault matrix: ONEiO receiver, ambiguous (took the message, answer lost or late)', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    vi.useRealTimers();
    await world?.close();
    world = undefined;
  });

  it.each(ROWS.map((row) => [row.fault, row] as const))(
    '%s → 202, one copy now, the outbox sends an identical copy a minute later, never two at once',
    { timeout: 60_000 },
    async (_, row) => {
      // Prepare
      world = await startFaultWorld();
      world.receiver.setRule((request) => (request.url?.startsWith('/api/v2') ? row.receiver : 'pass'));

      // Act: the webhook, then wait until the receiver is certainly done with the first copy
      const delivery: Delivery = await sendWebhook(world);
      const firstAttempts = world.receiver.exchanges.length;
      await sleep(row.settlesAfterMs);
      const afterTheCall = {
        copies: copiesAtOneio(world, delivery.marker),
        outbox: await outboxState(world, delivery.relayId),
      };
      const item = delivery.relayId === undefined ? undefined : await world.outbox.get(delivery.relayId);
      // ONEiO answers normally again; the sweep runs a minute and a half later.
      world.receiver.setRule(() => 'pass');
      advanceClock(90_000);
      await world.handle(SWEEP_EVENT, lambdaContext());

      // Assess
      expect(delivery.http).toBe(202);
      expect(firstAttempts).toBe(1);
      expect(afterTheCall).toEqual({ copies: 1, outbox: 'queued' });
      expect((item?.dueAt ?? 0) - (item?.firstSeenAt ?? 0)).toBeGreaterThanOrEqual(60_000);
      expect(copiesAtOneio(world, delivery.marker)).toBe(2);
      expect(await outboxState(world, delivery.relayId)).toBe('nowhere');
      expect(messageIdsOfCopies(world)).toEqual([delivery.relayId, delivery.relayId]);
      expect(overlappingCopies(world.receiver.exchanges)).toEqual([]);
      expectLogged(world, row.logSays);
      expectInvariants(world, delivery);
    },
  );

  it('waits for an ONEiO that answers in 6.5 s instead of sending it twice', {
    timeout: 30_000,
  }, async () => {
    // Prepare
    world = await startFaultWorld();
    world.receiver.setRule((request) =>
      request.url?.startsWith('/api/v2') ? { afterApply: 'delay', ms: 6_500 } : 'pass',
    );

    // Act
    const delivery = await sendWebhook(world);

    // Assess
    expect(delivery.http).toBe(200);
    expect(world.receiver.exchanges).toHaveLength(1);
    expect(copiesAtOneio(world, delivery.marker)).toBe(1);
    expectInvariants(world, delivery);
  });
});
