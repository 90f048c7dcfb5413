import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { jsonObject } from './json-body';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

const PREFIX = 'v1=';

/**
 * PagerDuty v3 webhooks (https://developer.pagerduty.com/docs/webhooks/webhook-signatures/):
 * `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>…]`, the HMAC-SHA256 of the raw body keyed with the subscription's
 * secret, one entry per secret while PagerDuty rotates it. Any entry may match; other versions and malformed
 * entries are skipped, as PagerDuty's Go library does. PagerDuty signs no timestamp, so there is no window.
 *
 * The delivery id is the event's `event.id`, which a redelivery repeats.
 */
export function pagerdutyVerifier(): Verifier {
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const header = headerValue(request.headers, 'x-pagerduty-signature');
      if (header === undefined) return reject('missing_header');
      const candidates = v1Signatures(header);
      if (candidates.length === 0) return reject('malformed_signature');
      const expected = keys.map((key) => createHmac('sha256', key).update(request.body).digest());
      if (!anyEqual(expected, candidates)) return reject('bad_signature');
      const event = jsonObject(request.body)?.event;
      return accept(
        deliveryIdFrom(
          typeof event === 'object' && event !== null ? (event as { id?: unknown }).id : undefined,
        ),
      );
    },
  };
}

/** The well-formed `v1` entries. Entries are trimmed, so a header repeated and joined with `, ` still parses. */
function v1Signatures(header: string): Buffer[] {
  const out: Buffer[] = [];
  for (const entry of header.split(',')) {
    const trimmed = entry.trim();
    if (!trimmed.startsWith(PREFIX)) continue;
    // PagerDuty's Go library decodes hex in either case.
    const signature = decodeHexSha256(trimmed.slice(PREFIX.length), true);
    if (signature !== undefined) out.push(signature);
  }
  return out;
}
