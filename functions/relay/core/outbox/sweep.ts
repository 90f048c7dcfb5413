import { randomUUID } from 'node:crypto';
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
  /** One item's outcome could not be written (its claim lapses and it comes back); the sweep carries on. */
  readonly onItemError?: (relayId: string, error: unknown) => void;
}

export interface SweepReport {
  /** Items this sweep won the claim for. */
  readonly claimed: number;
  readonly delivered: number;
  readonly rescheduled: number;
  readonly parked: number;
  /** Attempts whose answer never came: the item is rescheduled and retried no sooner than the next step. */
  readonly inDoubt: number;
  /**
   * Items whose outcome was not written because the claim was no longer this sweep's: an operator purged the item,
   * or another holder took it over. Nothing was changed for them.
   */
  readonly claimsLost: number;
  /** Items whose outcome could not be written (DynamoDB failed); they come back when their claim lapses. */
  readonly errors: number;
  /** Age since first seen of the oldest item that was due when the sweep started, ms. */
  readonly oldestDueAgeMs?: number;
  /**
   * Parked items waiting for an operator after this sweep (counted up to {@link PARKED_COUNT_MAX}); absent when the
   * count did not fit the sweep's time or failed.
   */
  readonly parkedItems?: number;
}

/** Counting parked items reads their keys; beyond this many, the exact number no longer matters to an alarm. */
export const PARKED_COUNT_MAX = 1_000;

/** Items fetched per query; small, so a sweep near its deadline does not claim what it cannot finish. */
const BATCH = 10;
/** Items delivered side by side. */
const PARALLEL = 4;
/** Time one item may spend delivering. */
const ITEM_DELIVERY_MS = 5_000;
/** Time one item may take in all: its delivery, then writing its outcome. */
const ITEM_BUDGET_MS = 6_000;
/**
 * How long a claim holds an item. Longer than a sweep can run (it ends before the function's timeout), so an item
 * is never delivered by two sweeps at once; short enough that the item of a crashed sweep comes back within minutes.
 */
const CLAIM_MS = 120_000;
/** The parked count is skipped when less than this is left: the gauge can wait for the next sweep. */
const COUNT_MIN_MS = 500;

/**
 * One pass of the outbox: due items oldest first, each claimed with a conditional write, delivered, then removed,
 * rescheduled with backoff or parked — each transition only while the claim is still this sweep's.
 *
 * The sweep ends by `deadline` (set before the function's timeout): it claims only as many items as its workers can
 * finish in the time left, and each item's delivery ends by the sweep's deadline. One item's failure (a write that
 * fails, an item purged meanwhile) affects that item only.
 */
export async function sweepOutbox(deadline: number, deps: SweepDeps): Promise<SweepReport> {
  const { outbox, now } = deps;
  const counts = {
    claimed: 0,
    delivered: 0,
    rescheduled: 0,
    parked: 0,
    inDoubt: 0,
    claimsLost: 0,
    errors: 0,
  };
  let oldestDueAgeMs: number | undefined;

  for (;;) {
    // Workers run side by side, each item taking up to its budget: claim no more than they can finish.
    const capacity = PARALLEL * Math.floor((deadline - now()) / ITEM_BUDGET_MS);
    if (capacity <= 0) break;
    const batch = await outbox.due(now(), Math.min(BATCH, capacity));
    if (oldestDueAgeMs === undefined && batch.length > 0) {
      oldestDueAgeMs = now() - Math.min(...batch.map((i) => i.firstSeenAt));
    }
    const claimed: { item: OutboxItem; claimToken: string }[] = [];
    for (const item of batch) {
      const claimToken = randomUUID();
      if (await outbox.claim(item, now() + CLAIM_MS, claimToken)) claimed.push({ item, claimToken });
    }
    counts.claimed += claimed.length;
    await inPool(claimed, PARALLEL, async ({ item, claimToken }) => {
      try {
        const result = await retryOne(item, claimToken, deadline, deps);
        counts[result.outcome]++;
        if (result.inDoubt) counts.inDoubt++;
      } catch (error) {
        counts.errors++;
        deps.onItemError?.(item.relayId, error);
      }
    });
    // A short batch means the queue is drained; a batch lost entirely to another sweep means it is busy elsewhere.
    if (batch.length < Math.min(BATCH, capacity) || claimed.length === 0) break;
  }
  const parkedItems = await countParked(outbox, deadline, now);
  return {
    ...counts,
    ...(oldestDueAgeMs !== undefined && { oldestDueAgeMs }),
    ...(parkedItems !== undefined && { parkedItems }),
  };
}

async function retryOne(
  item: OutboxItem,
  claimToken: string,
  sweepDeadline: number,
  deps: SweepDeps,
): Promise<{ outcome: 'delivered' | 'rescheduled' | 'parked' | 'claimsLost'; inDoubt?: boolean }> {
  const { outbox, now } = deps;
  const deadline = Math.min(now() + ITEM_DELIVERY_MS, sweepDeadline - (ITEM_BUDGET_MS - ITEM_DELIVERY_MS));
  // The item is the message as it was kept: the same URL, headers, body and credential pair as the first attempt.
  const outcome = await deliver(item, deadline, deps, deps.retryPolicy);
  const attempts = item.attempts + outcome.attempts;
  if (outcome.status === 'delivered') {
    return { outcome: (await outbox.remove(item.relayId, claimToken)) ? 'delivered' : 'claimsLost' };
  }
  const tooOld = now() - item.firstSeenAt >= deps.maxAgeMs;
  if (outcome.status === 'rejected' || tooOld) {
    const lastError =
      tooOld && outcome.status !== 'rejected'
        ? `${outcome.lastError}; gave up after the maximum age`
        : outcome.lastError;
    const parked = await outbox.park(item.relayId, claimToken, { attempts, parkedAt: now(), lastError });
    return {
      outcome: parked ? 'parked' : 'claimsLost',
      inDoubt: outcome.status === 'undelivered' && outcome.inDoubt,
    };
  }
  // The schedule's next step is two minutes or more: an attempt in doubt is never followed by a copy within a minute.
  const rescheduled = await outbox.reschedule(item.relayId, claimToken, {
    attempts,
    retries: item.retries + 1,
    dueAt: now() + outboxRetryDelay(item.retries + 1, deps.random),
    lastError: outcome.lastError,
  });
  return { outcome: rescheduled ? 'rescheduled' : 'claimsLost', inDoubt: outcome.inDoubt };
}

async function countParked(outbox: Outbox, deadline: number, now: () => number): Promise<number | undefined> {
  if (deadline - now() < COUNT_MIN_MS) return undefined;
  try {
    return await outbox.count('parked', PARKED_COUNT_MAX, deadline);
  } catch {
    // The gauge is left out for this sweep (its alarm ignores missing data); the next sweep counts again.
    return undefined;
  }
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
