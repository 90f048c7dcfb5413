import { randomUUID } from 'node:crypto';
import type { Outbox, OutboxItem, QueuedEntry } from '../../ports/outbox';
import { type Random, sleep as realSleep } from '../backoff';
import { type DeliverDeps, type DeliveryOutcome, deliver, type RetryPolicy } from '../delivery/deliver';
import type { DestinationGate, HoldReason } from '../destination/destination-gate';
import { Pacer } from './pacer';
import { outboxRetryDelay } from './retry-schedule';

export interface SweepDeps extends DeliverDeps {
  readonly outbox: Outbox;
  /** Items older than this (since first seen) are parked instead of rescheduled. */
  readonly maxAgeMs: number;
  readonly now: () => number;
  readonly random?: Random;
  readonly retryPolicy?: RetryPolicy;
  /** ONEiO's backoff, the breaker and the pause; without it the sweep always delivers. */
  readonly destination?: DestinationGate;
  /** Most deliveries this sweep starts per second. @default no limit */
  readonly drainRatePerSecond?: number;
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
  /**
   * Claimed items given back unsent, due as before: a hold began mid-sweep, or the drain rate left no start time
   * before the sweep's end.
   */
  readonly released: number;
  /** Why this sweep sent nothing, or stopped early: paused, ONEiO's backoff, breaker open. */
  readonly held?: HoldReason;
  /** The breaker was half-open and this sweep probed with one message: closed or open again. */
  readonly probe?: 'closed' | 'reopened';
  /** An operator's pause is in force (a gauge: published every sweep). */
  readonly paused: boolean;
  /** How long the breaker has been open (half-open included), ms; 0 when closed (a gauge). */
  readonly breakerOpenMs: number;
  /** Age since first seen of the oldest item that was due when the sweep started, ms. */
  readonly oldestDueAgeMs?: number;
  /**
   * Parked items waiting for an operator after this sweep (counted up to {@link PARKED_COUNT_MAX}); absent when the
   * count did not fit the sweep's time or failed.
   */
  readonly parkedItems?: number;
  /** Items still in an earlier release's storage layout after this sweep moved some; absent when not checked. */
  readonly legacyItems?: number;
}

/** Counting parked items reads their keys; beyond this many, the exact number no longer matters to an alarm. */
export const PARKED_COUNT_MAX = 1_000;

/** Items fetched per query without a drain rate; with one, about a second's worth (10 to 100). */
const BATCH = 10;
const MAX_BATCH = 100;
/** Items delivered side by side without a drain rate; with one, enough for the rate at half a second per answer. */
const PARALLEL = 4;
const MAX_PARALLEL = 50;
/** Time one item may spend delivering. */
const ITEM_DELIVERY_MS = 5_000;
/** Time one item may take in all: its delivery, then writing its outcome. */
const ITEM_BUDGET_MS = 6_000;
/**
 * How long a claim holds an item. Longer than a sweep can run (it ends before the function's timeout), so an item
 * is never delivered by two sweeps at once; short enough that the item of a crashed sweep comes back within minutes.
 */
const CLAIM_MS = 120_000;
/** Removals of a delivered item, in all, and the pause before the next (times the attempt number). */
const REMOVE_ATTEMPTS = 3;
const REMOVE_RETRY_PAUSE_MS = 200;
/** Time a removal needs (the SDK's own two attempts of one second each). */
const REMOVE_MIN_MS = 2_000;
/** The parked count and the layout upgrade are skipped when less than this is left: they can wait a minute. */
const COUNT_MIN_MS = 500;

interface Counts {
  claimed: number;
  delivered: number;
  rescheduled: number;
  parked: number;
  inDoubt: number;
  claimsLost: number;
  errors: number;
  released: number;
}

interface Claimed {
  readonly entry: QueuedEntry;
  readonly item: OutboxItem;
  readonly claimToken: string;
}

/**
 * One pass of the outbox: due items oldest first, each claimed with a conditional write, delivered, then removed,
 * rescheduled with backoff or parked — each transition only while the claim is still this sweep's.
 *
 * The destination decides first (a fresh read): paused, ONEiO's backoff or an open breaker → the sweep sends nothing;
 * a breaker past its cool-down → this sweep probes with the oldest item alone, and carries on only if that closed
 * it. Deliveries start at most `drainRatePerSecond` apart, so a recovering ONEiO gets the backlog at a pace it
 * chose; a hold that begins mid-sweep (a pause, failures opening the breaker) gives the claimed items back unsent.
 *
 * The sweep ends by `deadline` (set before the function's timeout): it claims only as many items as its workers and
 * its rate can finish in the time left, and each item's delivery ends by the sweep's deadline. One item's failure
 * (a write that fails, an item purged meanwhile) affects that item only.
 */
export async function sweepOutbox(deadline: number, deps: SweepDeps): Promise<SweepReport> {
  const { outbox, now, destination } = deps;
  const rate = deps.drainRatePerSecond ?? Number.POSITIVE_INFINITY;
  const counts: Counts = {
    claimed: 0,
    delivered: 0,
    rescheduled: 0,
    parked: 0,
    inDoubt: 0,
    claimsLost: 0,
    errors: 0,
    released: 0,
  };
  let held: HoldReason | undefined;
  let probe: 'closed' | 'reopened' | undefined;
  let oldestDueAgeMs: number | undefined;
  const noteOldest = (entries: readonly QueuedEntry[]) => {
    if (oldestDueAgeMs === undefined && entries.length > 0) {
      oldestDueAgeMs = now() - Math.min(...entries.map((entry) => entry.firstSeenAt));
    }
  };

  // One pace for everything this sweep sends, the probe included.
  const pacer = new Pacer(rate, now, deps.sleep ?? realSleep);
  /** Every delivery must start with a whole item budget left before the sweep's deadline. */
  const lastStart = () => deadline - ITEM_BUDGET_MS;
  const plan = destination === undefined ? { kind: 'deliver' as const } : await destination.planSweep();
  let drain = plan.kind === 'deliver';
  if (plan.kind === 'hold') {
    held = plan.hold.reason;
    // The backlog's age still counts while nothing is sent: the overdue alarm must see it.
    noteOldest(await outbox.due(now(), BATCH));
  }
  if (plan.kind === 'probe' && destination !== undefined) {
    const result = await probeWithOne(deadline, deps, destination, counts, noteOldest, () =>
      pacer.take(lastStart()),
    );
    probe = result === 'closed' || result === 'reopened' ? result : undefined;
    drain = result === 'closed';
    if (!drain) held = 'breaker';
  }

  if (drain) {
    const batchSize = Number.isFinite(rate) ? Math.min(MAX_BATCH, Math.max(BATCH, Math.ceil(rate))) : BATCH;
    const workers = Number.isFinite(rate)
      ? Math.min(MAX_PARALLEL, Math.max(PARALLEL, Math.ceil(rate / 2)))
      : PARALLEL;
    for (;;) {
      const hold = await destination?.hold();
      if (hold !== undefined) {
        held = hold.reason;
        break;
      }
      // Claim no more than the workers can finish in the time left, and than the rate lets start before the end.
      const capacity = Math.min(
        batchSize,
        workers * Math.floor((deadline - now()) / ITEM_BUDGET_MS),
        pacer.turnsUntil(lastStart()),
      );
      if (capacity <= 0) break;
      const batch = await outbox.due(now(), capacity);
      noteOldest(batch);
      // Claimed side by side (a batch may be a second's worth at a high rate), kept in queue order.
      const claims: (Claimed | undefined)[] = new Array(batch.length);
      await inPool([...batch.keys()], workers, async (i) => {
        const entry = batch[i] as QueuedEntry;
        const claimToken = randomUUID();
        const item = await claimOne(entry, claimToken, counts, deps);
        if (item !== undefined) claims[i] = { entry, item, claimToken };
      });
      const claimed = claims.filter((one): one is Claimed => one !== undefined);
      counts.claimed += claimed.length;
      await inPool(claimed, workers, async (one) => {
        // A hold that began meanwhile (a pause seen, the breaker opened by failures) stops what is not sent yet.
        const started = await pacer.take(lastStart());
        const hold = started ? await destination?.hold() : undefined;
        if (!started || hold !== undefined) {
          if (hold !== undefined) held = hold.reason;
          await settle(one, counts, deps, () => release(one, deps));
          return;
        }
        await settle(one, counts, deps, async () => {
          const result = await deliverOne(one, deadline, deps);
          await destination?.record(result.delivery);
          return result;
        });
      });
      // A short batch means the queue is drained; a batch lost entirely to another sweep means it is busy elsewhere.
      if (batch.length < capacity || claimed.length === 0 || held !== undefined) break;
    }
  }

  const parkedItems = await countParked(outbox, deadline, now);
  const legacyItems = await upgradeLayout(outbox, deadline, now);
  const known = destination?.known;
  const at = now();
  return {
    ...counts,
    ...(held !== undefined && { held }),
    ...(probe !== undefined && { probe }),
    paused: known?.pause !== undefined && (known.pause.until === undefined || known.pause.until > at),
    breakerOpenMs: known?.breaker === undefined ? 0 : Math.max(0, at - known.breaker.openedAt),
    ...(oldestDueAgeMs !== undefined && { oldestDueAgeMs }),
    ...(parkedItems !== undefined && { parkedItems }),
    ...(legacyItems !== undefined && { legacyItems }),
  };
}

/**
 * The half-open breaker's probe: with the probe lease, the oldest due item alone is delivered, and its outcome
 * closes the breaker or opens it again. Resolves `nothing` when another sweep probes or nothing is due (the breaker
 * stays half-open; live messages keep going to the outbox, so the next sweep has one to probe with).
 */
async function probeWithOne(
  deadline: number,
  deps: SweepDeps,
  destination: DestinationGate,
  counts: Counts,
  noteOldest: (entries: readonly QueuedEntry[]) => void,
  /** Waits for the probe's turn at the drain rate; false when none is left before the sweep's end. */
  turn: () => Promise<boolean>,
): Promise<'closed' | 'reopened' | 'lost' | 'nothing'> {
  const { outbox, now } = deps;
  if (deadline - now() < ITEM_BUDGET_MS) return 'nothing';
  // Something to probe with first: a lease taken for nothing would keep the breaker half-open a lease longer.
  const [entry] = await outbox.due(now(), 1);
  if (entry === undefined) return 'nothing';
  noteOldest([entry]);
  if (!(await destination.tryProbe())) return 'nothing';
  const claimToken = randomUUID();
  const item = await claimOne(entry, claimToken, counts, deps);
  if (item === undefined) {
    await destination.releaseProbe();
    return 'nothing';
  }
  counts.claimed++;
  let probe: 'closed' | 'reopened' | 'lost' = 'lost';
  await settle({ entry, item, claimToken }, counts, deps, async () => {
    if (!(await turn())) {
      await destination.releaseProbe();
      return release({ entry, item, claimToken }, deps);
    }
    const result = await deliverOne({ entry, item, claimToken }, deadline, deps);
    probe = await destination.endProbe(result.delivery);
    return result;
  });
  return probe;
}

type ItemOutcome = 'delivered' | 'rescheduled' | 'parked' | 'claimsLost' | 'released';

/** Runs one item's work and counts its outcome; a failure to write it is that item's alone. */
async function settle(
  one: Claimed,
  counts: Counts,
  deps: SweepDeps,
  work: () => Promise<{ outcome: ItemOutcome; inDoubt?: boolean }>,
): Promise<void> {
  try {
    const result = await work();
    counts[result.outcome]++;
    if (result.inDoubt) counts.inDoubt++;
  } catch (error) {
    counts.errors++;
    deps.onItemError?.(one.item.relayId, error);
  }
}

/**
 * Claims one item; a claim that fails is that item's alone (it stays due, untouched or recognised as ours by the
 * outbox, and the next sweep takes it), not the end of the sweep.
 */
async function claimOne(
  entry: QueuedEntry,
  claimToken: string,
  counts: Counts,
  deps: SweepDeps,
): Promise<OutboxItem | undefined> {
  try {
    return await deps.outbox.claim(entry, deps.now() + CLAIM_MS, claimToken);
  } catch (error) {
    counts.errors++;
    deps.onItemError?.(entry.relayId, error);
    return undefined;
  }
}

/** Gives a claimed item back unsent: due again at its old time (keeping its place in line), no retry counted. */
async function release(one: Claimed, deps: SweepDeps): Promise<{ outcome: ItemOutcome }> {
  const { item } = one;
  const released = await deps.outbox.reschedule(item.relayId, one.claimToken, {
    attempts: item.attempts,
    retries: item.retries,
    dueAt: one.entry.dueAt,
    lastError: item.lastError,
  });
  return { outcome: released ? 'released' : 'claimsLost' };
}

async function deliverOne(
  one: Claimed,
  sweepDeadline: number,
  deps: SweepDeps,
): Promise<{ outcome: ItemOutcome; inDoubt?: boolean; delivery: DeliveryOutcome }> {
  const { outbox, now } = deps;
  const { item, claimToken } = one;
  const deadline = Math.min(now() + ITEM_DELIVERY_MS, sweepDeadline - (ITEM_BUDGET_MS - ITEM_DELIVERY_MS));
  // The item is the message as it was kept: the same URL, headers, body and credential pair as the first attempt.
  const delivery = await deliver(item, deadline, deps, deps.retryPolicy);
  const attempts = item.attempts + delivery.attempts;
  if (delivery.status === 'delivered') {
    const removed = await removeDelivered(one, sweepDeadline, deps);
    return { outcome: removed ? 'delivered' : 'claimsLost', delivery };
  }
  const tooOld = now() - item.firstSeenAt >= deps.maxAgeMs;
  if (delivery.status === 'rejected' || tooOld) {
    const lastError =
      tooOld && delivery.status !== 'rejected'
        ? `${delivery.lastError}; gave up after the maximum age`
        : delivery.lastError;
    const parked = await outbox.park(item.relayId, claimToken, { attempts, parkedAt: now(), lastError });
    return {
      outcome: parked ? 'parked' : 'claimsLost',
      inDoubt: delivery.status === 'undelivered' && delivery.inDoubt,
      delivery,
    };
  }
  // The schedule's next step is two minutes or more: an attempt in doubt is never followed by a copy within a minute.
  const rescheduled = await outbox.reschedule(item.relayId, claimToken, {
    attempts,
    retries: item.retries + 1,
    dueAt: now() + outboxRetryDelay(item.retries + 1, deps.random),
    lastError: delivery.lastError,
  });
  return { outcome: rescheduled ? 'rescheduled' : 'claimsLost', inDoubt: delivery.inDoubt, delivery };
}

/**
 * Takes a delivered item out of the outbox. ONEiO has it: an item left behind comes back when its claim lapses and
 * is sent a second time, so a failed removal is tried again while the sweep has time (the removal is conditioned
 * on the claim, so trying again is safe).
 */
async function removeDelivered(one: Claimed, sweepDeadline: number, deps: SweepDeps): Promise<boolean> {
  const sleep = deps.sleep ?? realSleep;
  for (let attempt = 1; ; attempt++) {
    try {
      return await deps.outbox.remove(one.item.relayId, one.claimToken);
    } catch (error) {
      const pauseMs = REMOVE_RETRY_PAUSE_MS * attempt;
      if (attempt >= REMOVE_ATTEMPTS || sweepDeadline - deps.now() < pauseMs + REMOVE_MIN_MS) throw error;
      await sleep(pauseMs);
    }
  }
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

async function upgradeLayout(
  outbox: Outbox,
  deadline: number,
  now: () => number,
): Promise<number | undefined> {
  if (outbox.upgradeLayout === undefined || deadline - now() < COUNT_MIN_MS) return undefined;
  try {
    return await outbox.upgradeLayout(deadline);
  } catch {
    // Moving old items is housekeeping: the next sweep tries again, and the sweep reads both layouts meanwhile.
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
