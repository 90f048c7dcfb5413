import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { jsonObject } from './json-body';
import { headerValue } from './request-header';
import { decodeBase64, decodeBase64Sha256 } from './signature-encoding';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/** `HMAC` then one space and the base64 digest; the scheme name is case-insensitive as in any Authorization. */
const HMAC = /^hmac ([^ ]+)$/i;

/**
 * Microsoft Teams outgoing webhooks
 * (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook):
 * `Authorization: HMAC <base64>`, the HMAC-SHA256 of the raw body keyed with the *base64-decoded* security token
 * Teams shows when the webhook is created. Teams signs no timestamp. The delivery id is the activity `id`.
 */
export function msteamsVerifier(): Verifier {
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      const keys = secrets.map(decodeBase64).filter((k): k is Buffer => k !== undefined && k.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const header = headerValue(request.headers, 'authorization');
      if (header === undefined) return reject('missing_header');
      const encoded = HMAC.exec(header)?.[1];
      const signature = encoded === undefined ? undefined : decodeBase64Sha256(encoded);
      if (signature === undefined) return reject('malformed_signature');
      const expected = keys.map((key) => createHmac('sha256', key).update(request.body).digest());
      if (!anyEqual(expected, [signature])) return reject('bad_signature');
      return accept(deliveryIdFrom(jsonObject(request.body)?.id));
    },
  };
}
