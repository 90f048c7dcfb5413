import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback-server';

/** What GetFunctionConfiguration reports about one deployed function (the fields the CLI reads). */
export interface EmulatedFunction {
  readonly name: string;
  /** @default `$LATEST` */
  readonly version?: string;
  /** Base64 SHA-256 of the deployment package. @default a fixed sample */
  readonly codeSha256?: string;
  /** @default now */
  readonly lastModified?: Date;
  /** @default `Active` */
  readonly state?: 'Pending' | 'Active' | 'Inactive' | 'Failed';
  /** @default `Successful` */
  readonly lastUpdateStatus?: 'Successful' | 'Failed' | 'InProgress';
  readonly environment?: Readonly<Record<string, string>>;
}

export interface LambdaEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Used in ARNs only. Default `us-east-1`. */
  readonly region?: string;
  readonly functions?: readonly EmulatedFunction[];
}

export interface LambdaEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_LAMBDA`. */
  readonly url: string;
  /** Requests received per action, failed ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** Deploys (or redeploys) a function. */
  setFunction(fn: EmulatedFunction): void;
  close(): Promise<void>;
}

const CONFIGURATION_PATH = /^\/2015-03-31\/functions\/([^/]+)\/configuration$/;

/**
 * A local stand-in for the one Lambda call the CLI makes, GetFunctionConfiguration, over Lambda's REST-JSON
 * protocol (`GET /2015-03-31/functions/{name}/configuration`), so the real `LambdaClient` runs unchanged. A missing
 * function gets the service's answer: 404 with `x-amzn-errortype: ResourceNotFoundException`.
 */
export async function startLambdaEmulator(options: LambdaEmulatorOptions = {}): Promise<LambdaEmulator> {
  const region = options.region ?? 'us-east-1';
  const functions = new Map<string, EmulatedFunction & { lastModified: Date }>();
  const calls: Record<string, number> = {};
  const setFunction = (fn: EmulatedFunction): void => {
    functions.set(fn.name, { ...fn, lastModified: fn.lastModified ?? new Date() });
  };
  for (const fn of options.functions ?? []) setFunction(fn);
  const arnOf = (name: string) => `arn:aws:lambda:${region}:000000000000:function:${name}`;

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    for await (const _ of request) {
      // GetFunctionConfiguration has no body; drain whatever came.
    }
    const url = new URL(request.url ?? '/', 'http://lambda');
    const match = CONFIGURATION_PATH.exec(url.pathname);
    const action = match !== null && request.method === 'GET' ? 'GetFunctionConfiguration' : 'Unknown';
    calls[action] = (calls[action] ?? 0) + 1;
    if (!String(request.headers.authorization ?? '').startsWith('AWS4-HMAC-SHA256 ')) {
      return sendError(response, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    }
    if (match === null || request.method !== 'GET') {
      return sendError(response, 404, 'UnknownOperationException', 'Unknown operation');
    }
    // The service takes a name or an ARN.
    const requested = decodeURIComponent(match[1] ?? '');
    const name = requested.startsWith('arn:') ? (requested.split(':')[6] ?? '') : requested;
    const fn = functions.get(name);
    const qualifier = url.searchParams.get('Qualifier');
    if (fn === undefined || (qualifier !== null && qualifier !== (fn.version ?? '$LATEST'))) {
      return sendError(
        response,
        404,
        'ResourceNotFoundException',
        `Function not found: ${arnOf(name)}${qualifier === null ? '' : `:${qualifier}`}`,
      );
    }
    send(response, 200, {
      FunctionName: fn.name,
      FunctionArn: arnOf(fn.name),
      Runtime: 'nodejs24.x',
      Handler: 'index.handler',
      Architectures: ['arm64'],
      MemorySize: 512,
      Timeout: 25,
      Version: fn.version ?? '$LATEST',
      CodeSha256: fn.codeSha256 ?? 'xPEIoFvOtG3cm7Ij3oLS3vW5Byxw1uwNG3rnt9E3pQA=',
      CodeSize: 971_000,
      // Lambda's own format: ISO-8601 with milliseconds and a +0000 offset.
      LastModified: fn.lastModified.toISOString().replace('Z', '+0000'),
      State: fn.state ?? 'Active',
      LastUpdateStatus: fn.lastUpdateStatus ?? 'Successful',
      ...(fn.environment !== undefined && { Environment: { Variables: { ...fn.environment } } }),
    });
  };

  const server = await serveOnLoopback(
    handle,
    (response) => sendError(response, 500, 'ServiceException', 'Emulator error.'),
    options.port,
  );

  return {
    url: server.url,
    calls,
    setFunction,
    close: () => server.close(),
  };
}

function sendError(response: ServerResponse, status: number, type: string, message: string): void {
  response.setHeader('x-amzn-errortype', type);
  send(response, status, { Type: 'User', message });
}

function send(response: ServerResponse, status: number, payload: unknown): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}
