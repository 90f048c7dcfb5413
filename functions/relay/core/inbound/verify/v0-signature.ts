import { createHmac } from 'node:crypto';
import { matchingIndex } from './constant-time';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { parseTimestamp, timestampProblem } from './timestamp-tolerance';
import type { InboundRequest, RejectReason } from './types';

const PREFIX = 'v0=';

/** Where a sender of the `v0` scheme puts its signature and timestamp, and how it spells the signed timestamp. */
export interface V0Scheme {
  readonly signatureHeader: string;
  readonly timestampHeader: string;
  /** Sign the header's text as sent (Slack's Bolt), rather than the number's own spelling (Zoom's Rivet). */
  readonly signsHeaderText: boolean;
}

/**
 * Slack's and Zoom's shared scheme: `<signature header>: v0=<hex>`, the HMAC-SHA256 of `v0:<timestamp>:<raw body>`
 * keyed with the secret as configured. The timestamp is checked against the window only once the signature
 * holds. Returns the secret that verified the request, which Zoom's handshake is keyed with.
 */
export function checkV0Signature(
  scheme: V0Scheme,
  request: InboundRequest,
  secrets: readonly string[],
  nowMs: number,
  toleranceSeconds: number,
): { readonly ok: true; readonly secret: string } | { readonly ok: false; readonly reason: RejectReason } {
  const keys = secrets.filter((s) => s.length > 0);
  if (keys.length === 0) return { ok: false, reason: 'no_secret' };
  const timestampHeader = headerValue(request.headers, scheme.timestampHeader);
  const signatureHeader = headerValue(request.headers, scheme.signatureHeader);
  if (timestampHeader === undefined || signatureHeader === undefined)
    return { ok: false, reason: 'missing_header' };
  const timestamp = parseTimestamp(timestampHeader);
  if (timestamp === undefined) return { ok: false, reason: 'malformed_timestamp' };
  const signature = signatureHeader.startsWith(PREFIX)
    ? decodeHexSha256(signatureHeader.slice(PREFIX.length))
    : undefined;
  if (signature === undefined) return { ok: false, reason: 'malformed_signature' };

  const signedPrefix = `v0:${scheme.signsHeaderText ? timestampHeader : timestamp.text}:`;
  const expected = keys.map((key) =>
    createHmac('sha256', key).update(signedPrefix).update(request.body).digest(),
  );
  const secret = keys[matchingIndex(expected, [signature])];
  if (secret === undefined) return { ok: false, reason: 'bad_signature' };
  const problem = timestampProblem(timestamp.seconds, nowMs, toleranceSeconds);
  return problem === undefined ? { ok: true, secret } : { ok: false, reason: problem };
}
