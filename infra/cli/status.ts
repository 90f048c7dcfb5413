import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { tokenKey } from '../../functions/relay/app';
import { DEFAULTS, ENV } from '../../functions/relay/contract';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { qa } from '../config';
import { DEFAULT_OUTBOX_AGE_ALARM_MINUTES } from '../config-schema';
import { createLocalDynamoDbClient } from '../local/dynamodb-local';
import { readSandboxState, sandboxStatePath } from '../sandbox/sandbox-state';
import { AWS_FLAGS, awsClientConfig, awsOptionsFrom } from './aws-options';
import { CliError, usageError } from './cli-error';
import type { CliIo } from './cli-io';
import {
  RELAY_METRICS_NAMESPACE,
  relayServiceName,
  relayStackName,
  resolveEnvironment,
} from './environments';
import { withSpinner } from './spinner';
import { describeStack, STACK_OUTPUTS } from './stack-outputs';
import {
  checkAlarms,
  checkDestination,
  checkFunction,
  checkOutbox,
  checkStack,
  checkToken,
  checkTraffic,
  unreadable,
} from './status-checks';
import { type CheckName, notAvailable, renderStatus, type StatusCheck, statusReport } from './status-report';

export const STATUS_HELP = `Usage: oneio-relay status (--env <qa|prod> | --sandbox) [--json]

One screen that answers "is the relay healthy right now?": alarms in ALARM, the outbox (due and parked items, the
oldest of each), whether deliveries are paused (by whom, why, until when), the circuit breaker and ONEiO's
backoff, the shared token's expiry and last refresh (never the token), the last webhook and the last delivery in
the metrics, the deployed function and the stack's last update.

Exit code 0 when nothing is red, 1 when something is red or could not be read (so it can gate a deploy), 2 for a
wrong command line.

Options:
  --env <qa|prod>      the deployed stack OneioRelay-<env>, with your AWS credentials
  --sandbox            the running local sandbox (\`npm start\`): outbox, pause, breaker and token
  --json               the same as JSON, for scripts
  --profile <name>     AWS profile
  --region <region>    AWS region
  -h, --help           show this help
`;

/** `oneio-relay status`: health of one deployment, or of the sandbox. */
export async function status(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...AWS_FLAGS,
      env: { type: 'string' },
      sandbox: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
    strict: true,
  });
  if (values.help) {
    io.out(STATUS_HELP);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`Unexpected arguments: ${positionals.join(' ')}`, 'status');
  if (values.sandbox === true && values.env !== undefined) {
    throw usageError('Give --env or --sandbox, not both', 'status');
  }
  const now = Date.now();
  const report =
    values.sandbox === true
      ? await withSpinner(io, 'Reading the sandbox…', () => sandboxStatus(io, now))
      : await deployedStatus(values, io, now);
  io.out(
    values.json === true ? `${JSON.stringify(report, null, 2)}\n` : renderStatus(report, io.stdoutIsTTY),
  );
  return report.healthy ? 0 : 1;
}

async function deployedStatus(
  values: { env?: string | undefined; region?: string | undefined; profile?: string | undefined },
  io: CliIo,
  now: number,
) {
  if (values.env === undefined) throw usageError('Say which relay: --env <qa|prod> or --sandbox', 'status');
  const config = resolveEnvironment(values.env, 'status');
  const aws = awsOptionsFrom(values);
  const stackName = relayStackName(config.environmentName);
  // Without the stack nothing else can be found; its errors (no credentials, not deployed) end the command.
  const stack = await withSpinner(io, `Reading stack ${stackName}…`, () => describeStack(stackName, aws));
  const functionName = stack.outputs[STACK_OUTPUTS.functionName];
  const tableName = stack.outputs[STACK_OUTPUTS.tableName];
  const apiId = apiIdOf(stack.outputs[STACK_OUTPUTS.webhookBaseUrl]);
  const missing = (key: string): StatusCheck => ({
    health: 'unknown',
    summary: `stack ${stackName} has no output ${key}: deploy the current version with \`npx cdk deploy ${stackName}\``,
  });

  const dynamo = new DynamoDBClient(awsClientConfig(aws));
  try {
    const checks = await withSpinner(io, `Reading the health of ${stackName}…`, async () => {
      const [alarms, traffic, deployed] = await Promise.all([
        checkAlarms(stackName, aws),
        checkTraffic(
          {
            namespace: RELAY_METRICS_NAMESPACE,
            serviceName: relayServiceName(config.environmentName),
            ...(apiId !== undefined && { apiId }),
          },
          aws,
          now,
        ),
        functionName === undefined ? undefined : checkFunction(functionName, aws),
      ]);
      const environment = deployed?.environment;
      const overdueAfterMs = (config.outboxAgeAlarmMinutes ?? DEFAULT_OUTBOX_AGE_ALARM_MINUTES) * 60_000;
      const unreadableDestination = (check: StatusCheck) => ({ paused: check, breaker: check });
      const [outbox, token, destination] = await Promise.all([
        tableName === undefined
          ? missing(STACK_OUTPUTS.tableName)
          : readTable(
              () =>
                checkOutbox(
                  new DynamoDbOutbox(DynamoDBDocumentClient.from(dynamo), tableName),
                  overdueAfterMs,
                  now,
                ),
              `reading the outbox in table ${tableName}`,
            ),
        tableName === undefined
          ? missing(STACK_OUTPUTS.tableName)
          : environment === undefined
            ? ({
                health: 'unknown',
                summary: 'the function configuration could not be read, so neither could the token key',
              } satisfies StatusCheck)
            : readTable(
                () =>
                  checkToken(
                    DynamoDBDocumentClient.from(dynamo),
                    tableName,
                    tokenKey({
                      tokenUrl: environment[ENV.tokenUrl] ?? '',
                      credentialsSecretId: environment[ENV.credentialsSecretId] ?? '',
                    }),
                    now,
                  ),
                `reading the token item in table ${tableName}`,
              ),
        tableName === undefined
          ? unreadableDestination(missing(STACK_OUTPUTS.tableName))
          : readDestination(
              () =>
                checkDestination(
                  DynamoDBDocumentClient.from(dynamo),
                  tableName,
                  now,
                  threshold(environment?.[ENV.breakerThreshold]),
                ),
              `reading the pause and breaker in table ${tableName}`,
            ),
      ]);
      return {
        alarms,
        outbox,
        paused: destination.paused,
        breaker: destination.breaker,
        token,
        lastWebhook: traffic.lastWebhook,
        lastDelivery: traffic.lastDelivery,
        function: deployed?.check ?? missing(STACK_OUTPUTS.functionName),
        stack: checkStack(stack),
      } satisfies Record<CheckName, StatusCheck>;
    });
    const region = await dynamo.config.region().catch(() => undefined);
    return statusReport(
      config.environmentName,
      `stack ${stackName}${region === undefined ? '' : ` in ${region}`}`,
      checks,
      now,
    );
  } finally {
    dynamo.destroy();
  }
}

async function sandboxStatus(io: CliIo, now: number) {
  const state = readSandboxState(sandboxStatePath(io.env));
  if (state === undefined) throw new CliError('No sandbox is running: start one with `npm start`');
  const client = createLocalDynamoDbClient(state.dynamodbEndpoint);
  const documents = DynamoDBDocumentClient.from(client);
  const notDeployed = notAvailable('n/a in the sandbox (nothing is deployed)');
  try {
    const [outbox, token, destination] = await Promise.all([
      readTable(
        () =>
          checkOutbox(
            new DynamoDbOutbox(documents, state.tableName),
            DEFAULT_OUTBOX_AGE_ALARM_MINUTES * 60_000,
            now,
          ),
        `reading the sandbox's outbox in table ${state.tableName}`,
      ),
      state.tokenKey === undefined
        ? ({
            health: 'unknown',
            summary: 'restart the sandbox: it predates this command',
          } satisfies StatusCheck)
        : readTable(
            () => checkToken(documents, state.tableName, state.tokenKey ?? '', now),
            `reading the sandbox's token item in table ${state.tableName}`,
          ),
      readDestination(
        () =>
          checkDestination(
            documents,
            state.tableName,
            now,
            qa.oneio.breaker?.failureThreshold ?? DEFAULTS.breakerThreshold,
          ),
        `reading the sandbox's pause and breaker in table ${state.tableName}`,
      ),
    ]);
    return statusReport(
      'sandbox',
      `${state.url}, table ${state.tableName}`,
      {
        alarms: notAvailable('n/a in the sandbox (no CloudWatch); its inspector page shows every request'),
        outbox,
        paused: destination.paused,
        breaker: destination.breaker,
        token,
        lastWebhook: notAvailable('n/a in the sandbox (no metrics): see the inspector page'),
        lastDelivery: notAvailable('n/a in the sandbox (no metrics): see the inspector page'),
        function: notDeployed,
        stack: notDeployed,
      },
      now,
    );
  } finally {
    client.destroy();
  }
}

/** A table read whose failure becomes an `unknown` line instead of ending the command. */
async function readTable(read: () => Promise<StatusCheck>, action: string): Promise<StatusCheck> {
  try {
    return await read();
  } catch (error) {
    return tableFailure(error, action);
  }
}

function tableFailure(error: unknown, action: string): StatusCheck {
  if (error instanceof Error && error.name === 'ResourceNotFoundException') {
    return {
      health: 'unknown',
      summary: `${action}: the table does not exist for these credentials and region`,
    };
  }
  return unreadable(error, 'DynamoDB', action);
}

/** Both destination lines from one read; when it fails, both say why. */
async function readDestination(
  read: () => Promise<{ paused: StatusCheck; breaker: StatusCheck }>,
  action: string,
): Promise<{ paused: StatusCheck; breaker: StatusCheck }> {
  try {
    return await read();
  } catch (error) {
    const check = tableFailure(error, action);
    return { paused: check, breaker: check };
  }
}

/** The function's breaker threshold, when its configuration could be read. */
function threshold(value: string | undefined): number | undefined {
  return value === undefined || !/^\d+$/.test(value) ? undefined : Number(value);
}

/** `https://abc123.execute-api.eu-west-1.amazonaws.com/webhooks/` → `abc123`. */
function apiIdOf(webhookBaseUrl: string | undefined): string | undefined {
  return /^https:\/\/([a-z0-9]+)\.execute-api\./.exec(webhookBaseUrl ?? '')?.[1];
}
