import { createHmac } from 'node:crypto';
import type { HandshakeAnswer } from './handshake-answer';

/**
 * Zoom's challenge-response check (https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint):
 * the event `endpoint.url_validation` carries `payload.plainToken`; the endpoint answers `200` with
 * `{"plainToken": "<plainToken>", "encryptedToken": "<hex HMAC-SHA256 of plainToken, keyed with the secret token>"}`
 * within three seconds. Zoom repeats it every 72 hours, and signs it like any other event.
 *
 * Returns `undefined` for any other event. Call it only once the request's signature holds, with the secret token
 * that verified it.
 */
export function zoomUrlValidation(
  event: Readonly<Record<string, unknown>>,
  secretToken: string,
): HandshakeAnswer | undefined {
  if (event.event !== 'endpoint.url_validation') return undefined;
  const payload = event.payload;
  const plainToken =
    typeof payload === 'object' && payload !== null
      ? (payload as Record<string, unknown>).plainToken
      : undefined;
  if (typeof plainToken !== 'string') return undefined;
  const encryptedToken = createHmac('sha256', secretToken).update(plainToken).digest('hex');
  return {
    kind: 'zoom-url-validation',
    contentType: 'application/json',
    body: JSON.stringify({ plainToken, encryptedToken }),
  };
}
