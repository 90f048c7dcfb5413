import type { HandshakeAnswer } from './handshake-answer';

/**
 * Slack Events API `url_verification` (https://api.slack.com/events/url_verification): the event is
 * `{"token": …, "challenge": "<value>", "type": "url_verification"}` and the request URL must answer `200` with the
 * challenge; of the three answers Slack accepts, this gives the JSON one, `{"challenge":"<value>"}`.
 *
 * Returns `undefined` for any other event. Call it only once the request's signature holds.
 */
export function slackUrlVerification(event: Readonly<Record<string, unknown>>): HandshakeAnswer | undefined {
  if (event.type !== 'url_verification' || typeof event.challenge !== 'string') return undefined;
  return {
    kind: 'slack-url-verification',
    contentType: 'application/json',
    body: JSON.stringify({ challenge: event.challenge }),
  };
}
