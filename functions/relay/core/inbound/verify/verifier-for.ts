import { OKTA_CHALLENGE_HEADER, oktaVerification } from '../handshake/okta-verification';
import type { SignatureScheme, SourceDeclaration } from '../source-declaration';
import { basicVerifier } from './basic';
import { githubVerifier } from './github';
import { hmacSha256Verifier } from './hmac-sha256';
import { ipAllowList } from './ip-allow-list';
import { msgraphVerifier } from './msgraph';
import { msteamsVerifier } from './msteams';
import { pagerdutyVerifier } from './pagerduty';
import { headerValue } from './request-header';
import { slackVerifier } from './slack';
import { standardWebhooksVerifier } from './standard-webhooks';
import { stripeVerifier } from './stripe';
import { tokenVerifier } from './token';
import { answerHandshake, reject, type Verifier } from './types';
import { unauthenticatedVerifier } from './unauthenticated';
import { zendeskVerifier } from './zendesk';
import { zoomVerifier } from './zoom';

/**
 * The verifier for one declared source, built once at cold start. When the source declares `allowCidrs`, the
 * source IP is checked first: a request from elsewhere is refused before any HMAC is computed. With
 * `oktaVerification`, Okta's verification `GET` is answered once the scheme's own check passes.
 */
export function verifierFor(declaration: SourceDeclaration): Verifier {
  const scheme = declaration.oktaVerification
    ? withOktaVerification(schemeVerifier(declaration))
    : schemeVerifier(declaration);
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
    case 'slack':
      return slackVerifier(declaration);
    case 'zoom':
      return zoomVerifier(declaration);
    case 'zendesk':
      return zendeskVerifier(declaration);
    case 'pagerduty':
      return pagerdutyVerifier();
    case 'token':
      return tokenVerifier(declaration);
    case 'msteams':
      return msteamsVerifier();
    case 'msgraph':
      return msgraphVerifier();
  }
}

/**
 * Okta's one-time `GET` carries the hook's authorization header like every event, so the scheme checks it first;
 * only then is the challenge echoed. A `POST` goes to the scheme unchanged.
 */
function withOktaVerification(scheme: Verifier): Verifier {
  return {
    verify(request, secrets, nowMs) {
      if (request.method !== 'GET') return scheme.verify(request, secrets, nowMs);
      const challenge = headerValue(request.headers, OKTA_CHALLENGE_HEADER);
      if (challenge === undefined) return reject('missing_header');
      const verdict = scheme.verify(request, secrets, nowMs);
      return verdict.ok ? answerHandshake(oktaVerification(challenge)) : verdict;
    },
  };
}
