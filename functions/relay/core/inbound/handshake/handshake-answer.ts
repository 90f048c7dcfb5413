/**
 * A sender checking that the endpoint is theirs before (or while) it sends events. The relay answers it at once
 * with `200` and the body the sender documents; a handshake is never de-duplicated, queued or sent to ONEiO.
 */
export interface HandshakeAnswer {
  /** Which handshake, for logs and metrics. */
  readonly kind: HandshakeKind;
  readonly contentType: 'application/json' | 'text/plain';
  readonly body: string;
}

export type HandshakeKind =
  | 'slack-url-verification'
  | 'zoom-url-validation'
  | 'msgraph-validation'
  | 'okta-verification';
