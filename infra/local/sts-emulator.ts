import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StsEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** The identity GetCallerIdentity reports. Default an assumed role of account 000000000000. */
  readonly arn?: string;
}

export interface StsEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_STS`. */
  readonly url: string;
  /** Requests received per action, failed ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** The identity reported from now on. */
  setArn(arn: string): void;
  close(): Promise<void>;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';

/**
 * A local stand-in for the one STS call the CLI makes, GetCallerIdentity ("who am I", which needs no permission),
 * speaking the AWS Query protocol (form-encoded `Action=…`, XML answer) so the real `STSClient` runs unchanged.
 */
export async function startStsEmulator(options: StsEmulatorOptions = {}): Promise<StsEmulator> {
  let arn = options.arn ?? 'arn:aws:sts::000000000000:assumed-role/Operator/alice';
  const calls: Record<string, number> = {};

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const form = new URLSearchParams(await readBody(request));
    const action = form.get('Action') ?? 'Unknown';
    calls[action] = (calls[action] ?? 0) + 1;
    if (request.method !== 'POST' || action !== 'GetCallerIdentity') {
      return send(
        response,
        400,
        `<ErrorResponse xmlns="${NAMESPACE}"><Error><Type>Sender</Type><Code>InvalidAction</Code>` +
          `<Message>${xml(action)} is not emulated.</Message></Error><RequestId>${randomUUID()}</RequestId></ErrorResponse>`,
      );
    }
    const account = /^arn:aws:[a-z]+::(\d{12}):/.exec(arn)?.[1] ?? '000000000000';
    send(
      response,
      200,
      `<GetCallerIdentityResponse xmlns="${NAMESPACE}"><GetCallerIdentityResult>` +
        `<Arn>${xml(arn)}</Arn><UserId>AROAEXAMPLE:session</UserId><Account>${account}</Account>` +
        `</GetCallerIdentityResult><ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata>` +
        '</GetCallerIdentityResponse>',
    );
  };

  const server = createServer((request, response) => {
    handle(request, response).catch(() => {
      if (!response.headersSent) send(response, 500, '<ErrorResponse/>');
    });
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    setArn(next) {
      arn = next;
    },
    async close() {
      const closed = once(server, 'close');
      server.close();
      // The SDK keeps connections alive; without this close() would wait for them to idle out.
      server.closeAllConnections();
      await closed;
    },
  };
}

function send(response: ServerResponse, status: number, body: string): void {
  response.writeHead(status, {
    'content-type': 'text/xml',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

function xml(text: string): string {
  return text.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
