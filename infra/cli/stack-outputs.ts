import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { explainAwsError } from './aws-errors';
import { type AwsOptions, awsClientConfig } from './aws-options';
import { CliError } from './cli-error';

/** Output keys of `OneioRelay-<env>` (infra/oneio-relay-stack.ts) the CLI reads; pinned by a synth test. */
export const STACK_OUTPUTS = {
  tableName: 'TableName',
  credentialsSecretName: 'CredentialsSecretName',
  signingSecretsSecretName: 'SigningSecretsSecretName',
} as const;

export type StackOutputKey = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];

/**
 * One output of a deployed stack, read with CloudFormation DescribeStacks under the operator's credentials
 * (default chain, `--profile`, `--region`; `AWS_ENDPOINT_URL_CLOUDFORMATION` works as for any SDK client).
 */
export async function readStackOutput(
  stackName: string,
  key: StackOutputKey,
  aws: AwsOptions,
): Promise<string> {
  const client = new CloudFormationClient(awsClientConfig(aws));
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const value = Stacks[0]?.Outputs?.find((output) => output.OutputKey === key)?.OutputValue;
    if (value === undefined || value === '') {
      throw new CliError(
        `Stack ${stackName} has no output ${key} (status ${Stacks[0]?.StackStatus ?? 'unknown'}): ` +
          `deploy the current version with \`npx cdk deploy ${stackName}\`.`,
      );
    }
    return value;
  } catch (error) {
    if (error instanceof CliError) throw error;
    if (isMissingStack(error)) {
      const region = await client.config.region().catch(() => 'the configured region');
      throw new CliError(
        `Stack ${stackName} does not exist in ${region} for these credentials. Deploy it with ` +
          `\`npx cdk deploy ${stackName}\`, or point at the account and region where it lives ` +
          '(--profile or AWS_PROFILE, --region or AWS_REGION).',
        1,
        { cause: error },
      );
    }
    throw explainAwsError(error, 'CloudFormation', `reading the outputs of stack ${stackName}`) ?? error;
  } finally {
    client.destroy();
  }
}

/** CloudFormation answers a missing stack with a generic ValidationError; only the message tells. */
function isMissingStack(error: unknown): boolean {
  return error instanceof Error && error.name === 'ValidationError' && /does not exist/.test(error.message);
}
