import { once } from 'node:events';
import {
  Agent,
  createServer,
  request as forward,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * What the proxy does with one request. Faults come in two halves: the first four fail *before* the service does
 * anything; `afterApply` and `commitAfterMs` let the service act and then lose, delay or race the answer.
 */
export type ProxyAnswer =
  /** Forward it upstream and relay the answer. */
  | 'pass'
  /** Reset the connection (TCP RST) without answering: the service looks unreachable. */
  | 'reset'
  /** Never answer (until the proxy closes): the service accepts connections and then stalls. */
  | 'hang'
  /** Answer this instead of the upstream service. */
  | { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> }
  /**
   * Forward it and let the service apply it, then lose the answer: reset the connection, never answer, or answer
   * `ms` late (after the client's timeout, typically).
   */
  | { readonly afterApply: 'reset' | 'hang' }
  | { readonly afterApply: 'delay'; readonly ms: number }
  /**
   * Hold the request `ms` before forwarding it, whether or not the client still waits: the service commits late,
   * after a client that gave up has moved on (a slow receiver still working on an aborted POST).
   */
  | { readonly commitAfterMs: number };

/** One request as the proxy saw it, for checkers that look at what was in flight when. */
export interface Exchange {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Epoch ms when the whole request had arrived. */
  readonly startedAt: number;
  /**
   * Epoch ms when the exchange was over for the service: its answer was sent or dropped, or (for a request the
   * service never saw) the fault was injected. Undefined while it is still going on.
   */
  endedAt?: number;
  /** The upstream service received it (it may have acted on it). */
  forwarded: boolean;
}

/** Decides per request; `body` is the whole request body (the proxy reads it before deciding). */
export type ProxyRule = (request: IncomingMessage, body: string) => ProxyAnswer;

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point a client here instead of at the upstream service. */
  readonly url: string;
  /** Requests received, answered by upstream or not. */
  readonly requests: number;
  /** Requests the rule answered with a fault (`reset` or an answer of its own). */
  readonly faults: number;
  /** Every request, in arrival order (only when started with `record: true`). */
  readonly exchanges: readonly Exchange[];
  /** Replaces the rule from the next request on. */
  setRule(rule: ProxyRule): void;
  /** Where passed requests go, for a service started after the proxy (its URL was needed first). */
  setUpstream(url: string): void;
  close(): Promise<void>;
}

export const passThrough: ProxyRule = () => 'pass';

/**
 * A loopback HTTP proxy that injects faults in front of a real service (DynamoDB Local, the ONEiO emulator): the
 * client under test keeps speaking the real wire protocol, and the rule decides which requests see a fault.
 */
export async function startFaultProxy(
  upstream?: string,
  rule: ProxyRule = passThrough,
  options: { readonly record?: boolean } = {},
): Promise<FaultProxy> {
  let target = upstream === undefined ? undefined : new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let current = rule;
  let requests = 0;
  let faults = 0;
  const exchanges: Exchange[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const wait = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });

  const server = createServer((request, response) => {
    // The upstream service reset or dropped the connection: so does the proxy, staying transparent.
    handle(request, response).catch(() => request.socket.resetAndDestroy());
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    requests++;
    const exchange: Exchange = {
      method: request.method ?? '',
      path: request.url ?? '',
      headers: request.headers,
      startedAt: Date.now(),
      forwarded: false,
    };
    if (options.record) exchanges.push(exchange);
    const end = () => {
      exchange.endedAt ??= Date.now();
    };
    const answer = current(request, body.toString('utf8'));
    if (answer === 'reset') {
      faults++;
      end();
      request.socket.resetAndDestroy();
      return;
    }
    if (answer === 'hang') {
      faults++;
      end();
      return;
    }
    if (typeof answer === 'object' && 'status' in answer) {
      faults++;
      end();
      response.writeHead(answer.status, {
        ...answer.headers,
        'content-length': Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
      return;
    }
    if (typeof answer === 'object') faults++;
    if (typeof answer === 'object' && 'commitAfterMs' in answer) await wait(answer.commitAfterMs);

    exchange.forwarded = true;
    const upstreamAnswer = await send(request, body);
    const answerBody = await readAll(upstreamAnswer);
    if (typeof answer === 'object' && 'afterApply' in answer) {
      if (answer.afterApply === 'reset') {
        end();
        request.socket.resetAndDestroy();
        return;
      }
      if (answer.afterApply === 'hang') {
        end();
        return;
      }
      if (answer.afterApply === 'delay') await wait(answer.ms);
    }
    end();
    if (response.destroyed) return;
    response.writeHead(upstreamAnswer.statusCode ?? 502, upstreamAnswer.headers);
    response.end(answerBody);
  };

  const send = (request: IncomingMessage, body: Buffer): Promise<IncomingMessage> => {
    if (target === undefined) throw new Error('the fault proxy has no upstream yet');
    const { hostname, port } = target;
    return new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = forward(
        {
          host: hostname,
          port,
          method: request.method,
          path: request.url,
          headers: request.headers,
          agent,
        },
        resolve,
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  };

  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    get faults() {
      return faults;
    },
    exchanges,
    setRule(next) {
      current = next;
    },
    setUpstream(url) {
      target = new URL(url);
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      const closed = once(server, 'close');
      server.close();
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
}

/**
 * DynamoDB's answer to a request over the table's throughput: HTTP 400 with the exception name in `__type`, which
 * the SDK classifies as throttling (retried with backoff, then thrown).
 */
export const DYNAMODB_THROTTLED: ProxyAnswer = {
  status: 400,
  headers: {
    'content-type': 'application/x-amz-json-1.0',
    'x-amzn-requestid': 'fault-proxy-throttled',
  },
  body: JSON.stringify({
    __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  }),
};

async function readAll(message: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of message) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** A DynamoDB request as the proxy sees it: the operation (`PutItem`, `UpdateItem`, …) and the item's key. */
export interface DynamoDbRequest {
  readonly operation: string;
  /** The partition key value (`dedup#…`, `outbox#…`, `token#…`), when the request names one item. */
  readonly pk: string | undefined;
  readonly updateExpression: string | undefined;
  readonly conditionExpression: string | undefined;
}

/** Reads a DynamoDB JSON-protocol request (`X-Amz-Target: DynamoDB_20120810.<Operation>`). */
export function dynamoDbRequest(request: IncomingMessage, body: string): DynamoDbRequest {
  const target = String(request.headers['x-amz-target'] ?? '');
  let parsed: {
    Key?: Record<string, { S?: string }>;
    Item?: Record<string, { S?: string }>;
    UpdateExpression?: string;
    ConditionExpression?: string;
  } = {};
  try {
    parsed = JSON.parse(body) as typeof parsed;
  } catch {
    // Not a JSON request: leave every field undefined.
  }
  return {
    operation: target.slice(target.indexOf('.') + 1),
    pk: (parsed.Key ?? parsed.Item)?.pk?.S,
    updateExpression: parsed.UpdateExpression,
    conditionExpression: parsed.ConditionExpression,
  };
}

/**
 * Applies `answer` to the first `times` DynamoDB requests that `matches` selects (e.g. the outbox's PutItem), passes
 * everything else through.
 */
export function onDynamoDbWrite(
  matches: (request: DynamoDbRequest) => boolean,
  answer: ProxyAnswer,
  times = 1,
): ProxyRule {
  let left = times;
  return (request, body) => {
    if (left <= 0 || !matches(dynamoDbRequest(request, body))) return 'pass';
    left--;
    return answer;
  };
}

/** Answers the first `times` requests with `answer`, then passes everything through. */
export function firstRequests(times: number, answer: ProxyAnswer): ProxyRule {
  let left = times;
  return () => {
    if (left <= 0) return 'pass';
    left--;
    return answer;
  };
}
