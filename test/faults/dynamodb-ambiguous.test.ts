import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SWEEP_EVENT } from '../../functions/relay/contract';
import { lambdaContext } from '../support/lambda-context';
import { githubWebhookFor } from '../support/relay-fleet';
import { eventBridgeEvent } from '../support/webhook-event';
import { DYNAMODB_THROTTLED, type DynamoDbRequest, dynamoDbRequest, type ProxyRule } from './fault-proxy';
import {
  copiesAtOneio,
  expectInvariants,
  type FaultWorld,
  outboxState,
  sendWebhook,
  startFaultWorld,
} from './fault-world';

/**
 * The second half of DynamoDB faults, end to end: one of the relay's writes is applied, then its answer is reset, and
 * the SDK sends it again. Whatever the write, the sender gets the answer the applied write deserves (never a 409 for
 * its own claim, never a 503 for a message that is queued), nothing is lost, and an EventBridge event that is kept
 * does not go back to Lambda's retries and the dead-letter queue.
 */

type Write = (r: DynamoDbRequest, body: string) => boolean;

const dedupClaim: Write = (r) => r.operation === 'PutItem' && r.pk?.startsWith('dedup#') === true;
const dedupComplete: Write = (r) => r.operation === 'UpdateItem' && r.pk?.startsWith('dedup#') === true;
const dedupRelease: Write = (r) => r.operation === 'DeleteItem' && r.pk?.startsWith('dedup#') === true;
const outboxAdd: Write = (r) => r.operation === 'PutItem' && r.pk?.startsWith('outbox#') === true;
const outboxClaim: Write = (r) =>
  r.operation === 'UpdateItem' &&
  r.pk?.startsWith('outbox#') === true &&
  !!r.conditionExpression?.includes(':seen');
const outboxRemove: Write = (r) => r.operation === 'DeleteItem' && r.pk?.startsWith('outbox#') === true;
const outboxReschedule: Write = (r, body) =>
  r.operation === 'UpdateItem' && r.pk?.startsWith('outbox#') === true && body.includes('REMOVE #claimToken');

/** The first write `matches` selects is applied, then its answer is reset; `others` decides everything else. */
function applyThenReset(matches: Write, others: ProxyRule = () => 'pass'): ProxyRule {
  let left = 1;
  return (request, body) => {
    if (left > 0 && matches(dynamoDbRequest(request, body), body)) {
      left--;
      return { afterApply: 'reset' };
    }
    return others(request, body);
  };
}

/** The last structured log line with `message`, parsed. */
function lastLogged(world: FaultWorld, message: string): Record<string, unknown> | undefined {
  const lines = world.fleet
    .logs()
    .split('\n')
    .filter((line) => line.includes(`"message":"${message}"`));
  const last = lines.at(-1);
  return last === undefined ? undefined : (JSON.parse(last) as Record<string, unknown>);
}

/** Past the `Retry-After: 600` of these tests' ONEiO outages: the fleet and the sweep held until then. */
const AFTER_RETRY_AFTER_MS = 11 * 60_000;

/** Moves the wall clock on (Date only) so queued items become due. */
function advanceClock(ms: number): void {
  vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true });
  vi.setSystemTime(Date.now() + ms);
}

describe('fault matrix: DynamoDB, a write applied and its answer reset', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    vi.useRealTimers();
    await world?.close();
    world = undefined;
  });

  describe('webhook', () => {
    it('de-duplication claim → 200 delivered, not 409 for its own claim', async () => {
      world = await startFaultWorld();
      world.dynamodb.setRule(applyThenReset(dedupClaim));

      const delivery = await sendWebhook(world);

      expect(world.dynamodb.faults).toBe(1);
      expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 200, message: 'delivered' });
      expect(copiesAtOneio(world, delivery.marker)).toBe(1);
      expectInvariants(world, delivery);
    });

    it('de-duplication completion → 200 delivered, and the sender’s retry is answered as a duplicate', async () => {
      world = await startFaultWorld();
      world.dynamodb.setRule(applyThenReset(dedupComplete));
      const event = githubWebhookFor(JSON.stringify({ marker: 'completion' }));

      const first = await world.handle(event, lambdaContext());
      const retry = await world.handle(event, lambdaContext());

      expect(world.dynamodb.faults).toBe(1);
      expect([first?.statusCode, retry?.statusCode]).toEqual([200, 200]);
      expect(JSON.parse(retry?.body ?? '{}')).toMatchObject({ status: 'duplicate' });
      expect(copiesAtOneio(world, 'completion')).toBe(1);
    });

    it('outbox add (ONEiO down) → 202 queued, not 503 for a message that is kept', async () => {
      world = await startFaultWorld();
      world.fleet.oneio.failReceiver({ status: 503, times: 1_000, retryAfter: 600 });
      world.dynamodb.setRule(applyThenReset(outboxAdd));

      const delivery = await sendWebhook(world);

      expect(world.dynamodb.faults).toBe(1);
      expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 202, message: 'queued' });
      expectInvariants(world, delivery);
    });

    it('de-duplication release (nothing kept) → 503, and the sender’s retry is kept, not refused as in flight', async () => {
      world = await startFaultWorld();
      // ONEiO down and the outbox refusing writes: nothing can be kept, so the claim is released.
      world.fleet.oneio.failReceiver({ status: 503, times: 1_000, retryAfter: 600 });
      const outboxThrottled: ProxyRule = (request, body) =>
        outboxAdd(dynamoDbRequest(request, body), body) ? DYNAMODB_THROTTLED : 'pass';
      world.dynamodb.setRule(applyThenReset(dedupRelease, outboxThrottled));
      const event = githubWebhookFor(JSON.stringify({ marker: 'release' }));

      const first = await world.handle(event, lambdaContext());
      world.dynamodb.setRule(() => 'pass');
      world.fleet.oneio.failReceiver({ status: 503, times: 0 });
      const retry = await world.handle(event, lambdaContext());
      // ONEiO asked for 10 minutes: the retry is queued without a POST, and the sweep delivers it after that.
      const whileAsked = copiesAtOneio(world, 'release');
      advanceClock(AFTER_RETRY_AFTER_MS);
      await world.handle(SWEEP_EVENT, lambdaContext());

      expect([first?.statusCode, retry?.statusCode]).toEqual([503, 202]);
      expect(whileAsked).toBe(0);
      expect(copiesAtOneio(world, 'release')).toBe(1);
    });
  });

  describe('EventBridge event', () => {
    async function sendEvent(w: FaultWorld) {
      const marker = randomUUID();
      const event = eventBridgeEvent({ marker });
      const outcome = await w.handle(event, lambdaContext()).then(
        () => 'handled' as const,
        () => 'thrown to Lambda' as const,
      );
      return { marker, relayId: event.id, outcome };
    }

    it('de-duplication claim → delivered, handled (not dropped as a duplicate of itself)', async () => {
      world = await startFaultWorld();
      world.dynamodb.setRule(applyThenReset(dedupClaim));

      const sent = await sendEvent(world);

      expect(world.dynamodb.faults).toBe(1);
      expect(sent.outcome).toBe('handled');
      expect(copiesAtOneio(world, sent.marker)).toBe(1);
    });

    it('outbox add (ONEiO down) → queued, handled: no Lambda retry, no dead letter', async () => {
      world = await startFaultWorld();
      world.fleet.oneio.failReceiver({ status: 503, times: 1_000, retryAfter: 600 });
      world.dynamodb.setRule(applyThenReset(outboxAdd));

      const sent = await sendEvent(world);

      expect(world.dynamodb.faults).toBe(1);
      expect(sent.outcome).toBe('handled');
      expect(await outboxState(world, sent.relayId)).toBe('queued');
    });
  });

  describe('outbox sweep', () => {
    /** Queues one message while ONEiO is down, brings ONEiO back and makes the message due. */
    async function queued(w: FaultWorld) {
      w.fleet.oneio.failReceiver({ status: 503, times: 1, retryAfter: 600 });
      const delivery = await sendWebhook(w);
      expect(delivery.http).toBe(202);
      advanceClock(AFTER_RETRY_AFTER_MS);
      return delivery;
    }

    it.each([
      ['claim', outboxClaim, { claimed: 1, delivered: 1, errors: 0, claimsLost: 0 }],
      ['removal after delivery', outboxRemove, { claimed: 1, delivered: 1, errors: 0, claimsLost: 0 }],
    ] as const)('%s → delivered once, counted delivered, nothing left', async (_, write, report) => {
      world = await startFaultWorld();
      const delivery = await queued(world);
      world.dynamodb.setRule(applyThenReset(write));

      await world.handle(SWEEP_EVENT, lambdaContext());

      expect(world.dynamodb.faults).toBe(1);
      expect(lastLogged(world, 'Outbox swept')).toMatchObject(report);
      expect(copiesAtOneio(world, delivery.marker)).toBe(1);
      expect(await outboxState(world, delivery.relayId)).toBe('nowhere');
    });

    it('reschedule (ONEiO still down) → counted rescheduled, due again later, not an error', async () => {
      world = await startFaultWorld();
      const delivery = await queued(world);
      world.fleet.oneio.failReceiver({ status: 503, times: 1_000, retryAfter: 600 });
      world.dynamodb.setRule(applyThenReset(outboxReschedule));

      await world.handle(SWEEP_EVENT, lambdaContext());

      expect(world.dynamodb.faults).toBe(1);
      expect(lastLogged(world, 'Outbox swept')).toMatchObject({ rescheduled: 1, errors: 0, claimsLost: 0 });
      expect(await world.outbox.get(delivery.relayId ?? '')).toMatchObject({ state: 'due', retries: 1 });
    });
  });
});
