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
  /** Due items with `dueAt <= now`, oldest first. */
  due(now: number, limit: number): Promise<OutboxItem[]>;
  /**
   * Claims a due item for one delivery attempt by moving its due time to `until` and recording `claimToken`, on
   * condition that nobody moved it since it was read: of two sweeps, exactly one wins. A sweep that dies leaves the
   * item due again at `until`.
   */
  claim(item: OutboxItem, until: number, claimToken: string): Promise<boolean>;
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
  /** Operator: a parked item becomes due at `now` with a fresh retry window. Resolves false when it is not parked. */
  redrive(relayId: string, now: number): Promise<boolean>;
  /** Operator: deletes an item. Resolves false when it did not exist (idempotent). */
  purge(relayId: string): Promise<boolean>;
}
