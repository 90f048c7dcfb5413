import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { EventInputError, toEventBridgeEvent } from './eventbridge-input';
import {
  type GatewayIdentity,
  sendGatewayError,
  sendHttpApiResult,
  sendJson,
  toHttpApiEvent,
} from './http-gateway';

/** HTTP API's payload limit; the function enforces its own, much lower one. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;
const WEBHOOK_ROUTE = /^\/webhooks\/([^/]+)$/;
const ACCESS_LINE_BODY_CHARS = 200;

export type Invoke = (event: unknown) => Promise<unknown>;

/** Told about each request that reaches the function, and its answer (the sandbox's inspector listens). */
export interface GatewayObserver {
  received(request: {
    /** API Gateway's request id of a webhook, or the id of an event. */
    id: string;
    kind: 'webhook' | 'event';
    method: string;
    /** Path with query string. */
    path: string;
    source: string;
    detailType?: string;
    /** Every header as received, in order. */
    headers: ReadonlyArray<readonly [string, string]>;
    body: Buffer;
  }): void;
  answered(id: string, answer: { status: number; body: string; latencyMs: number }): void;
}

export interface GatewayServerOptions {
  readonly identity: GatewayIdentity;
  readonly region: string;
  /** Invokes the function with an event; undefined until the sandbox is ready (requests then get 503). */
  readonly invoker: () => Invoke | undefined;
  readonly log: (line: string) => void;
  readonly observer?: GatewayObserver;
  /** Serves other paths (the inspector page) when it returns true; API Gateway's 404 otherwise. No access line. */
  readonly otherRoutes?: (request: IncomingMessage, response: ServerResponse) => boolean;
}

/**
 * The sandbox's HTTP endpoint: `POST /webhooks/{source}` as the deployed HTTP API routes it (any other path gets
 * API Gateway's 404), and `POST /events`, a local stand-in for an EventBridge rule: it invokes the function with
 * the posted event completed into what EventBridge delivers. Each request is logged in one access line.
 */
export function createGatewayServer(options: GatewayServerOptions): Server {
  return createServer((request, response) => {
    if (options.otherRoutes?.(request, response)) return;
    const started = Date.now();
    route(request, response, options)
      .catch((error: unknown) => {
        options.log(`[http] ${request.method} ${request.url} failed: ${messageOf(error)}`);
        return response.headersSent ? '' : sendGatewayError(response, 500, 'Internal Server Error');
      })
      .then((answer) => {
        const shown =
          answer.length > ACCESS_LINE_BODY_CHARS ? `${answer.slice(0, ACCESS_LINE_BODY_CHARS)}…` : answer;
        options.log(
          `[http] ${request.method} ${request.url} → ${response.statusCode} ${shown} (${Date.now() - started} ms)`,
        );
      });
  });
}

/** Answers the request; resolves with the body written, for the access line. */
async function route(
  request: IncomingMessage,
  response: ServerResponse,
  options: GatewayServerOptions,
): Promise<string> {
  const path = new URL(request.url ?? '/', 'http://sandbox').pathname;
  const webhook = WEBHOOK_ROUTE.exec(path);
  const body = await readBody(request);
  if (request.method !== 'POST' || (webhook === null && path !== '/events')) {
    return sendGatewayError(response, 404, 'Not Found');
  }
  if (body === undefined) return sendGatewayError(response, 413, 'Request Entity Too Large');
  const invoke = options.invoker();
  if (invoke === undefined) return sendGatewayError(response, 503, 'Service Unavailable');
  if (webhook === null) return handleEvent(request, body, response, invoke, options);

  let source: string;
  try {
    source = decodeURIComponent(webhook[1] ?? '');
  } catch {
    return sendGatewayError(response, 404, 'Not Found');
  }
  const event = toHttpApiEvent(
    request,
    body,
    { routeKey: 'POST /webhooks/{source}', pathParameters: { source } },
    options.identity,
  );
  const started = Date.now();
  options.observer?.received({
    id: event.requestContext.requestId,
    kind: 'webhook',
    method: request.method ?? 'POST',
    path: request.url ?? path,
    source,
    headers: headerPairs(request.rawHeaders),
    body,
  });
  const answered = (answer: string): string => {
    options.observer?.answered(event.requestContext.requestId, {
      status: response.statusCode,
      body: answer,
      latencyMs: Date.now() - started,
    });
    return answer;
  };
  try {
    return answered(sendHttpApiResult(response, await invoke(event)));
  } catch (error) {
    // What API Gateway answers when the integration fails; the reason only goes to the sandbox's output.
    options.log(`[lambda] invocation failed: ${messageOf(error)}`);
    return answered(sendGatewayError(response, 500, 'Internal Server Error'));
  }
}

async function handleEvent(
  request: IncomingMessage,
  body: Buffer,
  response: ServerResponse,
  invoke: Invoke,
  options: GatewayServerOptions,
): Promise<string> {
  let event: ReturnType<typeof toEventBridgeEvent>;
  try {
    event = toEventBridgeEvent(JSON.parse(body.toString('utf8')), {
      account: options.identity.accountId,
      region: options.region,
    });
  } catch (error) {
    if (error instanceof SyntaxError) return sendJson(response, 400, { error: 'The body must be JSON' });
    if (error instanceof EventInputError) return sendJson(response, 400, { error: error.message });
    throw error;
  }
  const started = Date.now();
  options.observer?.received({
    id: event.id,
    kind: 'event',
    method: request.method ?? 'POST',
    path: request.url ?? '/events',
    source: `eventbridge:${event.source}`,
    detailType: event['detail-type'],
    headers: headerPairs(request.rawHeaders),
    body,
  });
  let answer: string;
  try {
    await invoke(event);
    answer = sendJson(response, 200, { id: event.id, status: 'handled' });
  } catch (error) {
    // In AWS the invocation is asynchronous: Lambda would retry it twice, then hand it to the dead-letter queue.
    answer = sendJson(response, 500, {
      id: event.id,
      status: 'failed',
      error: messageOf(error),
      inAws: 'Lambda retries the event twice, then sends it to the dead-letter queue',
    });
  }
  options.observer?.answered(event.id, {
    status: response.statusCode,
    body: answer,
    latencyMs: Date.now() - started,
  });
  return answer;
}

/** `rawHeaders` is a flat `[name, value, name, value, …]` list. */
function headerPairs(raw: readonly string[]): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (let i = 0; i + 1 < raw.length; i += 2) pairs.push([raw[i] ?? '', raw[i + 1] ?? '']);
  return pairs;
}

/**
 * The whole body, or undefined when it exceeds the limit. A too large body is still read to its end (and
 * dropped), so the 413 is not lost to a reset connection.
 */
function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    request.on('end', () => resolve(size <= MAX_REQUEST_BYTES ? Buffer.concat(chunks) : undefined));
    request.on('error', reject);
  });
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
