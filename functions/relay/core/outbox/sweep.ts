import type { Outbox, OutboxItem } from '../../ports/outbox';
import type { Random } from '../backoff';
import { type DeliverDeps, deliver, type RetryPolicy } from '../delivery/deliver';
import { outboxRetryDelay } from './retry-schedule';

export interface SweepDeps extends DeliverDeps {
  readonly outbox: Outbox;
  /** Items older than this (since first seen) are parked instead of rescheduled. */
  readonly maxAgeMs: number;
  readonly now: () => number;
  readonly random?: Random;
  readonly retryPolicy?: RetryPolicy;
}

export interface SweepReport {
  /** Items this sweep won the claim for. */
  readonly claimed: number;
  readonly delivered: number;
  readonly rescheduled: number;
  readonly parked: number;
  /** Age since first seen of the oldest item that was due when the sweep started, ms. */
  readonly oldestDueAgeMs?: number;
  /** Parked items waiting for an operator after this sweep (counted up to {@link PARKED_COUNT_MAX}). */
  readonly parkedItems: number;
}

/** Counting parked items reads their keys; beyond this many, the exact number no longer matters to an alarm. */
export const PARKED_COUNT_MAX = 1_000;

/** Items fetched per query; small, so a sweep near its deadline does not claim what it cannot finish. */
const BATCH = 10;
/** Items delivered side by side. */
const PARALLEL = 4;
/** Time one item may take: its delivery budget. */
const ITEM_BUDGET_MS = 6_000;
/**
 * How long a claim holds an item. Longer than an item's budget, so an item is never delivered by two sweeps at once;
 * short enough that the item of a crashed sweep comes back within minutes.
 */
const CLAIM_MS = 120_000;

/**
 * One pass of the outbox: due items oldest first, each claimed with a conditional write, delivered, then removed,
 * rescheduled with backoff or parked. Stops taking new items when the remaining time would not fit one.
 */
export async function sweepOutbox(deadline: number, deps: SweepDeps): Promise<SweepReport> {
  const { outbox, now } = deps;
  const counts = { claimed: 0, delivered: 0, rescheduled: 0, parked: 0 };
  let oldestDueAgeMs: number | undefined;
  const fits = () => now() + ITEM_BUDGET_MS < deadline;

  while (fits()) {
    const batch = await outbox.due(now(), BATCH);
    if (oldestDueAgeMs === undefined && batch.length > 0) {
      oldestDueAgeMs = now() - Math.min(...batch.map((i) => i.firstSeenAt));
    }
    const claimed: OutboxItem[] = [];
    for (const item of batch) {
      if (await outbox.claim(item, now() + CLAIM_MS)) claimed.push(item);
    }
    counts.claimed += claimed.length;
    await inPool(claimed, PARALLEL, async (item) => {
      const result = await retryOne(item, deps);
      counts[result]++;
    });
    // A short batch means the queue is drained; a batch lost entirely to another sweep means it is busy elsewhere.
    if (batch.length < BATCH || claimed.length === 0) break;
  }
  const parkedItems = await outbox.count('parked', PARKED_COUNT_MAX);
  return { ...counts, parkedItems, ...(oldestDueAgeMs !== undefined && { oldestDueAgeMs }) };
}

async function retryOne(item: OutboxItem, deps: SweepDeps): Promise<'delivered' | 'rescheduled' | 'parked'> {
  const { outbox, now } = deps;
  const message = {
    relayId: item.relayId,
    source: item.source,
    deliveryId: item.deliveryId,
    body: item.body,
  };
  const outcome = await deliver(message, now() + ITEM_BUDGET_MS, deps, deps.retryPolicy);
  const attempts = item.attempts + outcome.attempts;
  if (outcome.status === 'delivered') {
    await outbox.remove(item.relayId);
    return 'delivered';
  }
  const tooOld = now() - item.firstSeenAt >= deps.maxAgeMs;
  if (outcome.status === 'rejected' || tooOld) {
    const lastError =
      tooOld && outcome.status !== 'rejected'
        ? `${outcome.lastError}; gave up after the maximum age`
        : outcome.lastError;
    await outbox.park(item.relayId, { attempts, parkedAt: now(), lastError });
    return 'parked';
  }
  await outbox.reschedule(item.relayId, {
    attempts,
    retries: item.retries + 1,
    dueAt: now() + outboxRetryDelay(item.retries + 1, deps.random),
    lastError: outcome.lastError,
  });
  return 'rescheduled';
}

async function inPool<T>(items: readonly T[], size: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, items.length) }, worker));
}
