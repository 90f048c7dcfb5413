import { createHmac, randomUUID } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DEFAULTS } from '../../functions/relay/contract';
import { createTestTable } from '../support/dynamodb';
import { lambdaContext } from '../support/lambda-context';
import { CLIENT_SECRET, type Fleet, GITHUB_SIGNING_SECRET, startFleet } from '../support/relay-fleet';
import { webhookEvent } from '../support/webhook-event';

/**
 * Malformed requests through the real handler, each in a fresh execution environment, as API Gateway (HTTP API,
 * payload 2.0) hands them over. Each gets its specific 4xx with a short explanation, costs no token request and no
 * ONEiO call, and never crashes the handler. Bodies are correctly signed unless the signature is what is wrong, so
 * each request fails on exactly the check it is about.
 */

const MAX = DEFAULTS.maxBodyBytes;
const NOT_JSON = 'Body is not valid JSON';
const UNSUPPORTED = 'Content-Type must be application/json or application/x-www-form-urlencoded (UTF-8)';

function signatureOf(bytes: Buffer | string): string {
  return `sha256=${createHmac('sha256', GITHUB_SIGNING_SECRET).update(bytes).digest('hex')}`;
}

/** A GitHub webhook with `text` as its body, signed, with `headers` added or replaced. */
function github(text: string, headers: Record<string, string> = {}): APIGatewayProxyEventV2 {
  return webhookEvent('github', text, {
    'x-hub-signature-256': signatureOf(text),
    'x-github-delivery': randomUUID(),
    ...headers,
  });
}

/** A GitHub webhook whose body API Gateway base64-encoded; `base64` may be anything, `signedBytes` are signed. */
function githubBase64(base64: string, signedBytes: Buffer, headers: Record<string, string> = {}) {
  const event = github('', { 'x-hub-signature-256': signatureOf(signedBytes), ...headers });
  return { ...event, body: base64, isBase64Encoded: true };
}

/** A request for `source` that would pass every other check were `source` declared. */
function toSource(source: string): APIGatewayProxyEventV2 {
  const event = github('{"action":"opened"}');
  return { ...event, rawPath: `/webhooks/${source}`, pathParameters: { source } };
}

/** Headers exactly as given, in this order (no defaults added). */
function withHeaders(
  event: APIGatewayProxyEventV2,
  headers: APIGatewayProxyEventV2['headers'],
): APIGatewayProxyEventV2 {
  return { ...event, headers };
}

/** The event without header `name`. */
function without(event: APIGatewayProxyEventV2, name: string): APIGatewayProxyEventV2 {
  return withHeaders(
    event,
    Object.fromEntries(Object.entries(event.headers).filter(([key]) => key !== name)),
  );
}

interface BadRequest {
  readonly request: string;
  readonly event: () => APIGatewayProxyEventV2;
  readonly status: 400 | 401 | 404 | 413 | 415;
  /** The answer's `error`, exactly. */
  readonly error: string;
}

const BAD_REQUESTS: readonly BadRequest[] = [
  // Body syntax: 400.
  {
    request: 'invalid JSON (trailing comma)',
    event: () => github('{"action":"opened",}'),
    status: 400,
    error: NOT_JSON,
  },
  {
    request: 'truncated JSON',
    event: () => github('{"action":"opened","issue":{"id":12'),
    status: 400,
    error: NOT_JSON,
  },
  {
    request: 'JSON followed by garbage',
    event: () => github('{"a":1} trailing'),
    status: 400,
    error: NOT_JSON,
  },
  { request: 'empty body', event: () => github(''), status: 400, error: 'Body is empty' },
  { request: 'whitespace-only body', event: () => github(' \r\n\t '), status: 400, error: 'Body is empty' },
  {
    request: 'a raw NUL byte inside a JSON string',
    event: () => github('{"a":"x\u0000y"}'),
    status: 400,
    error: NOT_JSON,
  },
  {
    request: 'a NUL byte before the JSON',
    event: () => github('\u0000{"a":1}'),
    status: 400,
    error: NOT_JSON,
  },
  {
    request: 'a JSON string where an object is required',
    event: () => github('"opened"'),
    status: 400,
    error: 'Body must be a JSON object or array',
  },
  {
    request: 'a JSON number',
    event: () => github('12345678901234567890'),
    status: 400,
    error: 'Body must be a JSON object or array',
  },
  {
    request: 'JSON null',
    event: () => github('null'),
    status: 400,
    error: 'Body must be a JSON object or array',
  },
  {
    request: 'invalid UTF-8 in a UTF-8 body',
    event: () => {
      const bytes = Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]);
      return githubBase64(bytes.toString('base64'), bytes);
    },
    status: 400,
    error: 'Body is not valid UTF-8',
  },
  {
    request: 'base64 garbage',
    event: () => githubBase64('%%% not base64 %%%', Buffer.from('%%% not base64 %%%')),
    status: 400,
    error: 'Body is not valid base64',
  },
  {
    request: 'line-wrapped base64',
    event: () => {
      const bytes = Buffer.from(JSON.stringify({ padding: 'x'.repeat(100) }));
      const wrapped = bytes.toString('base64').replace(/(.{76})/g, '$1\n');
      return githubBase64(wrapped, bytes);
    },
    status: 400,
    error: 'Body is not valid base64',
  },
  {
    request: 'base64 of bytes that are not JSON',
    event: () => {
      const bytes = Buffer.from('<xml>not json</xml>');
      return githubBase64(bytes.toString('base64'), bytes);
    },
    status: 400,
    error: NOT_JSON,
  },
  {
    request: 'plain JSON marked as base64-encoded',
    event: () => githubBase64('{"a":1}', Buffer.from('{"a":1}')),
    status: 400,
    error: 'Body is not valid base64',
  },
  {
    request: 'a form body without fields',
    event: () => github('&&&', { 'content-type': 'application/x-www-form-urlencoded' }),
    status: 400,
    error: 'Form body has no fields',
  },

  // Size: 413.
  {
    request: 'a body one byte over the limit',
    event: () => github(`{"pad":"${'x'.repeat(MAX - 9)}"}`),
    status: 413,
    error: `Body is larger than ${MAX} bytes`,
  },
  {
    request: 'a base64 body that decodes to over the limit',
    event: () => {
      const bytes = Buffer.from(`{"pad":"${'x'.repeat(MAX)}"}`);
      return githubBase64(bytes.toString('base64'), bytes);
    },
    status: 413,
    error: `Body is larger than ${MAX} bytes`,
  },

  // Content type: 415.
  {
    request: 'charset iso-8859-1',
    event: () => github('{"a":1}', { 'content-type': 'application/json; charset=iso-8859-1' }),
    status: 415,
    error: UNSUPPORTED,
  },
  {
    request: 'charset utf-16',
    event: () => github('{"a":1}', { 'content-type': 'application/json; charset=utf-16' }),
    status: 415,
    error: UNSUPPORTED,
  },
  {
    request: 'two charset parameters, the second not UTF-8',
    event: () => github('{"a":1}', { 'content-type': 'application/json; charset=utf-8; charset=latin1' }),
    status: 415,
    error: UNSUPPORTED,
  },
  {
    request: 'text/plain',
    event: () => github('{"a":1}', { 'content-type': 'text/plain' }),
    status: 415,
    error: UNSUPPORTED,
  },
  {
    request: 'no content type',
    event: () => without(github('{"a":1}'), 'content-type'),
    status: 415,
    error: UNSUPPORTED,
  },
  {
    request: 'content type spelt twice, differing in case (text/plain, then application/json)',
    event: () => {
      const body = '{"a":1}';
      return withHeaders(github(body), {
        'Content-Type': 'text/plain',
        'content-type': 'application/json',
        'x-hub-signature-256': signatureOf(body),
        'x-github-delivery': randomUUID(),
      });
    },
    status: 415,
    error: UNSUPPORTED,
  },

  // Authenticity: 401, opaque.
  {
    request: 'no signature header',
    event: () => without(github('{"a":1}'), 'x-hub-signature-256'),
    status: 401,
    error: 'Unauthorized',
  },
  {
    request: 'an oversized signature header (100 KB)',
    event: () => github('{"a":1}', { 'x-hub-signature-256': `sha256=${'a'.repeat(100 * 1024)}` }),
    status: 401,
    error: 'Unauthorized',
  },
  {
    request: 'a NUL byte in the signature header',
    event: () => github('{"a":1}', { 'x-hub-signature-256': `${signatureOf('{"a":1}')}\u0000` }),
    status: 401,
    error: 'Unauthorized',
  },
  {
    request: 'two signatures joined by API Gateway (a repeated header)',
    event: () =>
      github('{"a":1}', { 'x-hub-signature-256': `${signatureOf('{"a":1}')},${signatureOf('{"b":2}')}` }),
    status: 401,
    error: 'Unauthorized',
  },
  {
    request: 'the signature header spelt twice, differing in case (forged, then valid)',
    event: () => {
      const body = '{"a":1}';
      return withHeaders(github(body), {
        'content-type': 'application/json',
        'X-Hub-Signature-256': signatureOf('{"forged":true}'),
        'x-hub-signature-256': signatureOf(body),
        'x-github-delivery': randomUUID(),
      });
    },
    status: 401,
    error: 'Unauthorized',
  },

  // The {source} path segment and the route: 404.
  {
    request: 'source ..%2Fgithub',
    event: () => toSource('..%2Fgithub'),
    status: 404,
    error: 'Unknown source',
  },
  { request: 'source ../github', event: () => toSource('../github'), status: 404, error: 'Unknown source' },
  {
    request: 'source GITHUB (upper case)',
    event: () => toSource('GITHUB'),
    status: 404,
    error: 'Unknown source',
  },
  {
    request: 'source constructor',
    event: () => toSource('constructor'),
    status: 404,
    error: 'Unknown source',
  },
  { request: 'source __proto__', event: () => toSource('__proto__'), status: 404, error: 'Unknown source' },
  {
    request: 'source gіthub (Cyrillic і)',
    event: () => toSource('g\u0456thub'),
    status: 404,
    error: 'Unknown source',
  },
  {
    request: 'source ｇｉｔｈｕｂ (full width)',
    event: () => toSource('\uff47\uff49\uff54\uff48\uff55\uff42'),
    status: 404,
    error: 'Unknown source',
  },
  {
    request: 'source github + NUL',
    event: () => toSource('github\u0000'),
    status: 404,
    error: 'Unknown source',
  },
  {
    request: 'source "github " (trailing space)',
    event: () => toSource('github '),
    status: 404,
    error: 'Unknown source',
  },
  {
    request: 'GET instead of POST',
    event: () => {
      const event = github('{"a":1}');
      return {
        ...event,
        requestContext: { ...event.requestContext, http: { ...event.requestContext.http, method: 'GET' } },
      };
    },
    status: 404,
    error: 'Not found',
  },
  {
    request: 'no {source} path parameter',
    event: () => {
      const { pathParameters: _, ...event } = github('{"a":1}');
      return event as APIGatewayProxyEventV2;
    },
    status: 404,
    error: 'Not found',
  },
];

describe('malformed requests', () => {
  let fleet: Fleet;

  beforeAll(async () => {
    const { tableName } = await createTestTable();
    fleet = await startFleet({ dynamodbEndpoint: inject('dynamodbEndpoint'), tableName });
  });

  afterAll(() => fleet.close());

  it.each(BAD_REQUESTS.map((bad) => [`${bad.request} → ${bad.status}`, bad] as const))(
    '%s',
    async (_, bad) => {
      const handle = await fleet.coldStart();
      const event = bad.event();
      const before = { tokens: fleet.oneio.tokenRequests.count, posts: fleet.oneio.receiverRequests };

      const response = await handle(event, lambdaContext());

      expect(response?.statusCode).toBe(bad.status);
      expect(JSON.parse(response?.body ?? '{}')).toEqual({ error: bad.error });
      expect({
        tokenRequests: fleet.oneio.tokenRequests.count - before.tokens,
        receiverRequests: fleet.oneio.receiverRequests - before.posts,
      }).toEqual({ tokenRequests: 0, receiverRequests: 0 });
      for (const secret of [CLIENT_SECRET, GITHUB_SIGNING_SECRET]) {
        expect((response?.body ?? '').includes(secret)).toBe(false);
      }
    },
  );
});
