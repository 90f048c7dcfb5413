import type { RejectReason } from './types';

/** The Standard Webhooks and Stripe default: five minutes either way. */
export const DEFAULT_TOLERANCE_SECONDS = 300;

/** Up to 12 digits: far beyond any real clock, small enough to stay an exact integer. */
const SECONDS = /^[0-9]{1,12}$/;

/**
 * Parses a signed timestamp (integer seconds since the epoch). Returns its canonical text too, as both official
 * libraries sign the parsed number rather than the header text (they differ only for leading zeros).
 */
export function parseTimestamp(
  value: string,
): { readonly seconds: number; readonly text: string } | undefined {
  if (!SECONDS.test(value)) return undefined;
  const seconds = Number(value);
  return { seconds, text: String(seconds) };
}

/** An instant in UTC as ISO 8601 (`2021-07-25T10:00:00Z`, milliseconds allowed), as Zendesk sends it. */
const ISO_UTC = /^(\d{4}-\d{2}-\d{2})T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

/**
 * Parses an ISO 8601 UTC timestamp into whole seconds since the epoch. A date that does not exist (`02-30`) is
 * refused rather than rolled over into the next month.
 */
export function parseIsoTimestamp(value: string): number | undefined {
  const date = ISO_UTC.exec(value)?.[1];
  const ms = Date.parse(value);
  if (date === undefined || Number.isNaN(ms) || !new Date(ms).toISOString().startsWith(date))
    return undefined;
  return Math.floor(ms / 1000);
}

/**
 * Checks a timestamp against the clock, in both directions. The boundary is inclusive, as in the official
 * libraries: exactly `toleranceSeconds` old (or ahead) is still accepted.
 */
export function timestampProblem(
  seconds: number,
  nowMs: number,
  toleranceSeconds: number,
): Extract<RejectReason, 'stale_timestamp' | 'future_timestamp'> | undefined {
  const now = Math.floor(nowMs / 1000);
  if (now - seconds > toleranceSeconds) return 'stale_timestamp';
  if (seconds - now > toleranceSeconds) return 'future_timestamp';
  return undefined;
}

/** Refuses a tolerance that would disable or invert the check; called once when a verifier is built. */
export function checkedTolerance(toleranceSeconds: number | undefined): number {
  const tolerance = toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
  if (!Number.isInteger(tolerance) || tolerance <= 0) {
    throw new RangeError(`toleranceSeconds must be a positive integer, got ${tolerance}`);
  }
  return tolerance;
}
