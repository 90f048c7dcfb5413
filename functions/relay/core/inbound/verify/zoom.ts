import { createHmac } from 'node:crypto';
import { zoomUrlValidation } from '../handshake/zoom-url-validation';
import { matchingIndex } from './constant-time';
import { jsonObject } from './json-body';
import { headerValue } from './request-header';
import { decodeHexSha256 } from './signature-encoding';
import { checkedTolerance, parseTimestamp, timestampProblem } from './timestamp-tolerance';
import { accept, answerHandshake, type InboundRequest, reject, type Verdict, type Verifier } from './types';

const PREFIX = 'v0=';

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
      const keys = secrets.filter((s) => s.length > 0);
      if (keys.length === 0) return reject('no_secret');
      const timestampHeader = headerValue(request.headers, 'x-zm-request-timestamp');
      const signatureHeader = headerValue(request.headers, 'x-zm-signature');
      if (timestampHeader === undefined || signatureHeader === undefined) return reject('missing_header');
      const timestamp = parseTimestamp(timestampHeader);
      if (timestamp === undefined) return reject('malformed_timestamp');
      const signature = signatureHeader.startsWith(PREFIX)
        ? decodeHexSha256(signatureHeader.slice(PREFIX.length))
        : undefined;
      if (signature === undefined) return reject('malformed_signature');

      // Zoom's library (Rivet) signs the timestamp as a number, so its canonical text is what is signed.
      const signedPrefix = `v0:${timestamp.text}:`;
      const expected = keys.map((key) =>
        createHmac('sha256', key).update(signedPrefix).update(request.body).digest(),
      );
      const matched = keys[matchingIndex(expected, [signature])];
      if (matched === undefined) return reject('bad_signature');
      const problem = timestampProblem(timestamp.seconds, nowMs, tolerance);
      if (problem !== undefined) return reject(problem);

      const event = jsonObject(request.body);
      const handshake = event && zoomUrlValidation(event, matched);
      return handshake ? answerHandshake(handshake) : accept();
    },
  };
}
