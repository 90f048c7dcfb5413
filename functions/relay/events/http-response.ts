import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { HandshakeAnswer } from '../core/inbound/handshake/handshake-answer';

/**
 * Every answer the webhook endpoint gives, decided in one place. 4xx bodies explain what is wrong with the request;
 * 401 and 5xx stay generic. No answer ever carries a secret, a token, a stack trace or the request body.
 */
export type WebhookAnswer =
  | { readonly kind: 'delivered' | 'queued'; readonly relayId: string }
  /** The same delivery id was seen before; `relayId` is the first copy's. */
  | {
      readonly kind: 'duplicate';
      readonly of: 'delivered' | 'queued' | 'in_progress';
      readonly relayId: string;
    }
  /** A sender's handshake, answered with exactly the body the sender documents. */
  | { readonly kind: 'handshake'; readonly answer: HandshakeAnswer }
  | { readonly kind: 'refused'; readonly status: 400 | 401 | 404 | 413 | 415; readonly error: string }
  | { readonly kind: 'unavailable'; readonly relayId?: string };

export function toHttpResponse(answer: WebhookAnswer): APIGatewayProxyStructuredResultV2 {
  switch (answer.kind) {
    case 'delivered':
      return json(200, { relayId: answer.relayId, status: 'delivered' });
    case 'queued':
      return json(202, { relayId: answer.relayId, status: 'queued' });
    case 'duplicate':
      // In flight elsewhere: 409 + Retry-After rather than 2xx, because the first copy may still fail without being
      // kept, and only a sender that retries can then make up for it.
      if (answer.of === 'in_progress') {
        return json(
          409,
          { error: 'A message with this delivery id is being relayed; retry later', relayId: answer.relayId },
          { 'retry-after': '10' },
        );
      }
      return json(answer.of === 'delivered' ? 200 : 202, { relayId: answer.relayId, status: 'duplicate' });
    case 'handshake':
      return {
        statusCode: 200,
        headers: {
          'content-type': answer.answer.contentType,
          'cache-control': 'no-store',
          // Graph's token is echoed as text: no browser may take it for anything else.
          'x-content-type-options': 'nosniff',
        },
        body: answer.answer.body,
      };
    case 'refused':
      return json(answer.status, { error: answer.status === 401 ? 'Unauthorized' : answer.error });
    case 'unavailable':
      return json(503, {
        error: 'The relay could not accept the message right now; retry later',
        ...(answer.relayId && { relayId: answer.relayId }),
      });
  }
}

function json(
  statusCode: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers },
    body: JSON.stringify(body),
  };
}
