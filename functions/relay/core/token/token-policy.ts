/**
 * When a token is fresh, when it should be refreshed and when it must no longer be used. Pure arithmetic on epoch
 * milliseconds; the numbers follow google-auth and MSAL (refresh ahead by min(5 min, 20 % of the lifetime)).
 */

/** Longest refresh-ahead window: a one-hour token is refreshed from 55 minutes on. */
const MAX_SOFT_WINDOW_MS = 300_000;
const SOFT_WINDOW_SHARE = 0.2;
/** Never start a delivery with less than this left on the token (a delivery takes at most a request timeout). */
const MAX_HARD_CUTOFF_MS = 30_000;
/** Short-lived tokens (tests, odd issuers) keep a proportional cutoff so they stay usable at all. */
const HARD_CUTOFF_SHARE = 0.1;

export interface TokenTimes {
  readonly issuedAt: number;
  readonly expiresAt: number;
}

function lifetime(token: TokenTimes): number {
  return Math.max(0, token.expiresAt - token.issuedAt);
}

/** From this instant one instance should refresh; everyone else keeps using the token. */
export function refreshAt(token: TokenTimes): number {
  return token.expiresAt - Math.min(MAX_SOFT_WINDOW_MS, SOFT_WINDOW_SHARE * lifetime(token));
}

/** From this instant the token must not be used to start a delivery. */
export function unusableAt(token: TokenTimes): number {
  return token.expiresAt - Math.min(MAX_HARD_CUTOFF_MS, HARD_CUTOFF_SHARE * lifetime(token));
}

export function isFresh(token: TokenTimes, now: number): boolean {
  return now < refreshAt(token);
}

export function isUsable(token: TokenTimes, now: number): boolean {
  return now < unusableAt(token);
}

/**
 * The DynamoDB TTL (epoch seconds) for a token item: a while after expiry, so a reader never depends on TTL deletion
 * (which happens lazily, up to days later) and an expired item still tells a debugging operator what happened.
 */
export function ttlSeconds(expiresAt: number): number {
  return Math.ceil(expiresAt / 1000) + 3600;
}
