import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback-server';
import { readForm, sendXml as send, sendQueryError, escapeXml as xml } from './query-protocol';

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
    const form = await readForm(request);
    const action = form.get('Action') ?? 'Unknown';
    calls[action] = (calls[action] ?? 0) + 1;
    if (request.method !== 'POST' || action !== 'GetCallerIdentity') {
      return sendQueryError(response, NAMESPACE, 400, 'InvalidAction', `${action} is not emulated.`);
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

  const server = await serveOnLoopback(
    handle,
    (response) => sendQueryError(response, NAMESPACE, 500, 'InternalFailure', 'Emulator error.'),
    options.port,
  );

  return {
    url: server.url,
    calls,
    setArn(next) {
      arn = next;
    },
    close: () => server.close(),
  };
}
