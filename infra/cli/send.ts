import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { ReceiverNetworkError } from '../../functions/relay/core/errors';
import { errorCode } from '../../functions/relay/io/error-code';
import { createHttpAgent } from '../../functions/relay/io/oneio/http-agent';
import { OneioReceiver } from '../../functions/relay/io/oneio/receiver';
import { AWS_FLAGS, awsOptionsFrom } from './aws-options';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import {
  ONEIO_TIMEOUT_MS,
  readCredentials,
  requestToken,
  resolveOneioTarget,
  TARGET_FLAGS,
} from './oneio-access';
import { withSpinner } from './spinner';

export const SEND_HELP = `Usage: oneio-relay send --env <qa|prod> --file <message.json> [options]

Sends one JSON message to the environment's ONEiO REST receiver, with a token obtained from the environment's
credentials (as \`check\` does). The file is sent byte for byte; it must be JSON. \`--file -\` reads standard input.

Options:
  --env <qa|prod>         environment (ONEiO URLs from infra/config.ts, stack OneioRelay-<env>)
  --file <path>           the message
  --profile <name>        AWS profile
  --region <region>       AWS region of the stack
  --secret-id <id>        read this credentials secret instead of looking the stack up
  --token-url <url>       use this token endpoint instead of the environment's
  --receiver-url <url>    use this REST receiver instead of the environment's
  -h, --help              show this help
`;

/** `oneio-relay send`: one test message to ONEiO, outside the relay. */
export async function send(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...TARGET_FLAGS,
      ...AWS_FLAGS,
      file: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    io.out(SEND_HELP);
    return 0;
  }
  if (values.file === undefined) throw usageError('Missing --file <message.json>', 'send');
  const body = await readMessage(values.file, io);
  const aws = awsOptionsFrom(values);
  const target = await resolveOneioTarget(values, aws, io, 'send');
  const credentials = await readCredentials(target.credentialsSecretId, aws, io);
  const agent = createHttpAgent();
  try {
    const token = await requestToken(target.tokenUrl, credentials, agent, io, target.credentialsSecretId);
    const receiver = new OneioReceiver(target.receiverUrl, agent);
    // Its own message id, as the relay gives every message: ONEiO sees an operator's test like any other message.
    const relayId = randomUUID();
    const message = { relayId, source: 'cli', deliveryId: relayId, body, receivedAt: Date.now() };
    let status: number;
    try {
      ({ status } = await withSpinner(io, `Sending to ${target.receiverUrl}…`, () =>
        receiver.send(message, token.accessToken, { signal: AbortSignal.timeout(ONEIO_TIMEOUT_MS) }),
      ));
    } catch (error) {
      if (!(error instanceof ReceiverNetworkError)) throw error;
      throw new CliError(
        `Cannot reach ONEiO's receiver ${target.receiverUrl} (${errorCode(error.cause)}): check the network, proxy or VPN.`,
        1,
        { cause: error },
      );
    }
    if (status >= 200 && status < 300) {
      io.out(
        `OK: ONEiO accepted the message (${status}, ${Buffer.byteLength(body)} bytes, message id ${relayId}) at ${target.receiverUrl}\n`,
      );
      return 0;
    }
    throw new CliError(`ONEiO answered ${status} at ${target.receiverUrl}: ${meaningOf(status)}`);
  } finally {
    await agent.close();
  }
}

async function readMessage(file: string, io: CliIo): Promise<string> {
  let text: string;
  try {
    text = file === '-' ? await readAll(io.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read ${file} (${errorCode(error)})`, 1, { cause: error });
  }
  try {
    JSON.parse(text);
  } catch (error) {
    throw new CliError(`${file} is not JSON (${(error as Error).message}); ONEiO's REST receiver takes JSON`);
  }
  return text;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

/** What the relay would make of the answer (functions/relay/core/delivery/classify-response.ts). */
function meaningOf(status: number): string {
  if (status === 401) return 'the fresh token was refused; check that the endpoint in ONEiO is enabled';
  if (status === 408 || status === 425 || status === 429 || status >= 500) {
    return 'a temporary failure (the relay would retry it); try again later';
  }
  return 'the message was rejected (the relay would park it); check its content';
}
