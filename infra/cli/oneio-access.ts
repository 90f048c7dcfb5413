import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Dispatcher } from 'undici';
import {
  OneioEndpointUnconfiguredError,
  SecretError,
  TokenEndpointError,
} from '../../functions/relay/core/errors';
import { errorCode } from '../../functions/relay/io/error-code';
import { OneioTokenEndpoint } from '../../functions/relay/io/oneio/token-endpoint';
import { SecretsManagerCredentialsProvider } from '../../functions/relay/io/secrets-manager/credentials-provider';
import { JsonSecret } from '../../functions/relay/io/secrets-manager/json-secret';
import type { ClientCredentials } from '../../functions/relay/ports/credentials-provider';
import type { IssuedToken } from '../../functions/relay/ports/oneio';
import { explainAwsError } from './aws-errors';
import { type AwsOptions, awsClientConfig } from './aws-options';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import { relayStackName, resolveEnvironment } from './environments';
import { withSpinner } from './spinner';
import { readStackOutput, STACK_OUTPUTS } from './stack-outputs';

/** How long the CLI waits for ONEiO: long enough for a slow VPN, short enough to give a clear error. */
export const ONEIO_TIMEOUT_MS = 15_000;

/** Where one environment's ONEiO is and which secret holds its credentials. */
export interface OneioTarget {
  readonly environmentName: string;
  readonly stackName: string;
  readonly credentialsSecretId: string;
  readonly tokenUrl: string;
  readonly receiverUrl: string;
  /** The environment's named ONEiO endpoints (`oneio.endpoints` in infra/config.ts), each a pair in the secret. */
  readonly endpoints: readonly string[];
}

export interface TargetFlags {
  readonly env?: string | undefined;
  readonly 'secret-id'?: string | undefined;
  readonly 'token-url'?: string | undefined;
  readonly 'receiver-url'?: string | undefined;
}

export const TARGET_FLAGS = {
  env: { type: 'string' },
  'secret-id': { type: 'string' },
  'token-url': { type: 'string' },
  'receiver-url': { type: 'string' },
} as const;

/**
 * ONEiO URLs from infra/config.ts for `--env`, the credentials secret from the stack's `CredentialsSecretName`
 * output. `--secret-id`, `--token-url` and `--receiver-url` replace a piece each (and `--secret-id` skips
 * CloudFormation altogether): for a secret kept elsewhere, or a local stand-in.
 */
export async function resolveOneioTarget(
  flags: TargetFlags,
  aws: AwsOptions,
  io: CliIo,
  command: string,
): Promise<OneioTarget> {
  const environment = resolveEnvironment(flags.env, command);
  const stackName = relayStackName(environment.environmentName);
  const tokenUrl = httpUrl(flags['token-url'] ?? environment.oneio.tokenUrl, '--token-url', command);
  const receiverUrl = httpUrl(
    flags['receiver-url'] ?? environment.oneio.receiverUrl,
    '--receiver-url',
    command,
  );
  const credentialsSecretId =
    flags['secret-id'] ??
    (await withSpinner(io, `Reading the outputs of stack ${stackName}…`, () =>
      readStackOutput(stackName, STACK_OUTPUTS.credentialsSecretName, aws),
    ));
  return {
    environmentName: environment.environmentName,
    stackName,
    credentialsSecretId,
    tokenUrl,
    receiverUrl,
    endpoints: environment.oneio.endpoints ?? [],
  };
}

/** The ONEiO client credentials from the secret, read as the function reads them (same adapter, same rules). */
export async function readCredentials(
  secretId: string,
  aws: AwsOptions,
  io: CliIo,
): Promise<ClientCredentials> {
  const [pair] = await readCredentialPairs(secretId, [undefined], aws, io);
  if (pair === undefined) throw new Error('unreachable: one pair was asked for');
  if (pair.credentials instanceof CliError) throw pair.credentials;
  return pair.credentials;
}

/** One credential pair of the secret: the default pair (`endpoint` undefined) or a named ONEiO endpoint's. */
export interface CredentialPair {
  readonly endpoint: string | undefined;
  /** The pair, or what is wrong with it (missing, incomplete), said for an operator. */
  readonly credentials: ClientCredentials | CliError;
}

/**
 * The credential pairs of `endpoints` from one read of the secret, read as the function reads them (same adapter,
 * same rules). A secret that cannot be read at all fails the whole call; a pair that is missing or incomplete is
 * reported with that pair, so the others can still be checked.
 */
export async function readCredentialPairs(
  secretId: string,
  endpoints: readonly (string | undefined)[],
  aws: AwsOptions,
  io: CliIo,
): Promise<CredentialPair[]> {
  const client = new SecretsManagerClient(awsClientConfig(aws));
  const secret = new JsonSecret(client, secretId);
  try {
    await withSpinner(io, `Reading secret ${secretId}…`, () => secret.read());
    const pairs: CredentialPair[] = [];
    for (const endpoint of endpoints) {
      try {
        pairs.push({
          endpoint,
          credentials: await new SecretsManagerCredentialsProvider(secret, endpoint).get(),
        });
      } catch (error) {
        pairs.push({ endpoint, credentials: explainPairError(error, secretId) });
      }
    }
    return pairs;
  } catch (error) {
    if (!(error instanceof SecretError)) throw error;
    const explained = explainAwsError(error, 'Secrets Manager', `reading secret ${secretId}`);
    if (explained !== undefined) throw explained;
    if (error.cause instanceof Error && error.cause.name === 'ResourceNotFoundException') {
      const region = await client.config.region().catch(() => 'the configured region');
      throw new CliError(
        `Secret ${secretId} does not exist in ${region} for these credentials (ResourceNotFoundException).`,
        1,
        { cause: error },
      );
    }
    // The adapter's messages name the secret and what is wrong with it, never its value.
    const fix = /JSON/.test(error.message)
      ? `: it must hold {"client_id": "…", "client_secret": "…"} (aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://credentials.json)`
      : '';
    throw new CliError(`${error.message}${fix}`, 1, { cause: error });
  } finally {
    client.destroy();
  }
}

function explainPairError(error: unknown, secretId: string): CliError {
  if (error instanceof OneioEndpointUnconfiguredError) {
    return new CliError(
      `${error.message} (aws secretsmanager put-secret-value --secret-id ${secretId} --secret-string file://credentials.json)`,
      1,
      { cause: error },
    );
  }
  // The adapter's messages name the secret and the field, never a value.
  if (error instanceof SecretError) return new CliError(error.message, 1, { cause: error });
  throw error;
}

/** A token from the token endpoint, with the time the request was sent (expiry counts from it). */
export async function requestToken(
  tokenUrl: string,
  credentials: ClientCredentials,
  dispatcher: Dispatcher,
  io: CliIo,
  secretId: string,
): Promise<IssuedToken & { readonly requestedAt: number }> {
  const endpoint = new OneioTokenEndpoint(tokenUrl, dispatcher);
  const requestedAt = Date.now();
  try {
    const token = await withSpinner(io, `Requesting a token from ${tokenUrl}…`, () =>
      endpoint.requestToken(credentials, { signal: AbortSignal.timeout(ONEIO_TIMEOUT_MS) }),
    );
    return { ...token, requestedAt };
  } catch (error) {
    throw explainTokenError(error, tokenUrl, secretId) ?? error;
  }
}

function explainTokenError(error: unknown, tokenUrl: string, secretId: string): CliError | undefined {
  if (!(error instanceof TokenEndpointError)) return undefined;
  switch (error.reason) {
    case 'invalid_client':
      return new CliError(
        `ONEiO rejected the client credentials (${error.message.replace(/^Token endpoint rejected the client credentials: /, '')}) ` +
          `at ${tokenUrl}: client_id and client_secret in secret ${secretId} must be the username and password of ` +
          'the ONEiO endpoint.',
        1,
        { cause: error },
      );
    case 'network':
      return new CliError(
        `Cannot reach ONEiO's token endpoint ${tokenUrl} (${errorCode(error.cause)}): check the network, proxy or VPN.`,
        1,
        { cause: error },
      );
    default:
      return new CliError(`ONEiO's token endpoint ${tokenUrl} failed: ${error.message}`, 1, { cause: error });
  }
}

function httpUrl(value: string, flag: string, command: string): string {
  try {
    const url = new URL(value);
    if (url.protocol === 'https:' || url.protocol === 'http:') return url.toString();
  } catch {
    // Reported below.
  }
  throw usageError(`${flag} must be an http(s) URL (got ${JSON.stringify(value)})`, command);
}
