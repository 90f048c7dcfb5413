import { once } from 'node:events';
import {
  Agent,
  createServer,
  request as forward,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the proxy does with one request. */
export type ProxyAnswer =
  /** Forward it upstream and relay the answer. */
  | 'pass'
  /** Reset the connection (TCP RST) without answering: the service looks unreachable. */
  | 'reset'
  /** Never answer (until the proxy closes): the service accepts connections and then stalls. */
  | 'hang'
  /** Answer this instead of the upstream service. */
  | { readonly status: number; readonly body: string; readonly headers?: Readonly<Record<string, string>> };

/** Decides per request; `body` is the whole request body (the proxy reads it before deciding). */
export type ProxyRule = (request: IncomingMessage, body: string) => ProxyAnswer;

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: point a client here instead of at the upstream service. */
  readonly url: string;
  /** Requests received, answered by upstream or not. */
  readonly requests: number;
  /** Requests the rule answered with a fault (`reset` or an answer of its own). */
  readonly faults: number;
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
export async function startFaultProxy(upstream?: string, rule: ProxyRule = passThrough): Promise<FaultProxy> {
  let target = upstream === undefined ? undefined : new URL(upstream);
  const agent = new Agent({ keepAlive: true });
  let current = rule;
  let requests = 0;
  let faults = 0;

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) response.writeHead(502).end();
      else response.destroy();
    });
  });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    requests++;
    const answer = current(request, body.toString('utf8'));
    if (answer === 'reset') {
      faults++;
      request.socket.resetAndDestroy();
      return;
    }
    if (answer === 'hang') {
      faults++;
      return;
    }
    if (answer !== 'pass') {
      faults++;
      response.writeHead(answer.status, {
        ...answer.headers,
        'content-length': Buffer.byteLength(answer.body),
      });
      response.end(answer.body);
      return;
    }
    if (target === undefined) throw new Error('the fault proxy has no upstream yet');
    const { hostname, port } = target;
    const upstreamAnswer = await new Promise<IncomingMessage>((resolve, reject) => {
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
    response.writeHead(upstreamAnswer.statusCode ?? 502, upstreamAnswer.headers);
    upstreamAnswer.pipe(response);
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
    setRule(next) {
      current = next;
    },
    setUpstream(url) {
      target = new URL(url);
    },
    async close() {
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

/** Answers the first `times` requests with `answer`, then passes everything through. */
export function firstRequests(times: number, answer: ProxyAnswer): ProxyRule {
  let left = times;
  return () => {
    if (left <= 0) return 'pass';
    left--;
    return answer;
  };
}
