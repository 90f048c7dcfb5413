import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as path from 'node:path';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { request as httpRequest } from 'undici';
import type { SourceDeclarations } from '../../../functions/relay/core/inbound/source-declaration';
import { capturingIo } from '../../cli/cli-io';
import { outbox } from '../../cli/outbox';
import { checkDestination, checkToken } from '../../cli/status-checks';
import { RECEIVER_MODES, type ReceiverMode, SLOW_ANSWER_MS } from '../../local/oneio-emulator';
import type { Activity } from '../activity';
import type { Masker } from '../masking';
import { signerFor, signSample } from '../signers/index';

const PAGE_DIR = path.join(__dirname, 'page');
const STATIC: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/inspector/inspector.css': { file: 'inspector.css', type: 'text/css; charset=utf-8' },
  '/inspector/inspector.js': { file: 'inspector.js', type: 'text/javascript; charset=utf-8' },
};
const API = '/inspector/api/';
const MAX_BODY_BYTES = 1024 * 1024;
const SSE_HEARTBEAT_MS = 15_000;
/** Changes are announced at most this often; the page then fetches what it shows. */
const SSE_THROTTLE_MS = 100;
const SAMPLE_EVENT = { source: 'my.app', detailType: 'Order Placed', detail: { orderId: 42 } };

/** What the inspector needs from the running sandbox. */
export interface InspectorDeps {
  /** `http://127.0.0.1:<port>`: samples are sent there, as a sender would. */
  readonly url: () => string;
  readonly sources: SourceDeclarations;
  readonly activity: Activity;
  readonly masker: Masker;
  readonly tableName: string;
  readonly tokenKey: string;
  readonly documents: DynamoDBDocumentClient;
  /** The ONEiO emulator's switch; undefined when the sandbox relays to a real ONEiO. */
  readonly oneio?: {
    readonly mode: ReceiverMode;
    setMode(mode: ReceiverMode): void;
    readonly tokenRequests: number;
  };
  /** Where messages go, for the page's header. */
  readonly oneioLabel: string;
  /** Runs the outbox sweep now; resolves when it is done. */
  readonly sweep: () => Promise<void>;
  /** Called after a redrive or purge, so the list follows the item. */
  readonly outboxChanged: () => Promise<void>;
}

/**
 * The inspector: a page at `/` (one HTML file, one stylesheet, one script, nothing from the network) and the JSON
 * endpoints it reads under `/inspector/api/`, with a server-sent event stream for the live list. Every JSON answer
 * passes the masker last, so no secret leaves even if one slipped into a field. The outbox buttons run the CLI's
 * own `outbox` command on the sandbox's table.
 *
 * Returns a request handler that claims its paths (`true`) and leaves every other one to the gateway.
 */
export function inspector(
  deps: InspectorDeps,
): (request: IncomingMessage, response: ServerResponse) => boolean {
  const pages = new Map(
    Object.entries(STATIC).map(([route, { file, type }]) => [
      route,
      { type, body: readFileSync(path.join(PAGE_DIR, file)) },
    ]),
  );
  const api = routes(deps);

  return (request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://sandbox').pathname;
    const page = request.method === 'GET' ? pages.get(pathname) : undefined;
    if (page !== undefined) {
      response.writeHead(200, {
        'content-type': page.type,
        'content-length': page.body.length,
        'cache-control': 'no-store',
        // Nothing but this origin: no CDN, no inline script, no framing.
        'content-security-policy':
          "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'",
      });
      response.end(page.body);
      return true;
    }
    if (!pathname.startsWith(API)) return false;
    const handler = api[`${request.method} ${pathname.slice(API.length)}`];
    if (handler === undefined) {
      sendJson(response, 404, { error: `No ${request.method} ${pathname}` }, deps.masker);
      return true;
    }
    if (request.method === 'POST' && !sameOriginJson(request)) {
      // A page elsewhere could post a form here; JSON with our Origin is what the inspector sends.
      sendJson(response, 403, { error: 'Send JSON from the inspector page' }, deps.masker);
      return true;
    }
    handler(request, response).catch((error: unknown) => {
      if (!response.headersSent) {
        sendJson(
          response,
          500,
          { error: error instanceof Error ? error.message : String(error) },
          deps.masker,
        );
      }
    });
    return true;
  };
}

type Route = (request: IncomingMessage, response: ServerResponse) => Promise<void>;

function routes(deps: InspectorDeps): Record<string, Route> {
  const json = (response: ServerResponse, status: number, payload: unknown) =>
    sendJson(response, status, payload, deps.masker);

  return {
    'GET config': async (_request, response) =>
      json(response, 200, {
        oneio: {
          label: deps.oneioLabel,
          emulated: deps.oneio !== undefined,
          mode: deps.oneio?.mode ?? null,
          modes: RECEIVER_MODES,
          slowMs: SLOW_ANSWER_MS,
        },
        sources: Object.entries(deps.sources).map(([name, declaration]) => ({
          name,
          scheme: declaration.scheme,
          sampleBody: signerFor(declaration).sampleBody(),
        })),
        event: SAMPLE_EVENT,
      }),

    'GET activity': async (_request, response) =>
      json(response, 200, { entries: deps.activity.list(), lastSweep: deps.activity.lastSweep ?? null }),

    'GET stream': async (request, response) => stream(request, response, deps.activity),

    'GET token': async (_request, response) => {
      const stored = await checkToken(deps.documents, deps.tableName, deps.tokenKey, Date.now());
      json(response, 200, {
        stored: stored.data ?? null,
        summary: stored.summary,
        refreshes: deps.activity.token.refreshes,
        lastRefreshAt: deps.activity.token.lastRefreshAt ?? null,
        lastRefreshBy: deps.activity.token.lastRefreshBy ?? null,
        tokenRequests: deps.oneio?.tokenRequests ?? null,
      });
    },

    'GET outbox': async (_request, response) => {
      const [due, parked, destination] = await Promise.all([
        runOutbox(['list', '--json', '--limit', '100'], deps.tableName),
        runOutbox(['list', '--parked', '--json', '--limit', '100'], deps.tableName),
        // The pause and the breaker, as `oneio-relay status --sandbox` shows them.
        checkDestination(deps.documents, deps.tableName, Date.now()),
      ]);
      if (due.code !== 0 || parked.code !== 0) {
        return json(response, 502, { error: (due.code !== 0 ? due : parked).err.trim() });
      }
      json(response, 200, {
        due: JSON.parse(due.out),
        parked: JSON.parse(parked.out),
        paused: destination.paused.summary,
        breaker: destination.breaker.summary,
      });
    },

    'POST outbox/redrive': async (request, response) => {
      const { relayId } = await readJson(request);
      const run = await runOutbox(['redrive', String(relayId ?? '')], deps.tableName);
      await deps.outboxChanged();
      json(response, run.code === 0 ? 200 : 400, { message: (run.code === 0 ? run.out : run.err).trim() });
    },

    'POST outbox/purge': async (request, response) => {
      const { relayId } = await readJson(request);
      // The page asked the person already; the CLI asks only on a terminal.
      const run = await runOutbox(['purge', String(relayId ?? ''), '--yes'], deps.tableName);
      await deps.outboxChanged();
      json(response, run.code === 0 ? 200 : 400, { message: (run.code === 0 ? run.out : run.err).trim() });
    },

    'POST sweep': async (_request, response) => {
      await deps.sweep();
      json(response, 200, { lastSweep: deps.activity.lastSweep ?? null });
    },

    'POST oneio': async (request, response) => {
      const { mode } = await readJson(request);
      if (deps.oneio === undefined)
        return json(response, 409, { error: `${deps.oneioLabel} is not emulated` });
      if (!RECEIVER_MODES.includes(mode as ReceiverMode)) {
        return json(response, 400, { error: `mode must be one of ${RECEIVER_MODES.join(', ')}` });
      }
      deps.oneio.setMode(mode as ReceiverMode);
      json(response, 200, { mode: deps.oneio.mode });
    },

    'POST send': async (request, response) => {
      const { source, body } = await readJson(request);
      const declaration = typeof source === 'string' ? deps.sources[source] : undefined;
      if (declaration === undefined || typeof source !== 'string') {
        return json(response, 400, { error: `Unknown source ${String(source)}` });
      }
      const sample = signSample(source, declaration, typeof body === 'string' ? { body } : {});
      const url = `${deps.url()}/webhooks/${source}${sample.query === '' ? '' : `?${sample.query}`}`;
      json(response, 200, await post(url, sample.headers, sample.body));
    },

    'POST event': async (request, response) => {
      const { source, detailType, detail } = await readJson(request);
      const event = JSON.stringify({ source, 'detail-type': detailType, detail });
      json(response, 200, await post(`${deps.url()}/events`, { 'content-type': 'application/json' }, event));
    },
  };
}

/** Announces changes of the activity as server-sent events until the page goes away. */
async function stream(request: IncomingMessage, response: ServerResponse, activity: Activity): Promise<void> {
  response.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-store',
    connection: 'keep-alive',
  });
  response.write('retry: 1000\n\nevent: change\ndata: {}\n\n');
  let pending: NodeJS.Timeout | undefined;
  const unsubscribe = activity.onChange(() => {
    pending ??= setTimeout(() => {
      pending = undefined;
      response.write('event: change\ndata: {}\n\n');
    }, SSE_THROTTLE_MS);
  });
  const heartbeat = setInterval(() => response.write(': still here\n\n'), SSE_HEARTBEAT_MS);
  await new Promise<void>((resolve) => request.socket.once('close', resolve));
  unsubscribe();
  clearInterval(heartbeat);
  clearTimeout(pending);
}

/** Runs `oneio-relay outbox …` on the sandbox's table, as an operator would, and keeps what it printed. */
async function runOutbox(
  args: string[],
  tableName: string,
): Promise<{ code: number; out: string; err: string }> {
  const { io, printed } = capturingIo(process.stdin);
  try {
    // The sandbox set AWS_ENDPOINT_URL_DYNAMODB in this process, so --table reaches its DynamoDB Local.
    const code = await outbox([...args, '--table', tableName], io);
    return { code, ...printed() };
  } catch (error) {
    const { out, err } = printed();
    return { code: 1, out, err: `${err}${error instanceof Error ? error.message : String(error)}` };
  }
}

/** Sends a request to the sandbox itself, as a sender does, and returns its answer. */
async function post(
  url: string,
  headers: Readonly<Record<string, string>>,
  body: string,
): Promise<{ status: number; body: string }> {
  const answer = await httpRequest(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(30_000),
  });
  return { status: answer.statusCode, body: await answer.body.text() };
}

function sameOriginJson(request: IncomingMessage): boolean {
  const type = request.headers['content-type']?.split(';')[0]?.trim();
  const origin = request.headers.origin;
  return type === 'application/json' && (origin === undefined || origin === `http://${request.headers.host}`);
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new Error('Request body too large');
    chunks.push(chunk as Buffer);
  }
  const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
  return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
}

function sendJson(response: ServerResponse, status: number, payload: unknown, masker: Masker): void {
  const body = masker.text(JSON.stringify(payload));
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  response.end(body);
}
