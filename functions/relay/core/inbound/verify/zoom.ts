import { zoomUrlValidation } from '../handshake/zoom-url-validation';
import { jsonObject } from './json-body';
import { checkedTolerance } from './timestamp-tolerance';
import { accept, answerHandshake, type InboundRequest, reject, type Verdict, type Verifier } from './types';
import { checkV0Signature, type V0Scheme } from './v0-signature';

/** Zoom's library (Rivet) signs the timestamp as a number, so its canonical text is what is signed. */
const ZOOM: V0Scheme = {
  signatureHeader: 'x-zm-signature',
  timestampHeader: 'x-zm-request-timestamp',
  signsHeaderText: false,
};

/**
 * Zoom (https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events): `x-zm-signature: v0=<hex>`, the
 * HMAC-SHA256 of `v0:<x-zm-request-timestamp>:<raw body>` keyed with the app's secret token. Zoom documents no
 * window; the relay applies its usual five minutes both ways (Zoom signs each retry afresh).
 *
 * Once the signature and the timestamp hold, an `endpoint.url_validation` event is answered as a handshake,
 * keyed with the secret that verified it. Zoom events carry no id that survives a retry, so the delivery id is the
 * hash of the body (a retry repeats the body).
 */
export function zoomVerifier(options: { readonly toleranceSeconds?: number } = {}): Verifier {
  const tolerance = checkedTolerance(options.toleranceSeconds);
  return {
    verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict {
      const checked = checkV0Signature(ZOOM, request, secrets, nowMs, tolerance);
      if (!checked.ok) return reject(checked.reason);
      const event = jsonObject(request.body);
      const handshake = event && zoomUrlValidation(event, checked.secret);
      return handshake ? answerHandshake(handshake) : accept();
    },
  };
}
