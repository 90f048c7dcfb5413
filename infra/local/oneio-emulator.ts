import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request that reached the receiver, as ONEiO saw it, and what the emulator answered. */
export interface ReceiverRequest {
  /** The emulator's number for it (1, 2, …), also answered in the {@link EMULATOR_REQUEST_HEADER} header. */
  readonly id: number;
  /** Path and query string exactly as requested, e.g. `/api/v2?issue.key=ABC-1`. */
  readonly url: string;
  /** Every header as received, in arrival order, names as the client spelt them (repeats kept). */
  readonly headers: ReadonlyArray<readonly [name: string, value: string]>;
  /** The body bytes exactly as received. */
  readonly rawBody: Buffer;
  /** Epoch ms when the request arrived. */
  readonly receivedAt: number;
  /** Status answered; `undefined` while the answer is pending, and for a connection reset instead of answered. */
  readonly status?: number;
}

/** One message the receiver accepted. */
export interface ReceivedMessage {
  /** The request body exactly as received (UTF-8). */
  readonly body: string;
  /** The Bearer token it was sent with. */
  readonly accessToken: string;
  /** The client id that token was issued to: which ONEiO endpoint (credential pair) the message reached. */
  readonly clientId: string;
  /** Epoch ms when the request arrived. */
  readonly receivedAt: number;
  /** The whole request: URL with query, every header, the raw body. */
  readonly request: ReceiverRequest;
}

/**
 * A standing answer of the receiver until changed: `normal` serves as ONEiO does; `503`, `429` (with
 * `Retry-After: 1`) and `401` refuse every message as a transient failure would; `400` refuses it for good (the
 * relay parks such a message at once); `slow` accepts each after {@link SLOW_ANSWER_MS}.
 */
export type ReceiverMode = 'normal' | '503' | '429' | '401' | '400' | 'slow';
export const RECEIVER_MODES: readonly ReceiverMode[] = ['normal', '503', '429', '401', '400', 'slow'];
/** How long a `slow` receiver waits before answering: well noticeable, within the relay's 5 s request timeout. */
export const SLOW_ANSWER_MS = 3_000;
/**
 * Answer header carrying {@link ReceiverRequest.id}. ONEiO sends nothing like it and the relay ignores it; a
 * sandbox reads it to tell which invocation sent which request.
 */
export const EMULATOR_REQUEST_HEADER = 'x-oneio-emulator-request';

export interface OneioEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Default `emulator-client`. */
  readonly clientId?: string;
  /** Default `emulator-secret`. */
  readonly clientSecret?: string;
  /** More credential pairs the token endpoint accepts besides the first: one per further ONEiO endpoint. */
  readonly clients?: readonly { readonly clientId: string; readonly clientSecret: string }[];
  /** `expires_in` of issued tokens, seconds. Default 3599, as ONEiO answers. */
  readonly tokenLifetimeSeconds?: number;
  /** Called for each accepted message, before the answer; the sandbox prints them. A throw answers 500. */
  readonly onMessage?: (message: ReceivedMessage) => void;
  /** Called for each receiver request once answered (or reset), whatever the answer. */
  readonly onReceiverRequest?: (request: ReceiverRequest) => void;
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
  /** Every receiver request, answered or not, oldest first. */
  readonly receiverLog: readonly ReceiverRequest[];
  /** The standing answer of the receiver (see {@link ReceiverMode}). */
  readonly receiverMode: ReceiverMode;
  /** Changes the standing answer for requests from now on. One-off failures ({@link failReceiver}) go first. */
  setReceiverMode(mode: ReceiverMode): void;
  /** Whether `text` contains a token this emulator issued (for checks that no token leaked anywhere). */
  containsIssuedToken(text: string): boolean;
  /**
   * Every request that reached the token endpoint, answered or not: when, and the `client_id` it asked for (`''`
   * when it named none).
   */
  readonly tokenRequests: {
    readonly count: number;
    readonly timestamps: readonly number[];
    readonly clientIds: readonly string[];
  };
  /** Every request that reached the receiver, answered or not. */
  readonly receiverRequests: number;
  /** `401` answers given by the receiver. */
  readonly unauthorizedResponses: number;
  /** Distinct TCP connections accepted so far: keep-alive reuse keeps this low. */
  readonly connections: number;
  /** Lifetime of tokens issued from now on (already issued ones keep theirs). */
  setTokenLifetime(seconds: number): void;
  /** The first pair's credentials from now on; tokens already issued stay valid (as after a rotation). */
  setCredentials(credentials: { clientId: string; clientSecret: string }): void;
  /** A new secret for the pair of `clientId` (any pair), as after a rotation; issued tokens stay valid. */
  setClientSecret(clientId: string, clientSecret: string): void;
  /** Every token issued so far (to `clientId` only, when given) is refused from now on. */
  revokeAllTokens(clientId?: string): void;
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
  readonly clientId: string;
}

/**
 * Starts a local stand-in for ONEiO: the OAuth 2.0 client-credentials token endpoint and the REST receiver, on a
 * real socket so the relay's undici client runs exactly as against ONEiO. It logs nothing: tokens and secrets
 * never leave it except in its answers.
 */
export async function startOneioEmulator(options: OneioEmulatorOptions = {}): Promise<OneioEmulator> {
  let primaryClientId = options.clientId ?? 'emulator-client';
  /** Accepted credential pairs: client id → client secret. */
  const clients = new Map<string, string>([
    [primaryClientId, options.clientSecret ?? 'emulator-secret'],
    ...(options.clients ?? []).map((c) => [c.clientId, c.clientSecret] as const),
  ]);
  let tokenLifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  const tokens = new Map<string, IssuedToken>();
  /** Revoked ones included: a leak check must still find them. */
  const everIssued = new Set<string>();
  const messages: ReceivedMessage[] = [];
  const receiverLog: Array<ReceiverRequest & { status?: number }> = [];
  let receiverMode: ReceiverMode = 'normal';
  const tokenRequestTimestamps: number[] = [];
  const tokenRequestClients: string[] = [];
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
    tokenRequestClients.push(new URLSearchParams(body).get('client_id') ?? '');
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
    const clientId = form.get('client_id') ?? '';
    const clientSecret = clients.get(clientId);
    if (clientSecret === undefined || form.get('client_secret') !== clientSecret) {
      return sendOAuthError(response, 401, 'invalid_client');
    }
    const accessToken = randomBytes(32).toString('base64url');
    tokens.set(accessToken, { expiresAt: Date.now() + tokenLifetimeSeconds * 1000, clientId });
    everIssued.add(accessToken);
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
    rawBody: Buffer,
  ): Promise<void> => {
    receiverRequests += 1;
    const record: ReceiverRequest & { status?: number } = {
      id: receiverLog.length + 1,
      url: request.url ?? RECEIVER_PATH,
      headers: headerPairs(request.rawHeaders),
      rawBody,
      receivedAt: Date.now(),
    };
    receiverLog.push(record);
    const answer = (status: number, body: string, headers: Record<string, string>): void => {
      record.status = status;
      send(response, status, body, { ...headers, [EMULATOR_REQUEST_HEADER]: String(record.id) });
      options.onReceiverRequest?.(record);
    };
    if (resetsLeft > 0) {
      resetsLeft -= 1;
      request.socket.resetAndDestroy();
      options.onReceiverRequest?.(record);
      return;
    }
    await delay(receiverDelayMs + (receiverMode === 'slow' ? SLOW_ANSWER_MS : 0));
    const standing = receiverMode === 'normal' || receiverMode === 'slow' ? undefined : receiverMode;
    const oneOff = receiverFailure !== undefined && receiverFailure.times > 0 ? receiverFailure : undefined;
    if (oneOff !== undefined || standing !== undefined) {
      if (oneOff !== undefined) oneOff.times -= 1;
      const failure = oneOff ?? standingFailure(standing ?? '503');
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (failure.retryAfter !== undefined) {
        headers['retry-after'] = String(failure.retryAfter);
      }
      if (failure.status === 401) {
        unauthorizedResponses += 1;
      }
      answer(failure.status, failure.body ?? JSON.stringify({ status: 'failed' }), headers);
      return;
    }
    const accessToken = bearerToken(request);
    const issued = accessToken === undefined ? undefined : tokens.get(accessToken);
    if (accessToken === undefined || issued === undefined || Date.now() >= issued.expiresAt) {
      unauthorizedResponses += 1;
      // RFC 6750 §3: the challenge tells a client its token (not its request) is the problem.
      answer(401, JSON.stringify({ error: 'invalid_token' }), {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      return;
    }
    if (mediaType(request) !== 'application/json') {
      answer(415, JSON.stringify({ error: 'unsupported_media_type' }), {
        'content-type': 'application/json',
      });
      return;
    }
    const message = {
      body: rawBody.toString('utf8'),
      accessToken,
      clientId: issued.clientId,
      receivedAt: record.receivedAt,
      request: record,
    };
    messages.push(message);
    options.onMessage?.(message);
    answer(200, JSON.stringify({ status: 'accepted' }), { 'content-type': 'application/json' });
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
    const rawBody = await readBody(request);
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
      ? handleToken(request, response, rawBody.toString('utf8'))
      : handleReceiver(request, response, rawBody));
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
    receiverLog,
    get receiverMode() {
      return receiverMode;
    },
    setReceiverMode(mode) {
      if (!RECEIVER_MODES.includes(mode)) throw new RangeError(`Unknown receiver mode ${String(mode)}`);
      receiverMode = mode;
    },
    containsIssuedToken(text) {
      for (const token of everIssued) if (text.includes(token)) return true;
      return false;
    },
    tokenRequests: {
      get count() {
        return tokenRequestTimestamps.length;
      },
      timestamps: tokenRequestTimestamps,
      clientIds: tokenRequestClients,
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
      clients.delete(primaryClientId);
      primaryClientId = next.clientId;
      clients.set(next.clientId, next.clientSecret);
    },
    setClientSecret(clientId, clientSecret) {
      if (!clients.has(clientId)) throw new RangeError(`No client ${clientId}`);
      clients.set(clientId, clientSecret);
    },
    revokeAllTokens(clientId) {
      for (const [token, issued] of tokens) {
        if (clientId === undefined || issued.clientId === clientId) tokens.delete(token);
      }
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

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** `rawHeaders` is a flat `[name, value, name, value, …]` list. */
function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

/** The answer of a standing failure mode: what ONEiO is assumed to send in that state. */
function standingFailure(mode: '503' | '429' | '401' | '400'): {
  status: number;
  retryAfter?: number;
  body: string;
} {
  switch (mode) {
    case '400':
      return { status: 400, body: JSON.stringify({ error: 'bad_request' }) };
    case '503':
      return { status: 503, body: JSON.stringify({ status: 'failed' }) };
    case '429':
      return { status: 429, retryAfter: 1, body: JSON.stringify({ status: 'failed' }) };
    case '401':
      return { status: 401, body: JSON.stringify({ error: 'invalid_token' }) };
  }
}
