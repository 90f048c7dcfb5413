import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { tokenKey } from '../../functions/relay/app';
import { DESTINATION_KEY, ENV, TABLE } from '../../functions/relay/contract';
import { DynamoDbDestinationStore } from '../../functions/relay/io/dynamodb/destination-store';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { DynamoDbTokenStore } from '../../functions/relay/io/dynamodb/token-store';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import { RELAY_METRICS_NAMESPACE, relayServiceName } from '../../infra/cli/environments';
import { qa } from '../../infra/config';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from '../../infra/local/cloudformation-emulator';
import { type CloudWatchEmulator, startCloudWatchEmulator } from '../../infra/local/cloudwatch-emulator';
import { type LambdaEmulator, startLambdaEmulator } from '../../infra/local/lambda-emulator';
import { METRICS_NAMESPACE, relayServiceName as stackServiceName } from '../../infra/oneio-relay';
import { writeSandboxState } from '../../infra/sandbox/sandbox-state';
import { synthRelayApp } from '../infra/relay-app';
import { createTestTable } from '../support/dynamodb';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

const STACK = 'OneioRelay-qa';
const FUNCTION = 'OneioRelay-qa-RelayHandler-abc123';
const API_ID = 'a1b2c3d4e5';
const TOKEN_URL = 'https://receiver-authz-test.service-flow.com/oauth2/token';
const SECRET_ID = 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:OneioRelayqaCredentials-AbCdEf';
const ACCESS_TOKEN = `token-${randomUUID()}`;
const MINUTE = 60_000;

/**
 * `status` against the real DynamoDB Local and the CloudFormation, Lambda and CloudWatch stand-ins, reached the
 * way the deployed stack is reached (stack outputs, the function's configuration, the SDK's endpoint variables).
 */
describe('oneio-relay status', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let outbox: DynamoDbOutbox;
  let tokens: DynamoDbTokenStore;
  let cloudformation: CloudFormationEmulator;
  let lambda: LambdaEmulator;
  let cloudwatch: CloudWatchEmulator;
  let stateDir: string;
  const key = tokenKey({ tokenUrl: TOKEN_URL, credentialsSecretId: SECRET_ID });

  beforeAll(async () => {
    ({ client, tableName } = await createTestTable());
    const documents = DynamoDBDocumentClient.from(client);
    outbox = new DynamoDbOutbox(documents, tableName);
    tokens = new DynamoDbTokenStore(documents, tableName);
    [cloudformation, lambda, cloudwatch] = await Promise.all([
      startCloudFormationEmulator(),
      startLambdaEmulator(),
      startCloudWatchEmulator(),
    ]);
    stateDir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-status-'));
  });

  afterAll(async () => {
    await Promise.all([cloudformation.close(), lambda.close(), cloudwatch.close()]);
    rmSync(stateDir, { recursive: true, force: true });
  });

  beforeEach(async () => {
    stubAwsEnvironment({
      ...LOCAL_AWS,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
      AWS_ENDPOINT_URL_LAMBDA: lambda.url,
      AWS_ENDPOINT_URL_CLOUDWATCH: cloudwatch.url,
    });
    // A healthy deployment: every alarm OK, a fresh token, traffic a few minutes ago, nothing in the outbox.
    cloudformation.setStack(
      STACK,
      {
        TableName: tableName,
        FunctionName: FUNCTION,
        WebhookBaseUrl: `https://${API_ID}.execute-api.eu-west-1.amazonaws.com/webhooks/`,
      },
      { creationTime: new Date('2025-04-01T08:00:00Z'), lastUpdatedTime: new Date('2025-05-01T12:00:00Z') },
    );
    lambda.setFunction({
      name: FUNCTION,
      codeSha256: 'q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQ=',
      lastModified: new Date('2025-05-01T12:01:30Z'),
      environment: {
        [ENV.tokenUrl]: TOKEN_URL,
        [ENV.credentialsSecretId]: SECRET_ID,
        [ENV.tableName]: tableName,
      },
    });
    for (const name of ['FunctionErrors', 'OutboxParked', 'TokenRefreshFailed']) {
      cloudwatch.setAlarm({ name: `${STACK}-RelayAlarms${name}1A2B3C4D-ABCDEFGH1234`, state: 'OK' });
    }
    await publishToken(Date.now() - 10 * MINUTE, Date.now() + 50 * MINUTE);
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const state of ['due', 'parked'] as const) {
      for (const item of await outbox.list(state, 100)) await outbox.purge(item.relayId);
    }
    for (const item of [key, DESTINATION_KEY]) {
      await DynamoDBDocumentClient.from(client).send(
        new DeleteCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: item } }),
      );
    }
  });

  /** The token item as the relay writes it: lease, then a fenced publish. */
  async function publishToken(issuedAt: number, expiresAt: number): Promise<void> {
    const owner = randomUUID();
    await tokens.tryAcquireLease(key, { owner, until: Date.now() + 10_000 }, Date.now(), undefined);
    await tokens.publish(key, owner, {
      accessToken: ACCESS_TOKEN,
      issuedAt,
      expiresAt,
      version: randomUUID(),
    });
  }

  async function addItem(state: 'due' | 'parked', fields: Partial<OutboxItem> = {}): Promise<void> {
    const item: OutboxItem = {
      relayId: randomUUID(),
      source: 'github',
      deliveryId: randomUUID(),
      body: '{"a":1}',
      state: 'due',
      attempts: 2,
      retries: 1,
      firstSeenAt: Date.now() - 5 * MINUTE,
      receivedAt: Date.now() - 5 * MINUTE,
      dueAt: Date.now() + MINUTE,
      lastError: 'ONEiO receiver answered 503',
      ...fields,
    };
    // Stored as the sweep leaves it: a parked item carries its park time and ONEiO's refusal.
    await outbox.add(
      state === 'parked'
        ? {
            ...item,
            state,
            attempts: 9,
            dueAt: Date.now() - 30 * MINUTE,
            lastError: 'ONEiO receiver answered 400',
          }
        : item,
    );
  }

  function traffic(
    metricName: string,
    minutesAgo: number,
    dimensions: Record<string, string>,
    namespace: string,
  ) {
    cloudwatch.putDatapoint({
      namespace,
      metricName,
      dimensions,
      timestamp: new Date(Date.now() - minutesAgo * MINUTE),
      value: 1,
    });
  }

  it('shows a healthy deployment on one screen and exits 0, without the token', async () => {
    // Prepare
    traffic('Count', 3, { ApiId: API_ID }, 'AWS/ApiGateway');
    traffic('MessageDelivered', 4, { service: 'oneio-relay-qa' }, 'OneioRelay');
    // Another environment's delivery, later: must not count for QA.
    traffic('MessageDelivered', 1, { service: 'oneio-relay-prod' }, 'OneioRelay');

    // Act
    const run = await runCli(['status', '--env', 'qa']);

    // Assess
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const lines = run.out.split('\n');
    expect(lines[0]).toMatch(
      /^oneio-relay qa: stack OneioRelay-qa in eu-west-1, \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
    );
    expect(lines.slice(1, 10)).toEqual([
      '  ✔ alarms         none of 3 in ALARM',
      '  ✔ outbox         0 due · 0 parked',
      '  ✔ paused         no',
      '  ✔ breaker        closed',
      expect.stringMatching(/^ {2}✔ token {10}expires in 4\d min \(.+Z\), last refresh 10 min ago$/),
      expect.stringMatching(/^ {2}✔ last webhook {3}3 min ago \(the minute from .+Z\)$/),
      expect.stringMatching(/^ {2}✔ last delivery {2}4 min ago \(the minute from .+Z\)$/),
      '  ✔ function       $LATEST · code q83vEjRWeJCr… · deployed 2025-05-01 12:01:30Z · Active',
      '  ✔ stack          UPDATE_COMPLETE, last updated 2025-05-01 12:00:00Z',
    ]);
    expect(lines[10]).toBe('Healthy.');
    expect(run.out).not.toContain(ACCESS_TOKEN);
    expect(cloudwatch.calls.GetMetricData).toBeGreaterThan(0);
  });

  it('exits 1 and names what is red: an alarm in ALARM and a parked message', async () => {
    cloudwatch.setAlarm({
      name: `${STACK}-RelayAlarmsOutboxParked1A2B3C4D-ABCDEFGH1234`,
      state: 'ALARM',
      updatedAt: new Date('2025-05-02T06:00:00Z'),
    });
    await addItem('parked');
    await addItem('due');

    const run = await runCli(['status', '--env', 'qa']);

    expect(run.code).toBe(1);
    expect(run.out).toContain(
      '  ✖ alarms         1 of 3 in ALARM: RelayAlarmsOutboxParked1A2B3C4D since 2025-05-02 06:00:00Z',
    );
    expect(run.out).toMatch(
      / {2}✖ outbox {9}1 due \(oldest received 5 min ago\) · 1 parked \(oldest since 30 min ago\)\n/,
    );
    expect(run.out).toContain('Not healthy: alarms, outbox.');
  });

  it('counts a due message older than the overdue alarm threshold as red', async () => {
    await addItem('due', { firstSeenAt: Date.now() - ((qa.outboxAgeAlarmMinutes ?? 60) + 5) * MINUTE });

    const run = await runCli(['status', '--env', 'qa', '--json']);

    expect(run.code).toBe(1);
    const report = JSON.parse(run.out);
    expect(report.checks.outbox).toMatchObject({ health: 'red', data: { due: 1, parked: 0 } });
    expect(report.checks.outbox.summary).toContain('overdue: older than 60 min');
  });

  it('prints JSON for scripts with the same verdict, and a due message as a warning only', async () => {
    await addItem('due');

    const run = await runCli(['status', '--env', 'qa', '--json']);

    expect(run.code).toBe(0);
    const report = JSON.parse(run.out);
    expect(report).toMatchObject({
      target: 'qa',
      healthy: true,
      checks: {
        alarms: { health: 'ok', data: { total: 3, inAlarm: [] } },
        outbox: { health: 'warn', data: { due: 1, parked: 0 } },
        paused: { health: 'ok', data: { paused: false } },
        breaker: { health: 'ok', data: { state: 'closed', failures: 0 } },
        token: { health: 'ok', data: { refreshInProgress: false } },
        lastWebhook: { health: 'ok' },
        function: { health: 'ok', data: { functionName: FUNCTION, version: '$LATEST', state: 'Active' } },
        stack: { health: 'ok', data: { status: 'UPDATE_COMPLETE' } },
      },
    });
    expect(run.out).not.toContain(ACCESS_TOKEN);
  });

  it('shows a pause with who, why and until when, as a warning that does not fail the check', async () => {
    // Prepare: paused 20 minutes ago for two hours, as `oneio-relay pause` records it
    const destination = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
    const at = Date.now() - 20 * MINUTE;
    await destination.pause(DESTINATION_KEY, {
      at,
      until: at + 120 * MINUTE,
      by: 'arn:aws:sts::000000000000:assumed-role/Operator/alice',
      reason: 'ONEiO maintenance',
    });
    await addItem('due', { firstSeenAt: Date.now() - 10 * MINUTE });

    // Act
    const run = await runCli(['status', '--env', 'qa']);
    const json = JSON.parse((await runCli(['status', '--env', 'qa', '--json'])).out);

    // Assess: who, why, until when; the backlog and its age on the outbox line
    expect(run.code).toBe(0);
    expect(run.out).toMatch(
      / {2}! paused {9}yes, by arn:aws:sts::000000000000:assumed-role\/Operator\/alice since \S+ \S+Z \(20 min ago\), until \S+ \S+Z \(in 1 h 39 min\): ONEiO maintenance\n/,
    );
    expect(run.out).toContain('  ! outbox         1 due (oldest received 10 min ago) · 0 parked');
    expect(json.checks.paused).toMatchObject({
      health: 'warn',
      data: { paused: true, reason: 'ONEiO maintenance', until: new Date(at + 120 * MINUTE).toISOString() },
    });
  });

  it('shows an open breaker as red with its next probe, and ONEiO’s backoff beside it', async () => {
    // Prepare: five failures in a row opened the breaker a minute ago; ONEiO asked to wait 2 more minutes
    const destination = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
    const openedAt = Date.now() - MINUTE;
    for (let i = 0; i < 5; i++) {
      await destination.recordFailure(DESTINATION_KEY, {
        now: openedAt,
        threshold: 5,
        coolDownMs: 5 * MINUTE,
      });
    }
    await destination.extendNotBefore(DESTINATION_KEY, Date.now() + 2 * MINUTE + 30_000);

    // Act
    const run = await runCli(['status', '--env', 'qa']);

    // Assess
    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      / {2}✖ breaker {8}open since \S+ \S+Z \(1 min ago\), ONEiO kept failing; probe from \S+ \S+Z \(in 3 min\) · ONEiO asked to wait until \S+ \S+Z \(in 2 min\)\n/,
    );
    expect(run.out).toContain('Not healthy: breaker.');
  });

  it('dates the next probe at ONEiO’s Retry-After when that ends after the cool-down', async () => {
    // Prepare: the breaker's cool-down is over, but ONEiO asked for 10 more minutes
    const destination = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
    for (let i = 0; i < 5; i++) {
      await destination.recordFailure(DESTINATION_KEY, {
        now: Date.now() - 2 * MINUTE,
        threshold: 5,
        coolDownMs: MINUTE,
      });
    }
    await destination.extendNotBefore(DESTINATION_KEY, Date.now() + 10 * MINUTE + 30_000);

    // Act
    const run = await runCli(['status', '--env', 'qa', '--json']);

    // Assess
    const { checks } = JSON.parse(run.out) as { checks: Record<string, { data?: Record<string, unknown> }> };
    expect(checks.breaker?.data).toMatchObject({ state: 'open' });
    expect(Date.parse(String(checks.breaker?.data?.probeFrom))).toBeGreaterThan(Date.now() + 10 * MINUTE);
  });

  it('marks what it could not read as unknown, says why, and exits 1', async () => {
    cloudformation.setStack(STACK, {
      TableName: tableName,
      FunctionName: 'not-deployed',
      WebhookBaseUrl: `https://${API_ID}.execute-api.eu-west-1.amazonaws.com/webhooks/`,
    });

    const run = await runCli(['status', '--env', 'qa']);

    expect(run.code).toBe(1);
    expect(run.out).toMatch(
      / {2}\? function {7}reading the configuration of function not-deployed failed: ResourceNotFoundException/,
    );
    expect(run.out).toContain(
      '  ? token          the function configuration could not be read, so neither could the token key',
    );
    expect(run.out).toContain('Not healthy: token, function.');
  });

  it('reports a failed deployment as red', async () => {
    lambda.setFunction({
      name: FUNCTION,
      lastUpdateStatus: 'Failed',
      environment: { [ENV.tokenUrl]: TOKEN_URL },
    });
    cloudformation.setStack(
      STACK,
      { TableName: tableName, FunctionName: FUNCTION },
      { status: 'UPDATE_ROLLBACK_COMPLETE', lastUpdatedTime: new Date('2025-05-03T00:00:00Z') },
    );

    const run = await runCli(['status', '--env', 'qa', '--json']);

    const report = JSON.parse(run.out);
    expect(run.code).toBe(1);
    expect(report.checks.stack.health).toBe('red');
    expect(report.checks.function).toMatchObject({
      health: 'red',
      summary: expect.stringContaining('(last update Failed)'),
    });
    expect(report.checks.lastWebhook).toMatchObject({ health: 'unknown' });
  });

  it('says how to deploy when the stack does not exist, and how to sign in without credentials', async () => {
    const missing = await runCli(['status', '--env', 'prod']);
    stubAwsEnvironment({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url });
    const unsigned = await runCli(['status', '--env', 'qa']);

    expect(missing.code).toBe(1);
    expect(missing.err).toContain(
      'Stack OneioRelay-prod does not exist in eu-west-1 for these credentials. Deploy it with `npx cdk deploy OneioRelay-prod`',
    );
    expect(unsigned.code).toBe(1);
    expect(unsigned.err).toContain('No usable AWS credentials');
    expect(unsigned.err).toContain('aws sso login');
  });

  it('explains its usage errors with exit code 2', async () => {
    const none = await runCli(['status']);
    const both = await runCli(['status', '--env', 'qa', '--sandbox']);
    const unknownEnv = await runCli(['status', '--env', 'staging']);

    expect([none.code, both.code, unknownEnv.code]).toEqual([2, 2, 2]);
    expect(none.err).toContain('Say which relay: --env <qa|prod> or --sandbox');
    expect(both.err).toContain('Give --env or --sandbox, not both');
    expect(unknownEnv.err).toContain('Unknown environment "staging"');
  });

  it('reads the running sandbox: outbox and token from its table, the rest not applicable', async () => {
    const stateFile = path.join(stateDir, 'state.json');
    writeSandboxState(stateFile, {
      pid: process.pid,
      url: 'http://127.0.0.1:3000',
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
      tokenKey: key,
    });
    await addItem('due');

    const run = await runCli(['status', '--sandbox'], { env: { ONEIO_RELAY_SANDBOX_STATE: stateFile } });
    const none = await runCli(['status', '--sandbox'], {
      env: { ONEIO_RELAY_SANDBOX_STATE: path.join(stateDir, 'none.json') },
    });

    expect(run.code).toBe(0);
    expect(run.out).toContain(`oneio-relay sandbox: http://127.0.0.1:3000, table ${tableName}, `);
    expect(run.out).toContain('  ! outbox         1 due (oldest received 5 min ago) · 0 parked');
    expect(run.out).toContain('  ✔ paused         no');
    expect(run.out).toContain('  ✔ breaker        closed');
    expect(run.out).toMatch(/ {2}✔ token {10}expires in 4\d min/);
    expect(run.out).toContain('  – stack          n/a in the sandbox (nothing is deployed)');
    expect(run.out).not.toContain(ACCESS_TOKEN);
    expect(none.code).toBe(1);
    expect(none.err).toBe('Error: No sandbox is running: start one with `npm start`\n');
  });
});

/** What status assumes about the deployed stack, pinned against what the app synthesizes. */
describe('what status reads from a deployed stack', () => {
  // A synth loads aws-cdk-lib first: seconds, more on a busy machine.
  it('finds every alarm of the stack by its name prefix: no alarm is given a name of its own', {
    timeout: 60_000,
  }, () => {
    const [relay] = synthRelayApp([qa]);
    const alarms = Object.values(relay?.template.findResources('AWS::CloudWatch::Alarm') ?? {});

    expect(alarms.length).toBeGreaterThan(0);
    // CloudFormation then names each `<stack name>-<logical id>-<suffix>`.
    expect(alarms.filter((alarm) => alarm.Properties?.AlarmName !== undefined)).toEqual([]);
  });

  it('reads the metrics under the namespace and service dimension the function publishes with', () => {
    expect(RELAY_METRICS_NAMESPACE).toBe(METRICS_NAMESPACE);
    expect(relayServiceName('qa')).toBe(stackServiceName('qa'));
  });
});
