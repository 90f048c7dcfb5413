import { equalsAnySecret } from './constant-time';
import { headerValue } from './request-header';
import { decodeBase64 } from './signature-encoding';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/** RFC 7617: the scheme name is case-insensitive, then one space and the base64 of `user:password`. */
const BASIC = /^basic ([^ ]+)$/i;

/**
 * HTTP Basic credentials; each configured secret is `user:password`. Credentials and secrets are compared as
 * SHA-256 digests, so the comparison takes the same time whatever their lengths and contents.
 */
export function basicVerifier(): Verifier {
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      if (!secrets.some((s) => s.length > 0)) return reject('no_secret');
      const header = headerValue(request.headers, 'authorization');
      if (header === undefined) return reject('missing_header');
      const encoded = BASIC.exec(header)?.[1];
      const credentials = encoded === undefined ? undefined : decodeBase64(encoded);
      if (credentials === undefined || !credentials.includes(':')) return reject('malformed_signature');
      return equalsAnySecret(secrets, credentials) ? accept() : reject('bad_signature');
    },
  };
}
