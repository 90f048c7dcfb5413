import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { jsonObject } from './json-body';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { checkedTolerance, parseTimestamp, timestampProblem } from './timestamp-tolerance';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/**
 * Stripe: `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>…]`, the HMAC-SHA256 of `<t>.<raw body>` keyed with
 * the endpoint secret exactly as Stripe shows it (`whsec_…` included). `v0` and unknown keys are ignored.
 *
 * Stripe's library checks only the past; this also refuses a timestamp more than the tolerance ahead, since an
 * authentic event cannot come from the future. The delivery id is the event `id`, read from the body only after
 * the signature holds.
 */
export function stripeVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const header = headerValue(request.headers, 'stripe-signature');
      if (header === undefined) return reject('missing_header');
      const parsed = parseHeader(header);
      if (parsed === undefined || parsed.signatures.length === 0) return reject('malformed_signature');
      const timestamp = parseTimestamp(parsed.timestamp);
      if (timestamp === undefined) return reject('malformed_timestamp');

      const signedPrefix = `${timestamp.text}.`;
      // Stripe signs hex text; comparing the decoded digests is the same test on bytes of fixed length.
      const expected = keys.map((key) =>
        createHmac('sha256', key).update(signedPrefix).update(request.body).digest(),
      );
      if (!anyEqual(expected, parsed.signatures)) return reject('bad_signature');
      const problem = timestampProblem(timestamp.seconds, nowMs, tolerance);
      if (problem !== undefined) return reject(problem);
      return accept(eventId(request.body));
    },
  };
}

/**
 * Splits `k=v` items. Items are trimmed, so a header repeated and joined with `, ` still parses, but two `t`
 * entries are ambiguous and refused. Malformed `v1` entries are skipped, as Stripe's own parser cannot match them.
 */
function parseHeader(header: string): { timestamp: string; signatures: Buffer[] } | undefined {
  let timestamp: string | undefined;
  const signatures: Buffer[] = [];
  for (const item of header.split(',')) {
    const trimmed = item.trim();
    const eq = trimmed.indexOf('=');
    if (eq < 0) continue;
    const key = trimmed.slice(0, eq);
    const value = trimmed.slice(eq + 1);
    if (key === 't') {
      if (timestamp !== undefined) return undefined;
      timestamp = value;
    } else if (key === 'v1') {
      const signature = decodeHexSha256(value);
      if (signature !== undefined) signatures.push(signature);
    }
  }
  return timestamp === undefined ? undefined : { timestamp, signatures };
}

/** The event id, or `undefined` (the caller then hashes the body) when the body is not a JSON event. */
function eventId(body: Buffer): string | undefined {
  return deliveryIdFrom(jsonObject(body)?.id);
}
