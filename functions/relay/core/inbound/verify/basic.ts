import { createHash } from 'node:crypto';
import { anyEqual } from './constant-time';
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
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const header = headerValue(request.headers, 'authorization');
      if (header === undefined) return reject('missing_header');
      const encoded = BASIC.exec(header)?.[1];
      const credentials = encoded === undefined ? undefined : decodeBase64(encoded);
      if (credentials === undefined || !credentials.includes(':')) return reject('malformed_signature');
      const expected = keys.map(sha256);
      return anyEqual(expected, [sha256(credentials)]) ? accept() : reject('bad_signature');
    },
  };
}

function sha256(value: string | Buffer): Buffer {
  return createHash('sha256').update(value).digest();
}
