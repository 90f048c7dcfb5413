/**
 * What one execution environment remembers about tokens ONEiO refused (`401`), and when to stop asking for more.
 *
 * A token is refused for one of two reasons. Either that token went bad (revoked, or the token service forgot it):
 * the fix is to invalidate it fleet-wide and get a new one, once. Or ONEiO refuses the endpoint itself (disabled,
 * its credentials' permissions changed): then every new token is refused too, and invalidating and re-requesting
 * per message only hammers the token endpoint and throws away the fleet's token again and again. The two look the
 * same on one `401`; they differ in whether *new* tokens keep being refused.
 */

/**
 * Different tokens refused within {@link REFUSAL_WINDOW_MS} that mean "ONEiO refuses the endpoint, not a token".
 * A revoked token is refused once and its replacement works; a second refused token can still be a revocation
 * racing a refresh; a third in a few minutes cannot.
 */
export const REFUSALS_TO_HOLD = 3;

/**
 * How recent the refusals must be to count together. Tokens live an hour and are replaced a few minutes before
 * expiry: in normal operation an instance sees a new token about once an hour, so three refused within five
 * minutes can only be new tokens refused one after the other.
 */
export const REFUSAL_WINDOW_MS = 5 * 60_000;

/**
 * How long the relay holds off once ONEiO refuses new tokens: no fleet-wide invalidation, no token request,
 * deliveries are queued. Five minutes costs a disabled endpoint about one token request per hold (see
 * {@link TokenRefusals.record}) instead of one per message, and resumes deliveries within minutes of the endpoint
 * being enabled again — well inside the outbox's own retry schedule (1, 2, 5, 10, 30 min …).
 */
export const HOLD_MS = 5 * 60_000;

/**
 * Refused versions are forgotten once their token is past expiry (it can no longer be handed out anyway); the cap
 * only guards against an issuer announcing absurd lifetimes.
 */
const MAX_REMEMBERED = 100;

/** What to do after a refusal. */
export type RefusalVerdict =
  /** Invalidate the token fleet-wide and retry once with a new one. */
  | { readonly hold: false }
  /** Hold off: neither invalidate nor request a new token before `until`. `started`: this refusal began the hold. */
  | {
      readonly hold: true;
      readonly started: boolean;
      readonly until: number;
      readonly refusedTokens: number;
    };

export class TokenRefusals {
  /** Refused version → its token's `expiresAt`. */
  private readonly refused = new Map<string, number>();
  /** When each recently refused (distinct) version was first refused, oldest first. */
  private recent: number[] = [];
  private holdUntil = 0;
  /** How many refused tokens started the current (or last) hold. */
  private holdReason = 0;

  /** True when ONEiO refused this token version: this instance must never hand it out again. */
  isRefused(version: string): boolean {
    return this.refused.has(version);
  }

  /** The current hold: until when (epoch ms), and how many refused tokens started it. Undefined when not holding. */
  holding(now: number): { readonly until: number; readonly refusedTokens: number } | undefined {
    return now < this.holdUntil ? { until: this.holdUntil, refusedTokens: this.holdReason } : undefined;
  }

  /**
   * Records that ONEiO refused `token` at `now` and says what to do. A version already refused is not counted
   * twice (several deliveries of one instance often hold the same token when it goes bad).
   *
   * Once a hold has ended, the next token is a probe: if it is refused within {@link REFUSAL_WINDOW_MS} of the
   * end, the endpoint is still refusing and a new hold starts at once, rather than after three more tokens.
   */
  record(token: { readonly version: string; readonly expiresAt: number }, now: number): RefusalVerdict {
    this.forgetExpired(now);
    const holding = this.holding(now);
    const known = this.refused.has(token.version);
    if (!known) {
      this.refused.set(token.version, token.expiresAt);
      this.recent = [...this.recent.filter((at) => now - at < REFUSAL_WINDOW_MS), now];
    }
    const refusedTokens = this.recent.length;
    if (holding !== undefined) return { hold: true, started: false, ...holding };
    if (known) return { hold: false };
    const probeRefused = this.holdUntil > 0 && now - this.holdUntil < REFUSAL_WINDOW_MS;
    if (refusedTokens < REFUSALS_TO_HOLD && !probeRefused) return { hold: false };
    this.holdUntil = now + HOLD_MS;
    this.holdReason = refusedTokens;
    return { hold: true, started: true, until: this.holdUntil, refusedTokens };
  }

  private forgetExpired(now: number): void {
    for (const [version, expiresAt] of this.refused) {
      if (expiresAt <= now || this.refused.size > MAX_REMEMBERED) this.refused.delete(version);
    }
  }
}
