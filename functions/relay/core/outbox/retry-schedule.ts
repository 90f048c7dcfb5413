import type { Random } from '../backoff';

/**
 * When the outbox tries a message again, in the spirit of Standard Webhooks and EventBridge: quickly at first (the
 * receiver may have blipped), then further apart (it may be down for hours), until the maximum age parks it.
 */
const SCHEDULE_MS = [
  60_000, // 1 min
  2 * 60_000,
  5 * 60_000,
  10 * 60_000,
  30 * 60_000,
  60 * 60_000, // 1 h
  2 * 60 * 60_000,
  4 * 60 * 60_000, // then every 4 h
] as const;

/** ±20 % so that items queued together during an outage do not all come back in the same minute. */
const JITTER_SHARE = 0.2;

/** Delay before the next attempt after `retries` scheduled attempts have failed (0 for the first retry). */
export function outboxRetryDelay(retries: number, random: Random = Math.random): number {
  const base = SCHEDULE_MS[Math.min(Math.max(0, retries), SCHEDULE_MS.length - 1)] ?? 60_000;
  return Math.round(base * (1 - JITTER_SHARE + 2 * JITTER_SHARE * random()));
}
