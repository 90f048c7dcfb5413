import type { SignatureScheme, SourceDeclaration } from '../source-declaration';
import { basicVerifier } from './basic';
import { githubVerifier } from './github';
import { hmacSha256Verifier } from './hmac-sha256';
import { ipAllowList } from './ip-allow-list';
import { standardWebhooksVerifier } from './standard-webhooks';
import { stripeVerifier } from './stripe';
import { reject, type Verifier } from './types';
import { unauthenticatedVerifier } from './unauthenticated';

/**
 * The verifier for one declared source, built once at cold start. When the source declares `allowCidrs`, the
 * source IP is checked first: a request from elsewhere is refused before any HMAC is computed.
 */
export function verifierFor(declaration: SourceDeclaration): Verifier {
  const scheme = schemeVerifier(declaration);
  if (declaration.allowCidrs === undefined) return scheme;
  const allowList = ipAllowList(declaration.allowCidrs);
  return {
    verify(request, secrets, nowMs) {
      if (!allowList.allows(request.sourceIp)) return reject('ip_not_allowed');
      return scheme.verify(request, secrets, nowMs);
    },
  };
}

function schemeVerifier(declaration: SignatureScheme): Verifier {
  switch (declaration.scheme) {
    case 'github':
      return githubVerifier();
    case 'standard-webhooks':
      return standardWebhooksVerifier(declaration);
    case 'stripe':
      return stripeVerifier(declaration);
    case 'hmac-sha256':
      return hmacSha256Verifier(declaration);
    case 'basic':
      return basicVerifier();
    case 'unauthenticated':
      return unauthenticatedVerifier();
  }
}
