import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { headerValue } from './request-header';
import { decodeBase64Sha256 } from './signature-encoding';
import { checkedTolerance, parseIsoTimestamp, timestampProblem } from './timestamp-tolerance';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/**
 * Zendesk (https://developer.zendesk.com/documentation/webhooks/verifying/): `X-Zendesk-Webhook-Signature` is the
 * base64 HMAC-SHA256 of `<X-Zendesk-Webhook-Signature-Timestamp><raw body>` (no separator), keyed with the
 * webhook's signing secret as Zendesk shows it. The timestamp is ISO 8601 (`2021-07-25T10:00:00Z`) and is signed
 * as sent; the relay checks it against a five-minute window both ways.
 *
 * The delivery id is `X-Zendesk-Webhook-Invocation-Id`, which stays the same across the retries of one invocation.
 */
export function zendeskVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const timestampHeader = headerValue(request.headers, 'x-zendesk-webhook-signature-timestamp');
      const signatureHeader = headerValue(request.headers, 'x-zendesk-webhook-signature');
      if (timestampHeader === undefined || signatureHeader === undefined) return reject('missing_header');
      const seconds = parseIsoTimestamp(timestampHeader);
      if (seconds === undefined) return reject('malformed_timestamp');
      const signature = decodeBase64Sha256(signatureHeader);
      if (signature === undefined) return reject('malformed_signature');

      const expected = keys.map((key) =>
        createHmac('sha256', key).update(timestampHeader).update(request.body).digest(),
      );
      if (!anyEqual(expected, [signature])) return reject('bad_signature');
      const problem = timestampProblem(seconds, nowMs, tolerance);
      if (problem !== undefined) return reject(problem);
      return accept(deliveryIdFrom(headerValue(request.headers, 'x-zendesk-webhook-invocation-id')));
    },
  };
}
