import { equalsAnySecret } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { headerValue } from './request-header';
import { accept, type InboundRequest, reject, type Verdict, type Verifier } from './types';

/** Where the sender puts its static token: exactly one of a header and a query parameter. */
export type TokenOptions = (
  | { readonly header: string; readonly query?: undefined }
  | { readonly query: string; readonly header?: undefined }
) & {
  /** A header whose value stays the same across the sender's retries (GitLab's `Idempotency-Key`). */
  readonly idHeader?: string;
};

/**
 * A static shared token, compared whole with the configured secrets (as SHA-256 digests, in constant time):
 * GitLab's `X-Gitlab-Token`, Okta event hooks' `Authorization` value, or a query parameter for senders that can
 * only vary the URL. A query parameter must appear once. The delivery id comes from `idHeader` when declared.
 */
export function tokenVerifier(options: TokenOptions): Verifier {
  if (options.header === undefined && options.query === undefined) {
    throw new RangeError('token needs a header or a query parameter');
  }
  return {
    verify(request: InboundRequest, secrets: readonly string[]): Verdict {
      if (!secrets.some((s) => s.length > 0)) return reject('no_secret');
      // A header named twice arrives joined (and then cannot match); a query parameter twice is refused outright,
      // since which one the sender meant would be a guess, and guessing favours an attacker.
      const values =
        options.header !== undefined
          ? [headerValue(request.headers, options.header)]
          : new URLSearchParams(request.query ?? '').getAll(options.query);
      if (values.length > 1) return reject('malformed_signature');
      const token = values[0];
      if (token === undefined || token === '') return reject('missing_header');
      if (!equalsAnySecret(secrets, token)) return reject('bad_signature');
      return accept(
        options.idHeader === undefined
          ? undefined
          : deliveryIdFrom(headerValue(request.headers, options.idHeader)),
      );
    },
  };
}
