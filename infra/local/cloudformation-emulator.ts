import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback-server';
import { readForm, sendXml as send, sendQueryError, escapeXml as xml } from './query-protocol';

export interface CloudFormationEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Used in stack ids only. Default `us-east-1`. */
  readonly region?: string;
  /** Deployed stacks by name: their outputs, key → value. */
  readonly stacks?: Readonly<Record<string, Readonly<Record<string, string>>>>;
}

/** What DescribeStacks reports about a stack beside its outputs. */
export interface StackDetails {
  /** @default `CREATE_COMPLETE`, or `UPDATE_COMPLETE` once `lastUpdatedTime` is given */
  readonly status?: string;
  /** @default the time setStack is called */
  readonly creationTime?: Date;
  /** Absent for a stack never updated, as in the service's answer. */
  readonly lastUpdatedTime?: Date;
}

export interface CloudFormationEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_CLOUDFORMATION`. */
  readonly url: string;
  /** Requests received per action (`DescribeStacks`, …), failed ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** Deploys (or redeploys) a stack with these outputs; `details` sets its status and last update. */
  setStack(name: string, outputs: Readonly<Record<string, string>>, details?: StackDetails): void;
  close(): Promise<void>;
}

const NAMESPACE = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';

/**
 * A local stand-in for the one CloudFormation call the CLI makes, DescribeStacks, speaking the AWS Query protocol
 * (form-encoded `Action=…` request, XML answer) so the real `CloudFormationClient` runs unchanged against it. A
 * missing stack gets the service's own answer: a 400 `ValidationError` "Stack with id … does not exist".
 */
export async function startCloudFormationEmulator(
  options: CloudFormationEmulatorOptions = {},
): Promise<CloudFormationEmulator> {
  const region = options.region ?? 'us-east-1';
  const stacks = new Map<
    string,
    { id: string; outputs: Readonly<Record<string, string>>; details: StackDetails & { creationTime: Date } }
  >();
  const calls: Record<string, number> = {};
  const setStack = (
    name: string,
    outputs: Readonly<Record<string, string>>,
    details: StackDetails = {},
  ): void => {
    stacks.set(name, {
      id: `arn:aws:cloudformation:${region}:000000000000:stack/${name}/${randomUUID()}`,
      outputs: { ...outputs },
      details: { ...details, creationTime: details.creationTime ?? new Date() },
    });
  };
  for (const [name, outputs] of Object.entries(options.stacks ?? {})) setStack(name, outputs);

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const form = await readForm(request);
    const action = form.get('Action') ?? 'Unknown';
    calls[action] = (calls[action] ?? 0) + 1;
    if (request.method !== 'POST' || action !== 'DescribeStacks') {
      return sendError(response, 400, 'InvalidAction', `${action} is not emulated.`);
    }
    const name = form.get('StackName') ?? '';
    // The service accepts a stack name or its id (ARN).
    const found = [...stacks].find(([stackName, stack]) => name === stackName || name === stack.id);
    if (found === undefined) {
      return sendError(response, 400, 'ValidationError', `Stack with id ${name} does not exist`);
    }
    const [stackName, stack] = found;
    const { details } = stack;
    const status = details.status ?? (details.lastUpdatedTime ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE');
    const outputs = Object.entries(stack.outputs)
      .map(
        ([key, value]) =>
          `<member><OutputKey>${xml(key)}</OutputKey><OutputValue>${xml(value)}</OutputValue></member>`,
      )
      .join('');
    send(
      response,
      200,
      `<DescribeStacksResponse xmlns="${NAMESPACE}"><DescribeStacksResult><Stacks><member>` +
        `<StackName>${xml(stackName)}</StackName><StackId>${xml(stack.id)}</StackId>` +
        `<CreationTime>${details.creationTime.toISOString()}</CreationTime>` +
        (details.lastUpdatedTime
          ? `<LastUpdatedTime>${details.lastUpdatedTime.toISOString()}</LastUpdatedTime>`
          : '') +
        `<StackStatus>${xml(status)}</StackStatus>` +
        `<Outputs>${outputs}</Outputs></member></Stacks></DescribeStacksResult>` +
        `<ResponseMetadata><RequestId>${randomUUID()}</RequestId></ResponseMetadata></DescribeStacksResponse>`,
    );
  };

  const server = await serveOnLoopback(
    handle,
    (response) => sendError(response, 500, 'InternalFailure', 'Emulator error.'),
    options.port,
  );

  return {
    url: server.url,
    calls,
    setStack,
    close: () => server.close(),
  };
}

function sendError(response: ServerResponse, status: number, code: string, message: string): void {
  sendQueryError(response, NAMESPACE, status, code, message);
}
