import { createHmac } from 'node:crypto';
import { slackUrlVerification } from '../handshake/slack-url-verification';
import { anyEqual } from './constant-time';
import { deliveryIdFrom } from './delivery-id';
import { jsonObject } from './json-body';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { checkedTolerance, parseTimestamp, timestampProblem } from './timestamp-tolerance';
import { accept, answerHandshake, type InboundRequest, reject, type Verdict, type Verifier } from './types';

const PREFIX = 'v0=';

/**
 * Slack (https://api.slack.com/authentication/verifying-requests-from-slack): `X-Slack-Signature: v0=<hex>`, the
 * HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` keyed with the app's signing secret; Slack documents a
 * five-minute window. The timestamp is signed as the header spells it, as Slack's own Bolt library does.
 *
 * Once the signature and the timestamp hold, a `url_verification` event is answered as a handshake; otherwise the
 * delivery id is the Events API `event_id` (slash commands and interactivity, sent as forms, have none).
 */
export function slackVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const timestampHeader = headerValue(request.headers, 'x-slack-request-timestamp');
      const signatureHeader = headerValue(request.headers, 'x-slack-signature');
      if (timestampHeader === undefined || signatureHeader === undefined) return reject('missing_header');
      const timestamp = parseTimestamp(timestampHeader);
      if (timestamp === undefined) return reject('malformed_timestamp');
      const signature = signatureHeader.startsWith(PREFIX)
        ? decodeHexSha256(signatureHeader.slice(PREFIX.length))
        : undefined;
      if (signature === undefined) return reject('malformed_signature');

      const signedPrefix = `v0:${timestampHeader}:`;
      const expected = keys.map((key) =>
        createHmac('sha256', key).update(signedPrefix).update(request.body).digest(),
      );
      if (!anyEqual(expected, [signature])) return reject('bad_signature');
      const problem = timestampProblem(timestamp.seconds, nowMs, tolerance);
      if (problem !== undefined) return reject(problem);

      const event = jsonObject(request.body);
      const handshake = event && slackUrlVerification(event);
      if (handshake) return answerHandshake(handshake);
      return accept(deliveryIdFrom(event?.event_id));
    },
  };
}
