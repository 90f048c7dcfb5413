import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback-server';

const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export interface SecretsManagerEmulatorOptions {
  /** Default 0: any free port. */
  readonly port?: number;
  /** Secrets present from the start, by name. */
  readonly secrets?: Readonly<Record<string, string>>;
  /** Used in ARNs only. Default `us-east-1`. */
  readonly region?: string;
}

/** A running emulator and the knobs tests turn. */
export interface SecretsManagerEmulator {
  /** `http://127.0.0.1:<port>`, for `endpoint` or `AWS_ENDPOINT_URL_SECRETS_MANAGER`. */
  readonly url: string;
  /** Requests received per operation (`GetSecretValue`, …), failed ones included. */
  readonly calls: Readonly<Record<string, number>>;
  /** Creates the secret or gives it a new current version. */
  setSecret(id: string, secretString: string): void;
  /**
   * The next `times` requests fail with `status` and error `type` (default by status: 500 `InternalServiceError`,
   * 503 `ServiceUnavailable`, else `ThrottlingException`). The SDK retries 5xx and throttling by itself.
   */
  failNext(failure: { times: number; status: number; type?: string }): void;
  close(): Promise<void>;
}

interface StoredSecret {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
  secretString: string;
  versionId: string;
  changedAt: number;
}

/** Thrown by an operation to produce an AWS JSON error answer. */
class AwsError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const ACCOUNT_ID = '000000000000';
const NOT_FOUND_MESSAGE = "Secrets Manager can't find the specified secret.";

/**
 * Starts a local stand-in for AWS Secrets Manager speaking the AWS JSON 1.1 protocol (`POST /`,
 * `X-Amz-Target: secretsmanager.<Operation>`), so the real `SecretsManagerClient` runs unchanged against it.
 * Supports GetSecretValue, PutSecretValue and DescribeSecret for string secrets with one current version.
 * Signatures are not checked: any credentials work.
 */
export async function startSecretsManagerEmulator(
  options: SecretsManagerEmulatorOptions = {},
): Promise<SecretsManagerEmulator> {
  const region = options.region ?? 'us-east-1';
  const secrets = new Map<string, StoredSecret>();
  const calls: Record<string, number> = {};
  let failure: { times: number; status: number; type: string } | undefined;

  const find = (secretId: unknown): StoredSecret => {
    if (typeof secretId !== 'string' || secretId === '') {
      throw new AwsError(400, 'InvalidParameterException', 'SecretId is required.');
    }
    // Like the service: a name, a full ARN, or an ARN without its random suffix.
    for (const secret of secrets.values()) {
      if (secretId === secret.name || secretId === secret.arn || secretId === secret.arn.slice(0, -7)) {
        return secret;
      }
    }
    throw new AwsError(400, 'ResourceNotFoundException', NOT_FOUND_MESSAGE);
  };

  const setSecret = (name: string, secretString: string): StoredSecret => {
    const now = Date.now();
    const existing = secrets.get(name);
    if (existing !== undefined) {
      existing.secretString = secretString;
      existing.versionId = randomUUID();
      existing.changedAt = now;
      return existing;
    }
    // The service appends six random characters to every secret ARN.
    // Six letters and digits, as the service appends; base64url would sometimes add '-' or '_'.
    const suffix = Array.from(randomBytes(6), (byte) => SUFFIX_ALPHABET[byte % SUFFIX_ALPHABET.length]).join(
      '',
    );
    const secret: StoredSecret = {
      name,
      arn: `arn:aws:secretsmanager:${region}:${ACCOUNT_ID}:secret:${name}-${suffix}`,
      createdAt: now,
      secretString,
      versionId: randomUUID(),
      changedAt: now,
    };
    secrets.set(name, secret);
    return secret;
  };

  const operations: Record<string, (input: Record<string, unknown>) => unknown> = {
    GetSecretValue(input) {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.secretString,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        // AWS JSON timestamps are epoch seconds, fractional.
        CreatedDate: secret.changedAt / 1000,
      };
    },
    PutSecretValue(input) {
      const secret = find(input.SecretId);
      if (typeof input.SecretString !== 'string') {
        throw new AwsError(400, 'InvalidParameterException', 'This emulator stores SecretString only.');
      }
      setSecret(secret.name, input.SecretString);
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
      };
    },
    DescribeSecret(input) {
      const secret = find(input.SecretId);
      return {
        ARN: secret.arn,
        Name: secret.name,
        CreatedDate: secret.createdAt / 1000,
        LastChangedDate: secret.changedAt / 1000,
        VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
      };
    },
  };

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const body = await readBody(request);
    const target = request.headers['x-amz-target'];
    const operation = typeof target === 'string' ? target.replace(/^secretsmanager\./, '') : 'Unknown';
    calls[operation] = (calls[operation] ?? 0) + 1;
    try {
      if (failure !== undefined && failure.times > 0) {
        failure.times -= 1;
        throw new AwsError(failure.status, failure.type, 'Emulated failure.');
      }
      if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith('secretsmanager.')) {
        throw new AwsError(
          400,
          'UnknownOperationException',
          'Expected POST with X-Amz-Target secretsmanager.*',
        );
      }
      const run = operations[operation];
      if (run === undefined) {
        throw new AwsError(400, 'UnknownOperationException', `${operation} is not emulated.`);
      }
      sendJson(response, 200, run(parseInput(body)));
    } catch (error) {
      if (!(error instanceof AwsError)) {
        throw error;
      }
      // The SDK takes the error code from `__type` first and `x-amzn-ErrorType` after; real answers carry both.
      sendJson(
        response,
        error.status,
        { __type: error.type, message: error.message },
        {
          'x-amzn-errortype': error.type,
        },
      );
    }
  };

  const server = await serveOnLoopback(
    handle,
    (response) => sendJson(response, 500, { __type: 'InternalServiceError', message: 'Emulator error.' }),
    options.port,
  );

  for (const [name, value] of Object.entries(options.secrets ?? {})) {
    setSecret(name, value);
  }

  return {
    url: server.url,
    calls,
    setSecret(id, secretString) {
      setSecret(id, secretString);
    },
    failNext({ times, status, type }) {
      failure = { times, status, type: type ?? defaultErrorType(status) };
    },
    close: () => server.close(),
  };
}

function defaultErrorType(status: number): string {
  if (status === 500) {
    return 'InternalServiceError';
  }
  return status === 503 ? 'ServiceUnavailable' : 'ThrottlingException';
}

function parseInput(body: string): Record<string, unknown> {
  let input: unknown;
  try {
    input = JSON.parse(body === '' ? '{}' : body);
  } catch {
    throw new AwsError(400, 'SerializationException', 'The request body is not valid JSON.');
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new AwsError(400, 'SerializationException', 'The request body must be a JSON object.');
  }
  return input as Record<string, unknown>;
}

function sendJson(
  response: ServerResponse,
  status: number,
  payload: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(payload);
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/x-amz-json-1.1',
    'content-length': Buffer.byteLength(body),
    'x-amzn-requestid': randomUUID(),
  });
  response.end(body);
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) {
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
