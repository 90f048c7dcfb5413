import { parseArgs } from 'node:util';
import type { Dispatcher } from 'undici';
import { createHttpAgent } from '../../functions/relay/io/oneio/http-agent';
import { AWS_FLAGS, awsOptionsFrom } from './aws-options';
import { CliError } from './cli-error';
import type { CliIo } from './cli-io';
import {
  type CredentialPair,
  type OneioTarget,
  readCredentialPairs,
  requestToken,
  resolveOneioTarget,
  TARGET_FLAGS,
} from './oneio-access';

export const CHECK_HELP = `Usage: oneio-relay check --env <qa|prod> [options]

Reads the environment's ONEiO credentials from Secrets Manager (the secret named by the CredentialsSecretName
output of stack OneioRelay-<env>) with your AWS credentials, asks ONEiO's token endpoint for a token with the
default pair and with the pair of every named endpoint of the environment (oneio.endpoints in infra/config.ts),
and prints each token's expiry and scope. A token itself is never printed. Exits 1 when any pair fails.

Options:
  --env <qa|prod>         environment (ONEiO URLs and endpoints from infra/config.ts, stack OneioRelay-<env>)
  --profile <name>        AWS profile (default: the SDK's default chain, e.g. AWS_PROFILE)
  --region <region>       AWS region of the stack (default: AWS_REGION or the profile's region)
  --secret-id <id>        read this secret instead of looking the stack up
  --token-url <url>       use this token endpoint instead of the environment's
  -h, --help              show this help
`;

/** `oneio-relay check`: can this environment's relay get a token, with every credential pair it uses? */
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
  const pairs = await readCredentialPairs(
    target.credentialsSecretId,
    [undefined, ...target.endpoints],
    aws,
    io,
  );
  const agent = createHttpAgent();
  try {
    const checked: Checked[] = [];
    for (const pair of pairs) checked.push(await checkPair(pair, target, agent, io));
    const [first] = checked;
    // The default pair alone (no named endpoint): its failure is the command's error, as it always was.
    if (checked.length === 1 && first?.outcome instanceof CliError) throw first.outcome;
    io.out(report(checked, target));
    const failures = checked.flatMap((c) =>
      c.outcome instanceof CliError ? [`${pairName(c.endpoint)}: ${c.outcome.message}`] : [],
    );
    if (failures.length > 0) {
      throw new CliError(
        `${failures.length} of the ${checked.length} credential pairs got no token:\n  ${failures.join('\n  ')}`,
      );
    }
    return 0;
  } finally {
    await agent.close();
  }
}

interface Checked {
  readonly endpoint: string | undefined;
  readonly clientId: string | undefined;
  readonly outcome: Awaited<ReturnType<typeof requestToken>> | CliError;
}

async function checkPair(
  pair: CredentialPair,
  target: OneioTarget,
  agent: Dispatcher,
  io: CliIo,
): Promise<Checked> {
  const { endpoint, credentials } = pair;
  if (credentials instanceof CliError) return { endpoint, clientId: undefined, outcome: credentials };
  try {
    const token = await requestToken(target.tokenUrl, credentials, agent, io, target.credentialsSecretId);
    return { endpoint, clientId: credentials.clientId, outcome: token };
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    return { endpoint, clientId: credentials.clientId, outcome: error };
  }
}

function pairName(endpoint: string | undefined): string {
  return endpoint === undefined ? 'the default pair' : `endpoint ${endpoint}`;
}

/** What each pair got; the pairs that failed say so in one line (the error says why). */
function report(checked: readonly Checked[], target: OneioTarget): string {
  const failed = checked.filter((c) => c.outcome instanceof CliError).length;
  const pairs = checked.length === 1 ? '' : `, for each of its ${checked.length} credential pairs`;
  const headline =
    failed === 0
      ? `OK: ONEiO issued a token for ${target.environmentName}${pairs}.`
      : `FAILED: ${failed} of the ${checked.length} credential pairs of ${target.environmentName} got no token.`;
  const lines = [headline];
  for (const c of checked) {
    const label = c.endpoint === undefined ? 'credentials secret' : `endpoint ${c.endpoint}`;
    const secret = c.endpoint === undefined ? `${target.credentialsSecretId} ` : '';
    const who = c.clientId === undefined ? '' : `(client_id ${c.clientId})`;
    lines.push(`  ${label.padEnd(18)}  ${secret}${who}`.trimEnd());
    if (c.endpoint === undefined) lines.push(`  token endpoint      ${target.tokenUrl}`);
    if (c.outcome instanceof CliError) {
      lines.push('  token               none (see the error below)');
      continue;
    }
    const expiresAt = new Date(c.outcome.requestedAt + c.outcome.expiresInSeconds * 1000);
    lines.push(
      `  scope               ${c.outcome.scope ?? '(none given)'}`,
      `  expires             in ${duration(c.outcome.expiresInSeconds)}, at ${expiresAt.toISOString().replace(/\.\d{3}Z$/, 'Z')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

function duration(seconds: number): string {
  const minutes = Math.floor(seconds / 60);
  const rest = Math.round(seconds % 60);
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}
