import { randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The matched route: API Gateway's route key and the path parameters it extracted. */
export interface MatchedRoute {
  readonly routeKey: string;
  readonly pathParameters?: Readonly<Record<string, string>>;
}

/** The API and account the events name, like the ids in a real event. */
export interface GatewayIdentity {
  readonly apiId: string;
  readonly accountId: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * Whether an HTTP API hands the body to Lambda as text. Everything else arrives base64-encoded with
 * `isBase64Encoded: true`, form posts included (test/fixtures/api-gateway-v2-webhook-form-base64.json is one as
 * AWS delivers it), and so does a body without a content type.
 */
export function isTextBody(contentType: string | undefined): boolean {
  const type = contentType?.split(';')[0]?.trim().toLowerCase();
  if (type === undefined || type === '') return false;
  return (
    type.startsWith('text/') ||
    type === 'application/json' ||
    type.endsWith('+json') ||
    type === 'application/xml' ||
    type.endsWith('+xml') ||
    type === 'application/javascript'
  );
}

/**
 * Builds the API Gateway HTTP API (payload format 2.0) event for a request, as API Gateway does: lower-case header
 * names, repeated headers and query parameters joined with commas, cookies in their own field, the forwarding
 * headers API Gateway adds, and the body as text or base64.
 */
export function toHttpApiEvent(
  request: IncomingMessage,
  body: Buffer,
  route: MatchedRoute,
  identity: GatewayIdentity,
  now = Date.now(),
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://sandbox');
  const sourceIp = (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');
  const headers: Record<string, string> = {};
  let cookies: string[] | undefined;
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values === undefined) continue;
    if (name === 'cookie') {
      cookies = values.flatMap((value) => value.split(/;\s*/)).filter((cookie) => cookie.length > 0);
      continue;
    }
    headers[name] = values.join(',');
  }
  headers['x-forwarded-for'] = headers['x-forwarded-for']
    ? `${headers['x-forwarded-for']}, ${sourceIp}`
    : sourceIp;
  headers['x-forwarded-proto'] = 'http';
  headers['x-forwarded-port'] = String(request.socket.localPort ?? '');
  headers['x-amzn-trace-id'] =
    `Root=1-${Math.floor(now / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;

  const query: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    query[name] = name in query ? `${query[name]},${value}` : value;
  }
  const text = isTextBody(headers['content-type']);
  const requestId = randomBytes(10).toString('base64');
  const domainName = headers.host ?? `${identity.apiId}.execute-api.localhost`;

  return {
    version: '2.0',
    routeKey: route.routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    ...(cookies !== undefined && { cookies }),
    headers,
    ...(Object.keys(query).length > 0 && { queryStringParameters: query }),
    requestContext: {
      accountId: identity.accountId,
      apiId: identity.apiId,
      domainName,
      domainPrefix: domainName.split('.')[0] ?? identity.apiId,
      http: {
        method: request.method ?? 'GET',
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp,
        userAgent: headers['user-agent'] ?? '',
      },
      requestId,
      routeKey: route.routeKey,
      stage: '$default',
      time: clfTime(now),
      timeEpoch: now,
    },
    ...(route.pathParameters !== undefined && { pathParameters: { ...route.pathParameters } }),
    // API Gateway leaves `body` out when the request has none.
    ...(body.length > 0 && { body: text ? body.toString('utf8') : body.toString('base64') }),
    isBase64Encoded: body.length > 0 && !text,
  };
}

/**
 * Writes a Lambda result the way an HTTP API does for payload format 2.0: a structured result as given (base64
 * bodies decoded, cookies as `set-cookie`); anything else as a 200 JSON body.
 */
export function sendHttpApiResult(response: ServerResponse, result: unknown): string {
  const structured =
    typeof result === 'object' && result !== null && 'statusCode' in result
      ? (result as APIGatewayProxyStructuredResultV2)
      : { statusCode: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify(result) };
  const body = Buffer.from(structured.body ?? '', structured.isBase64Encoded ? 'base64' : 'utf8');
  const headers: Record<string, string | number | string[]> = {};
  for (const [name, value] of Object.entries(structured.headers ?? {})) headers[name] = String(value);
  if (structured.cookies !== undefined && structured.cookies.length > 0)
    headers['set-cookie'] = structured.cookies;
  headers['content-length'] = body.length;
  response.writeHead(structured.statusCode ?? 200, headers);
  response.end(body);
  return structured.isBase64Encoded ? `(${body.length} bytes)` : body.toString('utf8');
}

/** API Gateway's own answers (no route, function failed, payload too large) carry `{"message": "…"}`. */
export function sendGatewayError(response: ServerResponse, status: number, message: string): string {
  return sendJson(response, status, { message });
}

/** Answers `payload` as JSON and returns the body written. */
export function sendJson(response: ServerResponse, status: number, payload: unknown): string {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  response.end(body);
  return body;
}

/** `12/Mar/2024:19:04:17 +0000`, the format of `requestContext.time`. */
function clfTime(epochMs: number): string {
  const d = new Date(epochMs);
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${two(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
    `${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())} +0000`
  );
}
