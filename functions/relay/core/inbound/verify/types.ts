/**
 * The contract every inbound authenticity scheme implements. Verifiers are pure: they see the raw body bytes and
 * the headers, never parse the body before the signature holds, and never log.
 */

import type { HandshakeAnswer } from '../handshake/handshake-answer';

/** What a verifier needs from an HTTP request. `body` is the raw bytes as received, before any parsing. */
export interface InboundRequest {
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  /** The API Gateway source IP (`requestContext.http.sourceIp`). */
  readonly sourceIp?: string;
  /** `GET` only for a sender's verification request (Okta); absent means `POST`. */
  readonly method?: 'GET' | 'POST';
  /** The raw query string, without `?`, as API Gateway gives it (`rawQueryString`); absent means none. */
  readonly query?: string;
}

/**
 * Why a request was refused, as a fixed code for metrics and logs. It never carries request or secret material,
 * so it may be logged as is. The codes are shared by all schemes ("signature" covers Basic credentials too).
 */
export type RejectReason =
  /** A header (or query parameter) the scheme requires is absent or empty. */
  | 'missing_header'
  /** The signature (or credentials) header is present but not in the scheme's format. */
  | 'malformed_signature'
  /** The signed timestamp is not in the sender's format (integer seconds, or ISO 8601 for Zendesk). */
  | 'malformed_timestamp'
  /** Well-formed, but no configured secret produces it. */
  | 'bad_signature'
  /** Authentic, but signed longer ago than the tolerance (a replay, or a sender stuck in a retry loop). */
  | 'stale_timestamp'
  /** Authentic, but signed further in the future than the tolerance (a sender's clock is off). */
  | 'future_timestamp'
  /** The source IP is not in the source's allow-list. */
  | 'ip_not_allowed'
  /** No usable secret is configured for this source: an operator problem, not the sender's. */
  | 'no_secret';

export type Verdict =
  | { readonly ok: true; readonly deliveryId?: string; readonly handshake?: undefined }
  /** An authentic handshake (a sender checking the endpoint): answered at once, never relayed. */
  | { readonly ok: true; readonly handshake: HandshakeAnswer }
  | { readonly ok: false; readonly reason: RejectReason };

/** Checks one request against the secrets currently configured for its source (several during a rotation). */
export interface Verifier {
  verify(request: InboundRequest, secrets: readonly string[], nowMs: number): Verdict;
}

/** An accepting verdict; `deliveryId` is left out rather than set to `undefined` (exact optional properties). */
export function accept(deliveryId?: string): Verdict {
  return deliveryId === undefined ? { ok: true } : { ok: true, deliveryId };
}

/** An authentic handshake, to be answered with `answer` and not relayed. */
export function answerHandshake(answer: HandshakeAnswer): Verdict {
  return { ok: true, handshake: answer };
}

/** A refusing verdict. */
export function reject(reason: RejectReason): Verdict {
  return { ok: false, reason };
}
