import type { OutboundMessage } from '../core/delivery/deliver';

/**
 * A message the relay acknowledged but could not deliver yet, or that ONEiO refused (parked). It keeps every field
 * of the message (body, received-at, forwarded headers, query, ONEiO endpoint, envelope), so a retry or a redrive
 * sends what the first attempt sent, with the same credential pair.
 */
export interface OutboxItem extends OutboundMessage {
  readonly state: 'due' | 'parked';
  /** HTTP attempts made so far, in the call and by sweeps. */
  readonly attempts: number;
  /** Scheduled retries so far: picks the next step of the retry schedule. */
  readonly retries: number;
  /**
   * Start of the current retry window, epoch ms: when the relay received the message, or when an operator last
   * redrove it (a redriven message gets the full maximum age again).
   */
  readonly firstSeenAt: number;
  /** `due`: next attempt; `parked`: when it was parked. Epoch ms. */
  readonly dueAt: number;
  /** Secret-free description of the last failure. */
  readonly lastError: string;
}

/** An item's place in its queue, as the queue's index tells it: enough to claim it, without its body. */
export interface QueuedEntry {
  readonly relayId: string;
  /** `due`: next attempt; `parked`: when it was parked. Epoch ms. */
  readonly dueAt: number;
  readonly firstSeenAt: number;
}

/** One queue at a glance, from its index only. */
export interface QueueSummary {
  /** Items counted, at most the `max` asked for. */
  readonly items: number;
  /** Earliest first-seen time among them (the oldest message), epoch ms. */
  readonly oldestFirstSeenAt?: number;
  /** Earliest `dueAt` among them (the next try, or the longest parked), epoch ms. */
  readonly earliestDueAt?: number;
}

/**
 * The durable outbox: storage calls only; when to retry and when to park is decided by the sweep.
 *
 * Every write recognises its own earlier success (a write applied, whose answer was lost, is not reported as
 * failed when the SDK's retry finds its own work done), and every transition of a claimed item is conditioned on
 * the claim still being the caller's: a sweep that overran its claim, or an item purged meanwhile, changes nothing.
 */
export interface Outbox {
  /**
   * Stores a new item. Resolves once the message is in the outbox: written now, by an earlier attempt of this
   * write, or already there under the same relay id (another copy of the same EventBridge event). Rejects when it
   * could not be stored durably.
   */
  add(item: OutboxItem): Promise<void>;
  /** Due items with `dueAt <= now`, oldest first, without their bodies. */
  due(now: number, limit: number): Promise<QueuedEntry[]>;
  /**
   * Claims a due item for one delivery attempt by moving its due time to `until` and recording `claimToken`, on
   * condition that nobody moved it since it was read: of two sweeps, exactly one wins. A sweep that dies leaves the
   * item due again at `until`. Resolves with the whole item (body included) when this call won, else undefined: a
   * body is only ever read for an item about to be delivered.
   */
  claim(entry: QueuedEntry, until: number, claimToken: string): Promise<OutboxItem | undefined>;
  /** Delivered: the item is removed. False when the claim was no longer ours (the item is left as it is). */
  remove(relayId: string, claimToken: string): Promise<boolean>;
  /** Still failing: back to due at `dueAt`. False when the claim was no longer ours, or the item was purged. */
  reschedule(
    relayId: string,
    claimToken: string,
    update: { attempts: number; retries: number; dueAt: number; lastError: string },
  ): Promise<boolean>;
  /**
   * Given up (too old, or refused by ONEiO): parked for an operator. False when the claim was no longer ours, or the
   * item was purged.
   */
  park(
    relayId: string,
    claimToken: string,
    update: { attempts: number; parkedAt: number; lastError: string },
  ): Promise<boolean>;
  /** Operator: one item by id. */
  get(relayId: string): Promise<OutboxItem | undefined>;
  /** Operator: items of one queue, oldest first. */
  list(state: 'due' | 'parked', limit: number): Promise<OutboxItem[]>;
  /**
   * Items in one queue (for the parked-items gauge), counting at most `max` and stopping at `deadline` (epoch ms),
   * when given, with what it has counted so far.
   */
  count(state: 'due' | 'parked', max: number, deadline?: number): Promise<number>;
  /** Operator: count, oldest message and earliest due time of one queue (up to `max` items), from its index only. */
  summary(state: 'due' | 'parked', max: number): Promise<QueueSummary>;
  /** Operator: a parked item becomes due at `now` with a fresh retry window. Resolves false when it is not parked. */
  redrive(relayId: string, now: number): Promise<boolean>;
  /** Operator: deletes an item. Resolves false when it did not exist (idempotent). */
  purge(relayId: string): Promise<boolean>;
  /**
   * Moves items an earlier release left in an older storage layout into the current one, as many as fit before
   * `deadline` (epoch ms); resolves with how many are still left there (0 when none). Only a store whose layout
   * changed implements it; the sweep calls it once per run.
   */
  upgradeLayout?(deadline: number): Promise<number>;
}
