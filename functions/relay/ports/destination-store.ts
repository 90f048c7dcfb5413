/** An operator's pause: nothing is sent to ONEiO until `until` (or until resumed, when absent). */
export interface Pause {
  /** When it was paused, epoch ms. */
  readonly at: number;
  /** When it ends by itself, epoch ms; absent: only `resume` ends it. */
  readonly until?: number;
  /** Who paused: an AWS identity ARN, or an OS user marked as such. */
  readonly by: string;
  readonly reason?: string;
}

/** The circuit breaker while open (absent: closed). */
export interface OpenBreaker {
  /** When it opened, epoch ms; unchanged by a failed probe, so the open time keeps counting. */
  readonly openedAt: number;
  /** From then on a sweep may probe ONEiO with one message (half-open), epoch ms. */
  readonly openUntil: number;
  /** The sweep probing right now, and until when its probe lease holds. */
  readonly probe?: { readonly owner: string; readonly until: number };
}

/** The destination's fleet-wide state, as one stored record. */
export interface DestinationState {
  /** No attempt before this, epoch ms (ONEiO asked with `Retry-After`); 0 when it never did. */
  readonly notBefore: number;
  /** Failed deliveries across the fleet since the last success an instance recorded. */
  readonly failures: number;
  readonly breaker?: OpenBreaker;
  readonly pause?: Pause;
}

/** No backoff, no failures, closed, not paused: the state of a destination nothing was recorded for. */
export const CLEAR_STATE: DestinationState = { notBefore: 0, failures: 0 };

/**
 * Storage of the destination's state. Every write is conditional and recognises its own earlier success; each
 * resolves with the state as stored after it (so a caller's view is as fresh as its last write), and none decides
 * policy: thresholds and times come from the caller.
 */
export interface DestinationStore {
  /** The stored state (strongly consistent), {@link CLEAR_STATE} when there is none. */
  read(key: string): Promise<DestinationState>;
  /** Moves `notBefore` to `until` unless it is already that late. `extended`: this call moved it. */
  extendNotBefore(key: string, until: number): Promise<{ state: DestinationState; extended: boolean }>;
  /**
   * Counts one more failure (every one of a fleet failing at once). When the count reaches `threshold` and the
   * breaker is closed, opens it until `now + coolDownMs`. `opened`: this call opened it (one caller fleet-wide).
   */
  recordFailure(
    key: string,
    policy: { now: number; threshold: number; coolDownMs: number },
  ): Promise<{ state: DestinationState; opened: boolean }>;
  /** Sets the failure count back to 0 (a delivery went through). */
  resetFailures(key: string): Promise<DestinationState>;
  /** Takes the half-open probe lease: the breaker is open, its cool-down over and nobody else probing. */
  acquireProbe(key: string, probe: { owner: string; now: number; until: number }): Promise<boolean>;
  /**
   * Ends `owner`'s probe: closes the breaker (and clears the count), or keeps it open until `reopenUntil`. False when
   * the lease was no longer `owner`'s (nothing changed).
   */
  endProbe(key: string, owner: string, result: { close: true } | { reopenUntil: number }): Promise<boolean>;
  pause(key: string, pause: Pause): Promise<void>;
  /** Ends a pause; resolves with the pause that was ended, if there was one. */
  resume(key: string): Promise<Pause | undefined>;
}
