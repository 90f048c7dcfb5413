import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

const PREFIX = 'sha256=';

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`, the delivery id in `X-GitHub-Delivery`.
 * The header must hold exactly one signature: a value joined from repeated headers does not verify.
 */
export function githubVerifier(): Verifier {
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const header = headerValue(request.headers, 'x-hub-signature-256');
      if (header === undefined) return reject('missing_header');
      const signature = header.startsWith(PREFIX) ? decodeHexSha256(header.slice(PREFIX.length)) : undefined;
      if (signature === undefined) return reject('malformed_signature');
      const expected = keys.map((key) => createHmac('sha256', key).update(request.body).digest());
      if (!anyEqual(expected, [signature])) return reject('bad_signature');
      return accept(deliveryIdFrom(headerValue(request.headers, 'x-github-delivery')));
    },
  };
}
