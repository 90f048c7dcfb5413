import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir, userInfo } from 'node:os';
import * as path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DESTINATION_KEY, TABLE } from '../../functions/relay/contract';
import { DynamoDbDestinationStore } from '../../functions/relay/io/dynamodb/destination-store';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import { parseUntil } from '../../infra/cli/pause';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from '../../infra/local/cloudformation-emulator';
import { type StsEmulator, startStsEmulator } from '../../infra/local/sts-emulator';
import { writeSandboxState } from '../../infra/sandbox/sandbox-state';
import { createTestTable } from '../support/dynamodb';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

const OPERATOR = 'arn:aws:sts::000000000000:assumed-role/Operator/alice';
const HOUR = 3_600_000;

/**
 * `pause` and `resume` against the real DynamoDB Local, reached as an operator reaches a deployed relay (the stack's
 * TableName output, STS for who is asking) and the running sandbox; the record is read back with the relay's own
 * store, so what the CLI writes is what the function reads.
 */
describe('oneio-relay pause and resume', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let store: DynamoDbDestinationStore;
  let cloudformation: CloudFormationEmulator;
  let sts: StsEmulator;
  let stateDir: string;

  beforeAll(async () => {
    ({ client, tableName } = await createTestTable());
    store = new DynamoDbDestinationStore(DynamoDBDocumentClient.from(client), tableName);
    cloudformation = await startCloudFormationEmulator({
      stacks: { 'OneioRelay-qa': { TableName: tableName } },
    });
    sts = await startStsEmulator({ arn: OPERATOR });
    stateDir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-pause-'));
  });

  afterAll(async () => {
    await Promise.all([cloudformation.close(), sts.close()]);
    rmSync(stateDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    stubAwsEnvironment({
      ...LOCAL_AWS,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
      AWS_ENDPOINT_URL_STS: sts.url,
    });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    await DynamoDBDocumentClient.from(client).send(
      new DeleteCommand({ TableName: tableName, Key: { [TABLE.partitionKey]: DESTINATION_KEY } }),
    );
  });

  it('pauses a deployed relay for a while, recording who (the AWS identity) and why', async () => {
    // Act
    const before = Date.now();
    const run = await runCli(['pause', '--env', 'qa', '--until', '2h', '--reason', 'ONEiO maintenance']);

    // Assess
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    const { pause } = await store.read(DESTINATION_KEY);
    expect(pause).toEqual({
      at: expect.any(Number),
      until: expect.any(Number),
      by: OPERATOR,
      reason: 'ONEiO maintenance',
    });
    expect((pause?.until ?? 0) - (pause?.at ?? 0)).toBe(2 * HOUR);
    expect(pause?.at).toBeGreaterThanOrEqual(before);
    expect(run.out).toMatch(
      new RegExp(
        `^Paused deliveries to ONEiO for qa until \\S+ \\S+Z \\(in 2 h 0 min\\), by ${literally(OPERATOR)}: ONEiO maintenance\\.\\n`,
      ),
    );
    expect(run.out).toContain('nothing is sent to ONEiO and the sweep holds');
    expect(run.out).toContain('`npx oneio-relay resume --env qa`');
  });

  it('pauses until resumed when no end is given, and says whose pause it replaces', async () => {
    await runCli(['pause', '--env', 'qa', '--until', '30m']);

    const run = await runCli(['pause', '--env', 'qa']);

    expect(run.code).toBe(0);
    expect(run.out).toContain(`Paused deliveries to ONEiO for qa until resumed, by ${OPERATOR}.`);
    expect(run.out).toContain(`It replaces the pause by ${OPERATOR} since `);
    const { pause } = await store.read(DESTINATION_KEY);
    expect(pause).toEqual({ at: expect.any(Number), by: OPERATOR });
  });

  it('resumes, saying whose pause ended and how much is queued; resuming again changes nothing', async () => {
    const outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
    const relayIds = [randomUUID(), randomUUID()];
    for (const relayId of relayIds) {
      await outbox.add({
        relayId,
        source: 'github',
        deliveryId: randomUUID(),
        body: '{}',
        receivedAt: Date.now(),
        state: 'due',
        attempts: 0,
        retries: 0,
        firstSeenAt: Date.now(),
        dueAt: Date.now(),
        lastError: 'not sent: deliveries paused',
      });
    }
    await runCli(['pause', '--env', 'qa', '--reason', 'mapping fix']);

    const resumed = await runCli(['resume', '--env', 'qa']);
    const again = await runCli(['resume', '--env', 'qa']);
    for (const relayId of relayIds) await outbox.purge(relayId);

    expect(resumed.code).toBe(0);
    expect(resumed.out).toMatch(
      new RegExp(
        `^Resumed deliveries to ONEiO for qa \\(paused by ${literally(OPERATOR)} since .+Z: mapping fix\\)\\.\\n`,
      ),
    );
    expect(resumed.out).toContain(
      'the next sweep (within a minute) sends the 2 queued messages, oldest first',
    );
    expect((await store.read(DESTINATION_KEY)).pause).toBeUndefined();
    expect(again).toMatchObject({
      code: 0,
      out: 'Nothing to resume: deliveries to ONEiO for qa are not paused.\n',
    });
  });

  it('records the OS user, marked as such, when STS cannot say who is asking', async () => {
    // A port nothing listens on: STS unreachable, DynamoDB fine.
    vi.stubEnv('AWS_ENDPOINT_URL_STS', 'http://127.0.0.1:9');

    const run = await runCli(['pause', '--env', 'qa', '--until', '10m']);

    expect(run.code).toBe(0);
    expect((await store.read(DESTINATION_KEY)).pause?.by).toBe(
      `${userInfo().username}@${hostname()} (OS user)`,
    );
  });

  it('pauses the running sandbox as its OS user, without asking AWS', async () => {
    const stateFile = path.join(stateDir, 'state.json');
    writeSandboxState(stateFile, {
      pid: process.pid,
      url: 'http://127.0.0.1:3000',
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
    });
    const stsCalls = sts.calls.GetCallerIdentity ?? 0;

    const run = await runCli(['pause', '--sandbox', '--reason', 'trying it out'], {
      env: { ONEIO_RELAY_SANDBOX_STATE: stateFile },
    });

    expect(run.code).toBe(0);
    expect(run.out).toContain(`for sandbox until resumed, by ${userInfo().username}@${hostname()} (OS user)`);
    expect(run.out).toContain('`npx oneio-relay resume --sandbox`');
    expect(sts.calls.GetCallerIdentity ?? 0).toBe(stsCalls);
  });

  it.each([
    [['--until', '0m'], '--until must be in the future'],
    [['--until', '8d'], '--until must be at most 7 days ahead'],
    [['--until', 'tomorrow'], '--until must be a duration like 90s, 30m, 2h or 1d'],
    [['--until', '2025-05-02'], '--until must be a duration like 90s, 30m, 2h or 1d'],
    [['--until', '2001-01-01T00:00:00Z'], '--until must be in the future'],
    [['--reason', ''], '--reason must be 1 to 200 characters of one line'],
    [['--reason', 'two\nlines'], '--reason must be 1 to 200 characters of one line'],
    [['--reason', 'x'.repeat(201)], '--reason must be 1 to 200 characters of one line'],
    [['extra'], 'Unexpected arguments: extra'],
  ])('refuses %j with exit code 2 and changes nothing', async (args, message) => {
    const run = await runCli(['pause', '--env', 'qa', ...args]);

    expect(run.code).toBe(2);
    expect(run.err).toContain(message);
    expect((await store.read(DESTINATION_KEY)).pause).toBeUndefined();
  });

  it('needs to know which relay', async () => {
    const none = await runCli(['pause']);
    const both = await runCli(['resume', '--env', 'qa', '--sandbox']);

    expect([none.code, both.code]).toEqual([2, 2]);
    expect(none.err).toContain('Say which relay: --env <qa|prod>, --sandbox or --table <name>');
    expect(both.err).toContain('Give --env or --sandbox, not both');
  });
});

describe('parseUntil', () => {
  const now = Date.parse('2025-05-02T10:00:00Z');

  it('reads durations from now and absolute times with a zone', () => {
    expect(parseUntil('90s', now)).toBe(now + 90_000);
    expect(parseUntil('30m', now)).toBe(now + 30 * 60_000);
    expect(parseUntil('2h', now)).toBe(now + 2 * HOUR);
    expect(parseUntil('1d', now)).toBe(now + 24 * HOUR);
    expect(parseUntil('2025-05-02T18:00:00Z', now)).toBe(Date.parse('2025-05-02T18:00:00Z'));
    expect(parseUntil('2025-05-02T18:00:00+02:00', now)).toBe(Date.parse('2025-05-02T16:00:00Z'));
  });
});

function literally(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
