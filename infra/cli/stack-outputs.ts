import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { explainAwsError } from './aws-errors';
import { type AwsOptions, awsClientConfig } from './aws-options';
import { CliError } from './cli-error';

/** Output keys of `OneioRelay-<env>` (infra/oneio-relay-stack.ts) the CLI reads; pinned by a synth test. */
export const STACK_OUTPUTS = {
  tableName: 'TableName',
  credentialsSecretName: 'CredentialsSecretName',
  signingSecretsSecretName: 'SigningSecretsSecretName',
  functionName: 'FunctionName',
  webhookBaseUrl: 'WebhookBaseUrl',
} as const;

export type StackOutputKey = (typeof STACK_OUTPUTS)[keyof typeof STACK_OUTPUTS];

/** What DescribeStacks says about a deployed stack. */
export interface StackDescription {
  readonly stackName: string;
  readonly status: string;
  readonly outputs: Readonly<Record<string, string>>;
  readonly creationTime?: Date;
  /** Absent when the stack was never updated after its creation. */
  readonly lastUpdatedTime?: Date;
}

/**
 * One output of a deployed stack, read with CloudFormation DescribeStacks under the operator's credentials
 * (default chain, `--profile`, `--region`; `AWS_ENDPOINT_URL_CLOUDFORMATION` works as for any SDK client).
 */
export async function readStackOutput(
  stackName: string,
  key: StackOutputKey,
  aws: AwsOptions,
): Promise<string> {
  const stack = await describeStack(stackName, aws);
  const value = stack.outputs[key];
  if (value === undefined || value === '') {
    throw new CliError(
      `Stack ${stackName} has no output ${key} (status ${stack.status}): ` +
        `deploy the current version with \`npx cdk deploy ${stackName}\`.`,
    );
  }
  return value;
}

/** A deployed stack's status, dates and outputs; a missing stack or unusable credentials become a CliError. */
export async function describeStack(stackName: string, aws: AwsOptions): Promise<StackDescription> {
  const client = new CloudFormationClient(awsClientConfig(aws));
  try {
    const { Stacks = [] } = await client.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    const outputs: Record<string, string> = {};
    for (const output of stack?.Outputs ?? []) {
      if (output.OutputKey !== undefined && output.OutputValue !== undefined) {
        outputs[output.OutputKey] = output.OutputValue;
      }
    }
    return {
      stackName,
      status: stack?.StackStatus ?? 'unknown',
      outputs,
      ...(stack?.CreationTime !== undefined && { creationTime: stack.CreationTime }),
      ...(stack?.LastUpdatedTime !== undefined && { lastUpdatedTime: stack.LastUpdatedTime }),
    };
  } catch (error) {
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
