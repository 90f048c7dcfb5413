import { createHmac } from 'node:crypto';
import { anyEqual } from './constant-time';
import { headerValue } from './request-header';
import { decodeBase64Sha256, decodeHexSha256 } from './signature-encoding';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

export interface HmacSha256Options {
  /** The header carrying the signature, e.g. `X-Shopify-Hmac-Sha256` or `X-Hub-Signature`. */
  readonly header: string;
  /** Text before the signature, e.g. `sha256=`; compared exactly. */
  readonly prefix?: string;
  readonly encoding: 'hex' | 'base64';
}

/**
 * Generic HMAC-SHA256 of the raw body in one header (Jira Cloud, Shopify and similar). Hex is accepted in either
 * case, base64 with or without its padding. There is no delivery id: the caller falls back to a hash.
 */
export function hmacSha256Verifier(options: HmacSha256Options): Verifier {
  const header = options.header.toLowerCase();
  if (header === '') throw new RangeError('hmac-sha256 needs a header name');
  const prefix = options.prefix ?? '';
  const decode =
    options.encoding === 'hex'
      ? (value: string) => decodeHexSha256(value, true)
      : (value: string) => decodeBase64Sha256(value, true);
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const value = headerValue(request.headers, header);
      if (value === undefined) return reject('missing_header');
      const signature = value.startsWith(prefix) ? decode(value.slice(prefix.length)) : undefined;
      if (signature === undefined) return reject('malformed_signature');
      const expected = keys.map((key) => createHmac('sha256', key).update(request.body).digest());
      return anyEqual(expected, [signature]) ? accept() : reject('bad_signature');
    },
  };
}
