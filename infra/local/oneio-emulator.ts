import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One message the receiver accepted. */
export interface ReceivedMessage {
  /** The request body exactly as received (UTF-8). */
  readonly body: string;
  /** The Bearer token it was sent with. */
  readonly accessToken: string;
  /** Epoch ms when the request arrived. */
  readonly receivedAt: number;
}

export interface OneioEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default `emulator-client`. */
  readonly clientId?: string;
  /** Default `emulator-secret`. */
  readonly clientSecret?: string;
  /** `expires_in` of issued tokens, seconds. Default 3599, as ONEiO answers. */
  readonly tokenLifetimeSeconds?: number;
  /** Called for each accepted message, before the answer; the sandbox prints them. A throw answers 500. */
  readonly onMessage?: (message: ReceivedMessage) => void;
}

/** A running emulator and the knobs tests turn. */
export interface OneioEmulator {
  readonly baseUrl: string;
  /** `<baseUrl>/oauth2/token` */
  readonly tokenUrl: string;
  /** `<baseUrl>/api/v2` */
  readonly receiverUrl: string;
  /** Accepted messages, oldest first. */
  readonly messages: readonly ReceivedMessage[];
  /** Every request that reached the token endpoint, answered or not. */
  readonly tokenRequests: { readonly count: number; readonly timestamps: readonly number[] };
  /** Every request that reached the receiver, answered or not. */
  readonly receiverRequests: number;
  /** `401` answers given by the receiver. */
  readonly unauthorizedResponses: number;
  /** Distinct TCP connections accepted so far: keep-alive reuse keeps this low. */
  readonly connections: number;
  /** Lifetime of tokens issued from now on (already issued ones keep theirs). */
  setTokenLifetime(seconds: number): void;
  /** Credentials accepted from now on; tokens already issued stay valid (as after a rotation). */
  setCredentials(credentials: { clientId: string; clientSecret: string }): void;
  /** Every token issued so far is refused from now on. */
  revokeAllTokens(): void;
  /** The next `times` receiver requests answer `status` (with `Retry-After` when given). */
  failReceiver(failure: { status: number; times: number; retryAfter?: number | string; body?: string }): void;
  /** The next `times` token requests answer `status` with `body` (default an RFC 6749 style error). */
  failTokenEndpoint(failure: { status: number; times: number; body?: string }): void;
  /** Every receiver answer waits `ms` first; 0 turns it off. */
  delayReceiver(ms: number): void;
  /** Every token answer waits `ms` first; 0 turns it off. */
  delayTokenEndpoint(ms: number): void;
  /** The next `times` receiver requests get their connection reset (TCP RST) instead of an answer. */
  resetConnections(options: { times: number }): void;
  /** Stops listening and drops every connection, idle keep-alive ones included. */
  close(): Promise<void>;
}

const TOKEN_PATH = '/oauth2/token';
const RECEIVER_PATH = '/api/v2';
// Above the 60 s idle timeouts common in front of real services, so the emulator is never the one that drops an
// idle keep-alive connection first during a test.
const KEEP_ALIVE_TIMEOUT_MS = 65_000;

interface IssuedToken {
  readonly expiresAt: number;
}

/**
 * Starts a local stand-in for ONEiO: the OAuth 2.0 client-credentials token endpoint and the REST receiver, on a
 * real socket so the relay's undici client runs exactly as against ONEiO. It logs nothing: tokens and secrets
 * never leave it except in its answers.
 */
export async function startOneioEmulator(options: OneioEmulatorOptions = {}): Promise<OneioEmulator> {
  let credentials = {
    clientId: options.clientId ?? 'emulator-client',
    clientSecret: options.clientSecret ?? 'emulator-secret',
  };
  let tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  const tokens = new Map<string, IssuedToken>();
  const messages: ReceivedMessage[] = [];
  const tokenRequestTimestamps: number[] = [];
  let receiverRequests = 0;
  let unauthorizedResponses = 0;
  let connections = 0;
  let receiverFailure:
    | { status: number; times: number; retryAfter?: number | string; body?: string }
    | undefined;
  let tokenFailure: { status: number; times: number; body?: string } | undefined;
  let receiverDelayMs = 0;
  let tokenDelayMs = 0;
  let resetsLeft = 0;
  const pendingTimers = new Set<NodeJS.Timeout>();

  /** Waits `ms`, unless the emulator closes first (then the caller finds the response destroyed). */
  const delay = (ms: number): Promise<void> =>
    ms <= 0
      ? Promise.resolve()
      : new Promise((resolve) => {
          const timer = setTimeout(() => {
            pendingTimers.delete(timer);
            resolve();
          }, ms);
          pendingTimers.add(timer);
        });

  const handleToken = async (
    request: IncomingMessage,
    response: ServerResponse,
    body: string,
  ): Promise<void> => {
    tokenRequestTimestamps.push(Date.now());
    await delay(tokenDelayMs);
    if (tokenFailure !== undefined && tokenFailure.times > 0) {
      tokenFailure.times -= 1;
      const failureBody = tokenFailure.body ?? JSON.stringify({ error: 'temporarily_unavailable' });
      send(response, tokenFailure.status, failureBody, { 'content-type': 'application/json' });
      return;
    }
    if (mediaType(request) !== 'application/x-www-form-urlencoded') {
      return sendOAuthError(
        response,
        400,
        'invalid_request',
        'Content-Type must be application/x-www-form-urlencoded',
      );
    }
    const form = new URLSearchParams(body);
    // RFC 6749 §3.2: parameters must not be repeated; a client that appends twice has a bug worth seeing.
    for (const name of ['grant_type', 'client_id', 'client_secret']) {
      if (form.getAll(name).length > 1) {
        return sendOAuthError(response, 400, 'invalid_request', `${name} is repeated`);
      }
    }
    const grantType = form.get('grant_type');
    if (grantType === null) {
      return sendOAuthError(response, 400, 'invalid_request', 'grant_type is missing');
    }
    if (grantType !== 'client_credentials') {
      return sendOAuthError(response, 400, 'unsupported_grant_type');
    }
    if (
      form.get('client_id') !== credentials.clientId ||
      form.get('client_secret') !== credentials.clientSecret
    ) {
      return sendOAuthError(response, 401, 'invalid_client');
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, { expiresAt: Date.now() + tokenLifetimeSeconds * 1000 });
    const answer = {
      access_token: accessToken,
      token_type: 'Bearer',
      scope: 'ROLE_INTEGRATION',
      expires_in: tokenLifetimeSeconds,
    };
    // RFC 6749 §5.1: token answers must not be cached.
    send(response, 200, JSON.stringify(answer), {
      'content-type': 'application/json',
      'cache-control': 'no-store',
      pragma: 'no-cache',
    });
  };

  const handleReceiver = async (
    request: IncomingMessage,
    response: ServerResponse,
    body: string,
  ): Promise<void> => {
    receiverRequests += 1;
    if (resetsLeft > 0) {
      resetsLeft -= 1;
      request.socket.resetAndDestroy();
      return;
    }
    await delay(receiverDelayMs);
    if (receiverFailure !== undefined && receiverFailure.times > 0) {
      receiverFailure.times -= 1;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (receiverFailure.retryAfter !== undefined) {
        headers['retry-after'] = String(receiverFailure.retryAfter);
      }
      if (receiverFailure.status === 401) {
        unauthorizedResponses += 1;
      }
      send(
        response,
        receiverFailure.status,
        receiverFailure.body ?? JSON.stringify({ status: 'failed' }),
        headers,
      );
      return;
    }
    const accessToken = bearerToken(request);
    const issued = accessToken === undefined ? undefined : tokens.get(accessToken);
    if (accessToken === undefined || issued === undefined || Date.now() >= issued.expiresAt) {
      unauthorizedResponses += 1;
      // RFC 6750 §3: the challenge tells a client its token (not its request) is the problem.
      send(response, 401, JSON.stringify({ error: 'invalid_token' }), {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      return;
    }
    if (mediaType(request) !== 'application/json') {
      send(response, 415, JSON.stringify({ error: 'unsupported_media_type' }), {
        'content-type': 'application/json',
      });
      return;
    }
    const message = { body, accessToken, receivedAt: Date.now() };
    messages.push(message);
    options.onMessage?.(message);
    send(response, 200, JSON.stringify({ status: 'accepted' }), { 'content-type': 'application/json' });
  };

  const server = createServer((request, response) => {
    route(request, response).catch(() => {
      if (!response.headersSent && !response.destroyed) {
        send(response, 500, JSON.stringify({ error: 'emulator_error' }), {
          'content-type': 'application/json',
        });
      }
    });
  });
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.on('connection', () => {
    connections += 1;
  });

  const route = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://emulator').pathname;
    // Read the whole body first, as a real server does, so an early answer never races an unread upload.
    const body = await readBody(request);
    if (path !== TOKEN_PATH && path !== RECEIVER_PATH) {
      send(response, 404, JSON.stringify({ error: 'not_found' }), { 'content-type': 'application/json' });
      return;
    }
    if (request.method !== 'POST') {
      send(response, 405, JSON.stringify({ error: 'method_not_allowed' }), {
        'content-type': 'application/json',
        allow: 'POST',
      });
      return;
    }
    await (path === TOKEN_PATH
      ? handleToken(request, response, body)
      : handleReceiver(request, response, body));
  };

  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    tokenUrl: `${baseUrl}${TOKEN_PATH}`,
    receiverUrl: `${baseUrl}${RECEIVER_PATH}`,
    messages,
    tokenRequests: {
      get count() {
        return tokenRequestTimestamps.length;
      },
      timestamps: tokenRequestTimestamps,
    },
    get receiverRequests() {
      return receiverRequests;
    },
    get unauthorizedResponses() {
      return unauthorizedResponses;
    },
    get connections() {
      return connections;
    },
    setTokenLifetime(seconds) {
      tokenLifetimeSeconds = seconds;
    },
    setCredentials(next) {
      credentials = { ...next };
    },
    revokeAllTokens() {
      tokens.clear();
    },
    failReceiver(failure) {
      receiverFailure = { ...failure };
    },
    failTokenEndpoint(failure) {
      tokenFailure = { ...failure };
    },
    delayReceiver(ms) {
      receiverDelayMs = ms;
    },
    delayTokenEndpoint(ms) {
      tokenDelayMs = ms;
    },
    resetConnections({ times }) {
      resetsLeft = times;
    },
    async close() {
      for (const timer of pendingTimers) {
        clearTimeout(timer);
      }
      pendingTimers.clear();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(response: ServerResponse, status: number, body: string, headers: Record<string, string>): void {
  if (response.destroyed) {
    return;
  }
  response.writeHead(status, { ...headers, 'content-length': Buffer.byteLength(body) });
  response.end(body);
}

function sendOAuthError(response: ServerResponse, status: number, error: string, description?: string): void {
  const body = description === undefined ? { error } : { error, error_description: description };
  send(response, status, JSON.stringify(body), {
    'content-type': 'application/json',
    'cache-control': 'no-store',
  });
}

/** The media type without parameters (`application/json; charset=utf-8` → `application/json`). */
function mediaType(request: IncomingMessage): string | undefined {
  return request.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
}

function bearerToken(request: IncomingMessage): string | undefined {
  const match = /^Bearer +(\S+)\s*$/i.exec(request.headers.authorization ?? '');
  return match?.[1];
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
