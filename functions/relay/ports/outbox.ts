/** A message the relay acknowledged but could not deliver yet, or that ONEiO refused (parked). */
export interface OutboxItem {
  readonly relayId: string;
  readonly source: string;
  readonly deliveryId: string;
  /** The JSON text to send, exactly as it would have been sent. */
  readonly body: string;
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

/** The durable outbox: storage calls only; when to retry and when to park is decided by the sweep. */
export interface Outbox {
  /** Stores a new item. Rejects when it could not be stored durably. */
  add(item: OutboxItem): Promise<void>;
  /** Due items with `dueAt <= now`, oldest first. */
  due(now: number, limit: number): Promise<OutboxItem[]>;
  /**
   * Claims a due item for one delivery attempt by moving its due time to `until`, on condition that nobody moved it
   * since it was read: of two sweeps, exactly one wins. A sweep that dies leaves the item due again at `until`.
   */
  claim(item: OutboxItem, until: number): Promise<boolean>;
  /** Delivered: the item is removed. */
  remove(relayId: string): Promise<void>;
  /** Still failing: back to due at `dueAt`. */
  reschedule(
    relayId: string,
    update: { attempts: number; retries: number; dueAt: number; lastError: string },
  ): Promise<void>;
  /** Given up (too old, or refused by ONEiO): parked for an operator. */
  park(relayId: string, update: { attempts: number; parkedAt: number; lastError: string }): Promise<void>;
  /** Operator: one item by id. */
  get(relayId: string): Promise<OutboxItem | undefined>;
  /** Operator: items of one queue, oldest first. */
  list(state: 'due' | 'parked', limit: number): Promise<OutboxItem[]>;
  /** Items in one queue (for the parked-items gauge), counting at most `max`. */
  count(state: 'due' | 'parked', max: number): Promise<number>;
  /** Operator: a parked item becomes due at `now` with a fresh retry window. Resolves false when it is not parked. */
  redrive(relayId: string, now: number): Promise<boolean>;
  /** Operator: deletes an item. Resolves false when it did not exist (idempotent). */
  purge(relayId: string): Promise<boolean>;
}
