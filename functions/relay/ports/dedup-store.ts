/** Where a message with a given delivery id stands. */
export type DedupState = 'in_progress' | 'delivered' | 'queued';

export type DedupClaim =
  | { readonly status: 'claimed' }
  /** Seen before: `relayId` is the id the first copy was given. */
  | { readonly status: 'duplicate'; readonly state: DedupState; readonly relayId: string };

/** One attempt's claim on a delivery id. */
export interface DedupClaimRequest {
  readonly relayId: string;
  /**
   * Unique to this attempt (one invocation handling one copy). Completing and releasing are conditioned on it, not
   * on `relayId`: two copies of one EventBridge event share their relay id (it is the event id), and a late attempt
   * must never complete or release the claim of the copy that took over.
   */
  readonly claimToken: string;
  readonly now: number;
  /** When this attempt's invocation ends: a later copy may take the claim over after that. */
  readonly lapseAt: number;
  readonly ttlSeconds: number;
}

/** Remembers which (source, delivery id) pairs were seen, so a retried webhook is delivered once. */
export interface DedupStore {
  /**
   * Records the pair as in progress unless it is already known. An in-progress record older than `lapseAt` of the
   * attempt that wrote it (a crashed attempt) is taken over; a record past its TTL counts as absent. A claim whose
   * write was applied but whose answer was lost is still ours: it is never reported as a duplicate of itself.
   */
  claim(key: string, claim: DedupClaimRequest): Promise<DedupClaim>;
  /** Marks our claim delivered or queued (kept by the outbox). No-op when the claim is no longer ours. */
  complete(key: string, claimToken: string, state: 'delivered' | 'queued'): Promise<void>;
  /**
   * Forgets our claim after a failure that kept nothing, so the sender's retry is not refused as a duplicate.
   * No-op when the claim is no longer ours.
   */
  release(key: string, claimToken: string): Promise<void>;
}
