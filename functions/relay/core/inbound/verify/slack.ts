import { slackUrlVerification } from '../handshake/slack-url-verification';
import { deliveryIdFrom } from './delivery-id';
import { jsonObject } from './json-body';
import { checkedTolerance } from './timestamp-tolerance';
import { accept, answerHandshake, type InboundRequest, reject, type Verdict, type Verifier } from './types';
import { checkV0Signature, type V0Scheme } from './v0-signature';

/** Slack signs the timestamp as the header spells it, as Slack's own Bolt library does. */
const SLACK: V0Scheme = {
  signatureHeader: 'x-slack-signature',
  timestampHeader: 'x-slack-request-timestamp',
  signsHeaderText: true,
};

/**
 * Slack (https://api.slack.com/authentication/verifying-requests-from-slack): `X-Slack-Signature: v0=<hex>`, the
 * HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<raw body>` keyed with the app's signing secret; Slack documents a
 * five-minute window.
 *
 * Once the signature and the timestamp hold, a `url_verification` event is answered as a handshake; otherwise the
 * delivery id is the Events API `event_id` (slash commands and interactivity, sent as forms, have none).
 */
export function slackVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const checked = checkV0Signature(SLACK, request, secrets, nowMs, tolerance);
      if (!checked.ok) return reject(checked.reason);
      const event = jsonObject(request.body);
      const handshake = event && slackUrlVerification(event);
      if (handshake) return answerHandshake(handshake);
      return accept(deliveryIdFrom(event?.event_id));
    },
  };
}
