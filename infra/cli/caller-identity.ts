import { hostname, userInfo } from 'node:os';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { type AwsOptions, awsClientConfig } from './aws-options';

/** STS answers in milliseconds; a pause must not wait long for a name. */
const STS_TIMEOUT_MS = 3_000;

/**
 * Who is running this command, for the record of a pause: the AWS identity's ARN from STS GetCallerIdentity (it
 * needs no permission, and names the role and session of an SSO or assumed-role login), or, when there is no AWS
 * identity to ask about (the sandbox) or STS cannot be reached, the OS user, marked as such.
 */
export async function callerIdentity(aws: AwsOptions | undefined): Promise<string> {
  if (aws !== undefined) {
    const client = new STSClient({
      ...awsClientConfig(aws),
      maxAttempts: 1,
      requestHandler: {
        connectionTimeout: STS_TIMEOUT_MS,
        requestTimeout: STS_TIMEOUT_MS,
        throwOnRequestTimeout: true,
      },
    });
    try {
      const { Arn } = await client.send(new GetCallerIdentityCommand({}));
      if (Arn) return Arn;
    } catch {
      // Fall through to the OS user: the pause matters more than the name on it.
    } finally {
      client.destroy();
    }
  }
  return `${osUser()}@${hostname()} (OS user)`;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
}
