/**
 * What an answer of ONEiO's receiver means for the message. ONEiO documents none of its status codes, so this
 * follows HTTP semantics: 401 means the token is no longer valid; 408, 425, 429 and 5xx are worth retrying;
 * any other 4xx rejects this message and retrying it unchanged would fail again.
 */
export type Classification = 'delivered' | 'unauthorized' | 'transient' | 'permanent';

const TRANSIENT_4XX = new Set([408, 425, 429]);

export function classifyStatus(status: number): Classification {
  if (status >= 200 && status < 300) return 'delivered';
  if (status === 401) return 'unauthorized';
  if (status >= 500 || TRANSIENT_4XX.has(status)) return 'transient';
  if (status >= 400) return 'permanent';
  // 1xx/3xx: the receiver never redirects a POST; treat an odd answer as a hiccup rather than a verdict.
  return 'transient';
}

/**
 * Milliseconds the server asked us to wait (`Retry-After`: delta-seconds or an HTTP date), or undefined when the
 * header is absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}
