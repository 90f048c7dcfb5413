import type { HandshakeAnswer } from './handshake-answer';

/** The query parameter Microsoft Graph validates a notification URL with. */
export const MSGRAPH_VALIDATION_PARAMETER = 'validationToken';

/** Far beyond Graph's tokens (a sentence with a request id), small enough that nobody uses the relay as an echo. */
const MAX_TOKEN_LENGTH = 1024;
/** Printable text only: no markup and no control characters are ever echoed back. */
const ECHOABLE = /^[^\p{Cc}<>]+$/u;

/**
 * Microsoft Graph's notification URL validation
 * (https://learn.microsoft.com/graph/change-notifications-delivery-webhooks#notificationurl-validation): Graph
 * POSTs to `<notificationUrl>?validationToken=<token>` and the endpoint answers within 10 seconds with `200`,
 * `Content-Type: text/plain` and the URL-decoded token as the whole body. The same happens for the
 * `lifecycleNotificationUrl`.
 *
 * Returns `undefined` when the query has no `validationToken`, and `'unusable'` when the token is empty, repeated,
 * too long or contains markup or control characters (Graph never sends those: the documentation advises escaping
 * them, as an echo endpoint could otherwise serve a script).
 */
export function msgraphValidation(query: string | undefined): HandshakeAnswer | 'unusable' | undefined {
  const tokens = new URLSearchParams(query ?? '').getAll(MSGRAPH_VALIDATION_PARAMETER);
  if (tokens.length === 0) return undefined;
  const [token] = tokens;
  if (tokens.length > 1 || token === undefined || token.length > MAX_TOKEN_LENGTH || !ECHOABLE.test(token)) {
    return 'unusable';
  }
  return { kind: 'msgraph-validation', contentType: 'text/plain', body: token };
}
