import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { WebhookRequest } from '../core/inbound/accept-webhook';

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** An API Gateway HTTP API event (payload format 2.0). */
export function isHttpApiEvent(event: unknown): event is APIGatewayProxyEventV2 {
  const e = event as Partial<APIGatewayProxyEventV2> | null;
  return (
    typeof e === 'object' && e !== null && e.version === '2.0' && typeof e.requestContext?.http === 'object'
  );
}

export type ParsedEvent =
  | { readonly ok: true; readonly request: WebhookRequest }
  | { readonly ok: false; readonly status: 400 | 404; readonly error: string };

/**
 * Reads the parts of the event the relay uses: the method, the `{source}` path parameter, lower-cased headers, the
 * raw query string and the raw body bytes (API Gateway base64-encodes bodies it does not consider text). Which
 * sources take a `GET` is the core's decision; any other method is not a route.
 */
export function toWebhookRequest(event: APIGatewayProxyEventV2): ParsedEvent {
  const source = event.pathParameters?.source;
  const method = event.requestContext.http.method;
  if ((method !== 'POST' && method !== 'GET') || source === undefined) {
    return { ok: false, status: 404, error: 'Not found' };
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value === undefined) continue;
    // One header spelt twice in different case is joined like a repeated header, never last-one-wins: a forged
    // signature must not be hidden behind a valid one, nor a text/plain behind an application/json.
    const key = name.toLowerCase();
    headers[key] = headers[key] === undefined ? value : `${headers[key]}, ${value}`;
  }
  const raw = event.body ?? '';
  if (event.isBase64Encoded && !BASE64.test(raw)) {
    return { ok: false, status: 400, error: 'Body is not valid base64' };
  }
  return {
    ok: true,
    request: {
      source,
      method,
      headers,
      query: event.rawQueryString ?? '',
      body: Buffer.from(raw, event.isBase64Encoded ? 'base64' : 'utf8'),
      sourceIp: event.requestContext.http.sourceIp,
    },
  };
}
