/**
 * Backoff delays shared by the token lease polling, the delivery retries and the outbox schedule.
 * `random` is injectable so tests can pin the jitter.
 */

export type Random = () => number;

/** Exponential backoff with full jitter (AWS Architecture Blog): uniform in [0, min(cap, base · 2^attempt)). */
export function fullJitter(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: Random = Math.random,
): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/** Half fixed, half random: keeps a schedule (100/200/400 ms) recognisable while spreading the callers apart. */
export function equalJitter(delayMs: number, random: Random = Math.random): number {
  return Math.floor(delayMs / 2 + (random() * delayMs) / 2);
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
