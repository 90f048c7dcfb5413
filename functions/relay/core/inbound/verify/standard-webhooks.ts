import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { headerValue } from './request-header';
import { decodeBase64, decodeBase64Sha256 } from './signature-encoding';
import { checkedTolerance, parseTimestamp, timestampProblem } from './timestamp-tolerance';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

const SECRET_PREFIX = 'whsec_';

/**
 * Standard Webhooks (https://www.standardwebhooks.com): `webhook-id`, `webhook-timestamp` and
 * `webhook-signature` (space-separated `v1,<base64>` entries, any of which may match, so senders can rotate).
 * The signed content is `<id>.<timestamp>.<raw body>`; the delivery id is `webhook-id`.
 *
 * The timestamp is checked only once the signature holds, so `stale_timestamp` / `future_timestamp` always
 * describe an authentic message (a replay or a skewed clock), never a forgery.
 */
export function standardWebhooksVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const keys = secrets.map(decodeSecret).filter((k): k is Buffer => k !== undefined);
      if (keys.length === 0) return reject('no_secret');
      const id = headerValue(request.headers, 'webhook-id');
      const timestampHeader = headerValue(request.headers, 'webhook-timestamp');
      const signatureHeader = headerValue(request.headers, 'webhook-signature');
      if (id === undefined || timestampHeader === undefined || signatureHeader === undefined) {
        return reject('missing_header');
      }
      const timestamp = parseTimestamp(timestampHeader);
      if (timestamp === undefined) return reject('malformed_timestamp');
      const candidates = v1Signatures(signatureHeader);
      if (candidates.length === 0) return reject('malformed_signature');

      const signedPrefix = `${id}.${timestamp.text}.`;
      const expected = keys.map((key) =>
        createHmac('sha256', key).update(signedPrefix).update(request.body).digest(),
      );
      if (!anyEqual(expected, candidates)) return reject('bad_signature');
      const problem = timestampProblem(timestamp.seconds, nowMs, tolerance);
      if (problem !== undefined) return reject(problem);
      return accept(deliveryIdFrom(id));
    },
  };
}

/**
 * `whsec_<base64>` or, as the official library also takes it, bare base64. A secret that is not valid base64
 * or decodes to nothing is unusable (an empty HMAC key would accept forgeries made with an empty key).
 */
function decodeSecret(secret: string): Buffer | undefined {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = decodeBase64(encoded);
  return key !== undefined && key.length > 0 ? key : undefined;
}

/** The well-formed `v1` entries; other versions (e.g. `v1a`, asymmetric) and malformed entries are skipped. */
function v1Signatures(header: string): Buffer[] {
  const out: Buffer[] = [];
  for (const entry of header.split(' ')) {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== 'v1') continue;
    const signature = decodeBase64Sha256(entry.slice(comma + 1));
    if (signature !== undefined) out.push(signature);
  }
  return out;
}
