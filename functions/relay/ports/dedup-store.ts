/** Where a message with a given delivery id stands. */
export type DedupState = 'in_progress' | 'delivered' | 'queued';

export type DedupClaim =
  | { readonly status: 'claimed' }
  /** Seen before: `relayId` is the id the first copy was given. */
  | { readonly status: 'duplicate'; readonly state: DedupState; readonly relayId: string };

/** Remembers which (source, delivery id) pairs were seen, so a retried webhook is delivered once. */
export interface DedupStore {
  /**
   * Records the pair as in progress unless it is already known. An in-progress record older than `lapseAt` of the
   * attempt that wrote it (a crashed attempt) is taken over; a record past its TTL counts as absent.
   */
  claim(
    key: string,
    claim: { relayId: string; now: number; lapseAt: number; ttlSeconds: number },
  ): Promise<DedupClaim>;
  /** Marks our claim delivered or queued (kept by the outbox). */
  complete(key: string, relayId: string, state: 'delivered' | 'queued'): Promise<void>;
  /** Forgets our claim after a failure that kept nothing, so the sender's retry is not refused as a duplicate. */
  release(key: string, relayId: string): Promise<void>;
}
