import { parseArgs } from 'node:util';
import { createHttpAgent } from '../../functions/relay/io/oneio/http-agent';
import { AWS_FLAGS, awsOptionsFrom } from './aws-options';
import type { CliIo } from './cli-io';
import { readCredentials, requestToken, resolveOneioTarget, TARGET_FLAGS } from './oneio-access';

export const CHECK_HELP = `Usage: oneio-relay check --env <qa|prod> [options]

Reads the environment's ONEiO credentials from Secrets Manager (the secret named by the CredentialsSecretName
output of stack OneioRelay-<env>) with your AWS credentials, asks ONEiO's token endpoint for a token, and prints
its expiry and scope. The token itself is never printed.

Options:
  --env <qa|prod>         environment (ONEiO URLs from infra/config.ts, stack OneioRelay-<env>)
  --profile <name>        AWS profile (default: the SDK's default chain, e.g. AWS_PROFILE)
  --region <region>       AWS region of the stack (default: AWS_REGION or the profile's region)
  --secret-id <id>        read this secret instead of looking the stack up
  --token-url <url>       use this token endpoint instead of the environment's
  -h, --help              show this help
`;

/** `oneio-relay check`: can this environment's relay get a token? */
export async function check(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { ...TARGET_FLAGS, ...AWS_FLAGS, help: { type: 'boolean', short: 'h' } },
    strict: true,
  });
  if (values.help) {
    io.out(CHECK_HELP);
    return 0;
  }
  const aws = awsOptionsFrom(values);
  const target = await resolveOneioTarget(values, aws, io, 'check');
  const credentials = await readCredentials(target.credentialsSecretId, aws, io);
  const agent = createHttpAgent();
  try {
    const token = await requestToken(target.tokenUrl, credentials, agent, io, target.credentialsSecretId);
    const expiresAt = new Date(token.requestedAt + token.expiresInSeconds * 1000);
    io.out(
      [
        `OK: ONEiO issued a token for ${target.environmentName}.`,
        `  credentials secret  ${target.credentialsSecretId} (client_id ${credentials.clientId})`,
        `  token endpoint      ${target.tokenUrl}`,
        `  scope               ${token.scope ?? '(none given)'}`,
        `  expires             in ${duration(token.expiresInSeconds)}, at ${expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await agent.close();
  }
}

function duration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
