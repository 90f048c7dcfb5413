import { MockAgent } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../functions/relay/core/delivery/deliver';
import { ReceiverNetworkError, TokenEndpointError } from '../../functions/relay/core/errors';
import { OneioReceiver } from '../../functions/relay/io/oneio/receiver';
import { OneioTokenEndpoint } from '../../functions/relay/io/oneio/token-endpoint';

// QA endpoints from oneio.md; MockAgent answers, no socket is opened.
const TOKEN_ORIGIN = 'https://receiver-authz-test.service-flow.com';
const TOKEN_URL = `${TOKEN_ORIGIN}/oauth2/token`;
const RECEIVER_ORIGIN = 'https://rest-receiver-test.service-flow.com';
const RECEIVER_URL = `${RECEIVER_ORIGIN}/api/v2`;

const CLIENT_ID = 'relay-qa';
// Every character that breaks a hand-built form body: separators, plus, space, percent and non-ASCII.
const CLIENT_SECRET = 'a&b=c+d %é';
const CREDENTIALS = { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET };
const ACCESS_TOKEN = 'eyJhbGciOiJSUzI1NiJ9.secret-access-token.sig';

/** A message as the relay hands it to the receiver. */
function messageOf(body: string): OutboundMessage {
  return {
    relayId: 'relay-7c1e',
    source: 'github',
    deliveryId: 'gh-delivery-42',
    body,
    receivedAt: Date.parse('2025-03-12T19:04:17.250Z'),
  };
}

let agent: MockAgent;

beforeEach(() => {
  agent = new MockAgent();
  agent.disableNetConnect();
});

afterEach(async () => {
  await agent.close();
});

/** What the fake server saw of the last request. */
interface Seen {
  path?: string;
  body?: string;
  headers?: Record<string, string>;
}

function tokenAnswer(status: number, body: string | object, headers: Record<string, string> = {}): Seen {
  const seen: Seen = {};
  agent
    .get(TOKEN_ORIGIN)
    .intercept({
      path: '/oauth2/token',
      method: 'POST',
      body: (body) => {
        seen.body = body;
        return true;
      },
      headers: (headers) => {
        seen.headers = headers;
        return true;
      },
    })
    .reply(status, typeof body === 'string' ? body : JSON.stringify(body), {
      headers: { 'content-type': 'application/json', ...headers },
    });
  return seen;
}

async function tokenError(run: Promise<unknown>): Promise<TokenEndpointError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof TokenEndpointError) return error;
    throw error;
  }
  throw new Error('expected a TokenEndpointError');
}

const VALID = {
  access_token: ACCESS_TOKEN,
  token_type: 'Bearer',
  expires_in: 3599,
  scope: 'ROLE_INTEGRATION',
};

describe('OneioTokenEndpoint', () => {
  it('sends the client-credentials grant form-encoded, the secret arriving intact', async () => {
    // Prepare
    const seen = tokenAnswer(200, VALID);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    await endpoint.requestToken(CREDENTIALS, {});

    // Assess
    const fields = new URLSearchParams(seen.body);
    expect([...fields.keys()].sort()).toEqual(['client_id', 'client_secret', 'grant_type']);
    expect(fields.get('grant_type')).toBe('client_credentials');
    expect(fields.get('client_id')).toBe(CLIENT_ID);
    expect(fields.get('client_secret')).toBe(CLIENT_SECRET);
    expect(seen.headers?.['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('returns the token, its lifetime and scope from a valid answer', async () => {
    // Prepare
    tokenAnswer(200, VALID);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const token = await endpoint.requestToken(CREDENTIALS, {});

    // Assess
    expect(token).toEqual({ accessToken: ACCESS_TOKEN, expiresInSeconds: 3599, scope: 'ROLE_INTEGRATION' });
  });

  it('accepts token_type in any case, as RFC 6749 §5.1 allows', async () => {
    // Prepare
    tokenAnswer(200, { ...VALID, token_type: 'bearer' });
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const token = await endpoint.requestToken(CREDENTIALS, {});

    // Assess
    expect(token.accessToken).toBe(ACCESS_TOKEN);
  });

  it('accepts expires_in sent as a string of digits', async () => {
    // Prepare
    tokenAnswer(200, { ...VALID, expires_in: '3599' });
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const token = await endpoint.requestToken(CREDENTIALS, {});

    // Assess
    expect(token.expiresInSeconds).toBe(3599);
  });

  it('leaves scope out when the answer has none', async () => {
    // Prepare
    const { scope: _scope, ...withoutScope } = VALID;
    tokenAnswer(200, withoutScope);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const token = await endpoint.requestToken(CREDENTIALS, {});

    // Assess
    expect(token).toEqual({ accessToken: ACCESS_TOKEN, expiresInSeconds: 3599 });
    expect('scope' in token).toBe(false);
  });

  it.each([
    [
      'access_token is missing',
      JSON.stringify({ token_type: 'Bearer', expires_in: 3599, scope: ACCESS_TOKEN }),
    ],
    ['access_token is empty', JSON.stringify({ ...VALID, access_token: '' })],
    ['expires_in is missing', JSON.stringify({ access_token: ACCESS_TOKEN, token_type: 'Bearer' })],
    ['expires_in is zero', JSON.stringify({ ...VALID, expires_in: 0 })],
    ['expires_in is not a number', JSON.stringify({ ...VALID, expires_in: 'an hour' })],
    ['token_type is MAC', JSON.stringify({ ...VALID, token_type: 'MAC' })],
    ['token_type is missing', JSON.stringify({ access_token: ACCESS_TOKEN, expires_in: 3599 })],
    ['the body is not JSON', `<html>access_token=${ACCESS_TOKEN}</html>`],
    ['the body is JSON null', 'null'],
    ['the body is empty', ''],
  ])('refuses an answer where %s as malformed, without quoting body or token', async (_label, body) => {
    // Prepare
    tokenAnswer(200, body);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('malformed');
    expect(error.status).toBe(200);
    expect(error.message).not.toContain(ACCESS_TOKEN);
    expect(error.message).not.toContain('secret-access-token');
    if (body.length > 0) expect(error.message).not.toContain(body);
    expect(error.message).not.toContain(CLIENT_SECRET);
  });

  it('refuses an answer larger than a token answer can be, as malformed', async () => {
    // Prepare
    tokenAnswer(200, { ...VALID, padding: 'x'.repeat(70 * 1024) });
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('malformed');
  });

  it.each([
    [401, { error: 'invalid_client' }],
    [400, { error: 'invalid_client', error_description: 'Bad client credentials' }],
    [401, ''],
  ])('reports a %i %j as invalid_client (the secret may have been rotated)', async (status, body) => {
    // Prepare
    tokenAnswer(status, body);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('invalid_client');
    expect(error.status).toBe(status);
    expect(error.code).toBe('TOKEN_ENDPOINT_FAILED');
    expect(error.message).not.toContain(CLIENT_SECRET);
    expect(error.message).not.toContain('Bad client credentials');
  });

  it('reports another OAuth error as rejected, naming its code', async () => {
    // Prepare
    tokenAnswer(400, { error: 'unsupported_grant_type' });
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('rejected');
    expect(error.message).toBe('Token endpoint answered 400 (unsupported_grant_type)');
  });

  it('does not echo an error code that does not look like one', async () => {
    // Prepare
    tokenAnswer(400, { error: `leaked ${ACCESS_TOKEN}` });
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.message).toBe('Token endpoint answered 400');
  });

  it.each([500, 502, 503, 429, 408])('reports a %i as a server failure', async (status) => {
    // Prepare
    tokenAnswer(status, '<html>Service Unavailable</html>');
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('server');
    expect(error.status).toBe(status);
    expect(error.message).not.toContain('Service Unavailable');
  });

  it('reports a connection failure as a network failure, naming its code', async () => {
    // Prepare
    agent
      .get(TOKEN_ORIGIN)
      .intercept({ path: '/oauth2/token', method: 'POST' })
      .replyWithError(
        Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443'), { code: 'ECONNREFUSED' }),
      );
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, {}));

    // Assess
    expect(error.reason).toBe('network');
    expect(error.message).toBe('Token endpoint unreachable (ECONNREFUSED)');
    expect(error.cause).toBeInstanceOf(Error);
  });

  it('reports an aborted request as a network failure', async () => {
    // Prepare
    tokenAnswer(200, VALID);
    const endpoint = new OneioTokenEndpoint(TOKEN_URL, agent);

    // Act
    const error = await tokenError(endpoint.requestToken(CREDENTIALS, { signal: AbortSignal.abort() }));

    // Assess
    expect(error.reason).toBe('network');
    expect(error.message).not.toContain(CLIENT_SECRET);
  });
});

describe('OneioReceiver', () => {
  function receiverAnswer(status: number, headers: Record<string, string> = {}): Seen {
    const seen: Seen = {};
    agent
      .get(RECEIVER_ORIGIN)
      .intercept({
        path: (path) => {
          seen.path = path;
          return path === '/api/v2' || path.startsWith('/api/v2?');
        },
        method: 'POST',
        body: (body) => {
          seen.body = body;
          return true;
        },
        headers: (headers) => {
          seen.headers = headers;
          return true;
        },
      })
      .reply(status, '{"status":"accepted"}', { headers });
    return seen;
  }

  it('POSTs the body untouched with the Bearer token and a JSON content type', async () => {
    // Prepare
    const seen = receiverAnswer(202);
    const body = '{"b": 1,\n "a": 12345678901234567890123, "t": "ä ✓"}';
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    await receiver.send(messageOf(body), ACCESS_TOKEN, {});

    // Assess
    expect(seen.body).toBe(body);
    expect(seen.headers?.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(seen.headers?.['content-type']).toBe('application/json');
  });

  it('sends the message id and the delivery id with every POST, so copies of one message can be told apart', async () => {
    // Prepare
    const seen = receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    await receiver.send(messageOf('{}'), ACCESS_TOKEN, {});

    // Assess
    expect(seen.headers?.['x-relay-message-id']).toBe('relay-7c1e');
    expect(seen.headers?.['x-relay-delivery-id']).toBe('gh-delivery-42');
  });

  it('sends the source and when the relay received the message, for ONEiO to route and map by', async () => {
    // Prepare
    const seen = receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    await receiver.send(messageOf('{}'), ACCESS_TOKEN, {});

    // Assess
    expect(seen.headers?.['x-relay-source']).toBe('github');
    expect(seen.headers?.['x-relay-received-at']).toBe('2025-03-12T19:04:17.250Z');
    expect(seen.path).toBe('/api/v2');
  });

  it('sends the forwarded sender headers and appends the query string to the receiver URL', async () => {
    // Prepare
    const seen = receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);
    const message: OutboundMessage = {
      ...messageOf('{"a":1}'),
      forwardedHeaders: { 'x-github-event': 'issues', 'x-github-hook-id': '42' },
      query: 'issue.key=ABC-1&project.key=OPS',
    };

    // Act
    await receiver.send(message, ACCESS_TOKEN, {});

    // Assess
    expect(seen.path).toBe('/api/v2?issue.key=ABC-1&project.key=OPS');
    expect(seen.headers).toMatchObject({ 'x-github-event': 'issues', 'x-github-hook-id': '42' });
    expect(seen.body).toBe('{"a":1}');
  });

  it('never lets a forwarded header replace the token, the content type or the relay headers', async () => {
    // Prepare: what no inbound check lets through, as if read back from a tampered outbox item
    const seen = receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);
    const message: OutboundMessage = {
      ...messageOf('{}'),
      forwardedHeaders: {
        Authorization: 'Bearer forged',
        'Content-Type': 'text/plain',
        'X-Relay-Source': 'forged',
        'x-relay-message-id': 'forged',
      },
    };

    // Act
    await receiver.send(message, ACCESS_TOKEN, {});

    // Assess
    expect(seen.headers?.authorization).toBe(`Bearer ${ACCESS_TOKEN}`);
    expect(seen.headers?.['content-type']).toBe('application/json');
    expect(seen.headers?.['x-relay-source']).toBe('github');
    expect(seen.headers?.['x-relay-message-id']).toBe('relay-7c1e');
    expect(JSON.stringify(seen.headers)).not.toContain('forged');
  });

  it('POSTs an envelope around the body bytes when the message asks for one', async () => {
    // Prepare
    const seen = receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);
    const body = '{"z": 1, "id": 12345678901234567890123}';
    const message: OutboundMessage = {
      ...messageOf(body),
      forwardedHeaders: { 'x-github-event': 'issues' },
      query: 'project=OPS',
      envelope: true,
    };

    // Act
    await receiver.send(message, ACCESS_TOKEN, {});

    // Assess
    expect(seen.body).toBe(
      '{"source":"github","messageId":"relay-7c1e","receivedAt":"2025-03-12T19:04:17.250Z",' +
        `"headers":{"x-github-event":"issues"},"query":{"project":"OPS"},"payload":${body}}`,
    );
  });

  it('returns the status of an accepted message', async () => {
    // Prepare
    receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    const response = await receiver.send(messageOf('{}'), ACCESS_TOKEN, {});

    // Assess
    expect(response).toEqual({ status: 202 });
  });

  it.each([400, 401, 500])(
    'returns a %i as an answer, leaving its meaning to the delivery policy',
    async (status) => {
      // Prepare
      receiverAnswer(status);
      const receiver = new OneioReceiver(RECEIVER_URL, agent);

      // Act
      const response = await receiver.send(messageOf('{}'), ACCESS_TOKEN, {});

      // Assess
      expect(response.status).toBe(status);
    },
  );

  it('returns Retry-After as the server sent it', async () => {
    // Prepare
    receiverAnswer(429, { 'retry-after': '30' });
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    const response = await receiver.send(messageOf('{}'), ACCESS_TOKEN, {});

    // Assess
    expect(response).toEqual({ status: 429, retryAfter: '30' });
  });

  it('throws ReceiverNetworkError on a network failure, without the token in its message', async () => {
    // Prepare
    agent
      .get(RECEIVER_ORIGIN)
      .intercept({ path: '/api/v2', method: 'POST' })
      .replyWithError(Object.assign(new Error(`socket hang up (${ACCESS_TOKEN})`), { code: 'ECONNRESET' }));
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    const sending = receiver.send(messageOf('{"a":1}'), ACCESS_TOKEN, {});

    // Assess
    const error = await sending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReceiverNetworkError);
    expect((error as ReceiverNetworkError).message).toBe('ONEiO receiver unreachable (ECONNRESET)');
    expect((error as ReceiverNetworkError).message).not.toContain(ACCESS_TOKEN);
  });

  it.each([
    ['ECONNRESET', true],
    ['UND_ERR_SOCKET', true],
    ['UND_ERR_HEADERS_TIMEOUT', true],
    ['ECONNREFUSED', false],
    ['ENOTFOUND', false],
    ['UND_ERR_CONNECT_TIMEOUT', false],
  ])('marks a %s in doubt: %s (could the request have reached ONEiO?)', async (code, inDoubt) => {
    // Prepare
    agent
      .get(RECEIVER_ORIGIN)
      .intercept({ path: '/api/v2', method: 'POST' })
      .replyWithError(Object.assign(new Error('failed'), { code }));
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    const error = await receiver.send(messageOf('{}'), ACCESS_TOKEN, {}).catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(ReceiverNetworkError);
    expect((error as ReceiverNetworkError).inDoubt).toBe(inDoubt);
  });

  it('throws ReceiverNetworkError when the request is aborted', async () => {
    // Prepare
    receiverAnswer(202);
    const receiver = new OneioReceiver(RECEIVER_URL, agent);

    // Act
    const sending = receiver.send(messageOf('{}'), ACCESS_TOKEN, { signal: AbortSignal.abort() });

    // Assess: an aborted request may have been sent already
    await expect(sending).rejects.toThrow(ReceiverNetworkError);
    await expect(sending).rejects.toMatchObject({ inDoubt: true });
  });
});
