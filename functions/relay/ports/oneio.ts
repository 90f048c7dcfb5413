import type { OutboundMessage } from '../core/delivery/deliver';
import type { ClientCredentials } from './credentials-provider';

/** A token endpoint's successful answer, validated. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly expiresInSeconds: number;
  readonly scope?: string;
}

/** OAuth 2.0 client-credentials grant against ONEiO's token endpoint. */
export interface TokenEndpoint {
  /** Requests a token. Rejects with a `TokenEndpointError` (never carrying a secret) on any failure. */
  requestToken(credentials: ClientCredentials, options: { signal?: AbortSignal }): Promise<IssuedToken>;
}

/** The receiver's answer to one POST, reduced to what the delivery policy classifies. */
export interface ReceiverResponse {
  readonly status: number;
  /** Raw `Retry-After` header, when present. */
  readonly retryAfter?: string;
}

/** ONEiO's REST receiver. */
export interface Receiver {
  /**
   * POSTs one message with a Bearer token, as `core/delivery/outbound-request.ts` shapes it: its body byte for
   * byte (or in the envelope), the relay's `X-Relay-*` headers and the forwarded ones, its query on the URL.
   * Resolves with the HTTP status for any HTTP answer; rejects with a `ReceiverNetworkError` when no answer arrived
   * (connection refused/reset, timeout), saying whether the request may have reached ONEiO.
   */
  send(
    message: OutboundMessage,
    accessToken: string,
    options: { signal?: AbortSignal },
  ): Promise<ReceiverResponse>;
}
