import type { HandshakeAnswer } from './handshake-answer';

/** The header of Okta's one-time verification `GET`. */
export const OKTA_CHALLENGE_HEADER = 'x-okta-verification-challenge';

/**
 * Okta event hooks' one-time verification
 * (https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request): Okta sends a `GET` with
 * the header `X-Okta-Verification-Challenge` (and the hook's authorization header); the endpoint answers `200` with
 * the JSON `{"verification": "<value from the header>"}`.
 */
export function oktaVerification(challenge: string): HandshakeAnswer {
  return {
    kind: 'okta-verification',
    contentType: 'application/json',
    body: JSON.stringify({ verification: challenge }),
  };
}
