import { errorCode } from '../../functions/relay/io/error-code';
import { CliError } from './cli-error';

/** The AWS answers that mean "these credentials are no good", whatever the service. */
const REJECTED_CREDENTIALS = new Set([
  'ExpiredToken',
  'ExpiredTokenException',
  'InvalidClientTokenId',
  'InvalidAccessKeyId',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'SignatureDoesNotMatch',
]);
const ACCESS_DENIED = new Set(['AccessDenied', 'AccessDeniedException']);
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
]);

/**
 * Turns the AWS SDK failures every command can hit (no credentials, no region, rejected credentials, access
 * denied, endpoint unreachable) into one clear sentence about what to do. Looks through `cause` chains, since the
 * relay's own adapters wrap SDK errors. Undefined when the error is none of these.
 */
export function explainAwsError(error: unknown, service: string, action: string): CliError | undefined {
  for (
    let current = error, depth = 0;
    current instanceof Error && depth < 4;
    current = current.cause, depth++
  ) {
    const name = current.name;
    if (name === 'CredentialsProviderError') {
      return new CliError(
        `No usable AWS credentials for ${action} (${current.message}).\n` +
          'Sign in first, e.g. `aws sso login --profile <name>` and pass `--profile <name>` (or set AWS_PROFILE), ' +
          'or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY.',
        1,
        { cause: error },
      );
    }
    if (current.message === 'Region is missing') {
      return new CliError(
        `No AWS region for ${action}: pass --region, set AWS_REGION, or use a profile that has a region.`,
        1,
        { cause: error },
      );
    }
    if (REJECTED_CREDENTIALS.has(name)) {
      return new CliError(
        `AWS rejected the credentials while ${action} (${name}): they are expired or invalid. Sign in again.`,
        1,
        { cause: error },
      );
    }
    if (ACCESS_DENIED.has(name)) {
      return new CliError(`AWS ${service} denied access while ${action} (${name}): ${current.message}`, 1, {
        cause: error,
      });
    }
    const code = errorCode(current);
    if (NETWORK.has(code)) {
      // The SDK's per-service endpoint variable, e.g. AWS_ENDPOINT_URL_SECRETS_MANAGER: worth a look when set.
      const variable = `AWS_ENDPOINT_URL_${service.toUpperCase().replaceAll(' ', '_')}`;
      const hint = process.env[variable] ? ` and ${variable} (${process.env[variable]})` : '';
      return new CliError(
        `Cannot reach AWS ${service} while ${action} (${code}): check the network, proxy or VPN${hint}.`,
        1,
        { cause: error },
      );
    }
  }
  return undefined;
}
