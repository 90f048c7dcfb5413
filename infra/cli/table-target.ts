import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { createLocalDynamoDbClient } from '../local/dynamodb-local';
import { readSandboxState, sandboxStatePath } from '../sandbox/sandbox-state';
import { type AwsOptions, awsClientConfig, awsOptionsFrom } from './aws-options';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import { relayStackName, resolveEnvironment } from './environments';
import { withSpinner } from './spinner';
import { readStackOutput, STACK_OUTPUTS } from './stack-outputs';

/** The relay table a command works on, opened from `--env`, `--sandbox` or `--table`. */
export interface TableTarget {
  readonly documents: DynamoDBDocumentClient;
  readonly tableName: string;
  /** For messages: `table X of stack Y` or `the sandbox's table X`. */
  readonly where: string;
  /** `qa`, `prod`, `sandbox`, or the table name: how the operator named it (for the commands the CLI suggests). */
  readonly label: string;
  /** The flags that name the same target again, e.g. `--env qa`. */
  readonly flags: string;
  /** AWS options of a deployed table; undefined for the sandbox's DynamoDB Local. */
  readonly aws?: AwsOptions;
  close(): void;
}

export interface TableTargetFlags {
  env?: string | undefined;
  sandbox?: boolean | undefined;
  table?: string | undefined;
  region?: string | undefined;
  profile?: string | undefined;
}

/**
 * Opens the relay table: the stack's `TableName` output with the operator's AWS credentials (`--env`), the running
 * sandbox's DynamoDB Local (`--sandbox`), or a table by name through the SDK's default chain (`--table`).
 */
export async function openTableTarget(
  values: TableTargetFlags,
  io: CliIo,
  command: string,
  /** What the usage error asks for: `Say which <what>: …`. */
  what = 'relay',
): Promise<TableTarget> {
  if (values.sandbox === true) {
    if (values.env !== undefined) throw usageError('Give --env or --sandbox, not both', command);
    const state = readSandboxState(sandboxStatePath(io.env));
    if (state === undefined) {
      throw new CliError(
        'No sandbox is running: start one with `npm start` (or give its table with --table)',
      );
    }
    const tableName = values.table ?? state.tableName;
    return open(createLocalDynamoDbClient(state.dynamodbEndpoint), tableName, {
      where: `the sandbox's table ${tableName}`,
      label: 'sandbox',
      flags: '--sandbox',
    });
  }
  const aws = awsOptionsFrom(values);
  if (values.table !== undefined) {
    return open(new DynamoDBClient(awsClientConfig(aws)), values.table, {
      where: `table ${values.table}`,
      label: values.table,
      flags: `--table ${values.table}`,
      aws,
    });
  }
  if (values.env === undefined) {
    throw usageError(`Say which ${what}: --env <qa|prod>, --sandbox or --table <name>`, command);
  }
  const environment = resolveEnvironment(values.env, command).environmentName;
  const stackName = relayStackName(environment);
  const tableName = await withSpinner(io, `Reading the outputs of stack ${stackName}…`, () =>
    readStackOutput(stackName, STACK_OUTPUTS.tableName, aws),
  );
  return open(new DynamoDBClient(awsClientConfig(aws)), tableName, {
    where: `table ${tableName} of stack ${stackName}`,
    label: environment,
    flags: `--env ${environment}`,
    aws,
  });
}

function open(
  client: DynamoDBClient,
  tableName: string,
  about: { where: string; label: string; flags: string; aws?: AwsOptions },
): TableTarget {
  return {
    documents: DynamoDBDocumentClient.from(client),
    tableName,
    ...about,
    close: () => client.destroy(),
  };
}
