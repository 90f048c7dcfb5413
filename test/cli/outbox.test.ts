import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { DynamoDbOutbox } from '../../functions/relay/io/dynamodb/outbox';
import type { OutboxItem } from '../../functions/relay/ports/outbox';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from '../../infra/local/cloudformation-emulator';
import { writeSandboxState } from '../../infra/sandbox/sandbox-state';
import { createTestTable } from '../support/dynamodb';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

/**
 * The outbox commands against the real DynamoDB Local, through the relay's own DynamoDbOutbox: items are put there
 * the way the relay puts them, and the CLI is reached the three ways an operator can (--table with the SDK's
 * endpoint variable, --env through the stack outputs, --sandbox through the running sandbox's state file).
 */
describe('oneio-relay outbox', () => {
  let client: DynamoDBClient;
  let tableName: string;
  let outbox: DynamoDbOutbox;
  let cloudformation: CloudFormationEmulator;
  let stateDir: string;

  beforeAll(async () => {
    ({ client, tableName } = await createTestTable());
    outbox = new DynamoDbOutbox(DynamoDBDocumentClient.from(client), tableName);
    cloudformation = await startCloudFormationEmulator({
      stacks: { 'OneioRelay-qa': { TableName: tableName } },
    });
    stateDir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-cli-'));
  });

  afterAll(async () => {
    await cloudformation.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    stubAwsEnvironment({
      ...LOCAL_AWS,
      AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint'),
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
    });
  });

  afterEach(async () => {
    vi.unstubAllEnvs();
    for (const state of ['due', 'parked'] as const) {
      for (const item of await outbox.list(state, 100)) await outbox.purge(item.relayId);
    }
  });

  async function addItem(state: 'due' | 'parked', fields: Partial<OutboxItem> = {}): Promise<OutboxItem> {
    const item: OutboxItem = {
      relayId: randomUUID(),
      source: 'github',
      deliveryId: randomUUID(),
      body: '{"action":"opened","big":12345678901234567890123}',
      state: 'due',
      attempts: 3,
      retries: 2,
      firstSeenAt: Date.parse('2025-03-12T19:04:17Z'),
      receivedAt: Date.parse('2025-03-12T19:04:17Z'),
      dueAt: Date.parse('2025-03-12T19:10:00Z'),
      lastError: 'ONEiO answered 503',
      ...fields,
    };
    // Stored as the sweep leaves it: a parked item carries its park time and ONEiO's refusal.
    const stored: OutboxItem =
      state === 'parked' ? { ...item, state, lastError: 'ONEiO answered 400' } : { ...item, state };
    await outbox.add(stored);
    return stored;
  }

  const table = () => ['--table', tableName];

  it('lists due items by default and parked ones with --parked, oldest first', async () => {
    const due = await addItem('due');
    const older = await addItem('parked', { dueAt: Date.parse('2025-03-12T18:00:00Z') });
    const newer = await addItem('parked', { dueAt: Date.parse('2025-03-12T20:00:00Z') });

    const dueRun = await runCli(['outbox', 'list', ...table()]);
    const parkedRun = await runCli(['outbox', 'list', '--parked', ...table()]);

    expect(dueRun.code).toBe(0);
    expect(dueRun.out).toContain(`1 due item in table ${tableName}, oldest first:`);
    expect(dueRun.out).toMatch(/RELAY ID +SOURCE +ATTEMPTS +FIRST SEEN +NEXT TRY +LAST ERROR/);
    expect(dueRun.out).toContain(
      `${due.relayId}  github  3         2025-03-12 19:04:17Z  2025-03-12 19:10:00Z  ONEiO answered 503`,
    );
    expect(parkedRun.out).toMatch(/PARKED AT/);
    expect(parkedRun.out.indexOf(older.relayId)).toBeLessThan(parkedRun.out.indexOf(newer.relayId));
    expect(parkedRun.out).not.toContain(due.relayId);
  });

  it('says so when a queue is empty, and prints JSON with --json', async () => {
    const item = await addItem('due');

    const empty = await runCli(['outbox', 'list', '--parked', ...table()]);
    const json = await runCli(['outbox', 'list', '--json', ...table()]);

    expect(empty.out).toBe(`No parked items in table ${tableName}.\n`);
    expect(JSON.parse(json.out)).toEqual([item]);
  });

  it('shows one item with its body exactly as ONEiO would receive it', async () => {
    const item = await addItem('parked');

    const run = await runCli(['outbox', 'show', item.relayId, ...table()]);

    expect(run.code).toBe(0);
    expect(run.out).toContain(`relay id     ${item.relayId}`);
    expect(run.out).toContain(`delivery id  ${item.deliveryId}`);
    expect(run.out).toContain('state        parked since 2025-03-12 19:10:00Z');
    expect(run.out).toContain('last error   ONEiO answered 400');
    expect(run.out.endsWith(`${item.body}\n`)).toBe(true);
  });

  it('fails show for an unknown id', async () => {
    const run = await runCli(['outbox', 'show', 'no-such-id', ...table()]);

    expect(run.code).toBe(1);
    expect(run.err).toContain(`No outbox item no-such-id in table ${tableName}`);
  });

  it('redrives a parked item to due now; again, or for a missing item, changes nothing', async () => {
    const item = await addItem('parked');
    const before = Date.now();

    const first = await runCli(['outbox', 'redrive', item.relayId, ...table()]);
    const second = await runCli(['outbox', 'redrive', item.relayId, ...table()]);
    const missing = await runCli(['outbox', 'redrive', 'no-such-id', ...table()]);

    expect(first.code).toBe(0);
    expect(first.out).toContain(`Redriven: ${item.relayId} is due now`);
    const stored = await outbox.get(item.relayId);
    expect(stored?.state).toBe('due');
    expect(stored?.retries).toBe(0);
    expect(stored?.dueAt).toBeGreaterThanOrEqual(before);
    expect(second.code).toBe(0);
    expect(second.out).toContain(`Nothing to redrive: ${item.relayId} is already due`);
    expect(missing.code).toBe(0);
    expect(missing.out).toContain('Nothing to redrive: no outbox item no-such-id');
  });

  it('redrives every parked item with --all, and nothing the second time', async () => {
    const parked = await Promise.all([addItem('parked'), addItem('parked'), addItem('parked')]);
    const due = await addItem('due');

    const first = await runCli(['outbox', 'redrive', '--all', ...table()]);
    const second = await runCli(['outbox', 'redrive', '--all', ...table()]);

    expect(first.out).toContain('Redriven: 3 parked items are due now');
    expect(second.out).toContain('Nothing to redrive: no parked items');
    for (const item of parked) expect((await outbox.get(item.relayId))?.state).toBe('due');
    expect((await outbox.get(due.relayId))?.dueAt).toBe(due.dueAt);
  });

  it('purges with --yes; again it is already gone', async () => {
    const item = await addItem('parked');

    const first = await runCli(['outbox', 'purge', item.relayId, '--yes', ...table()]);
    const second = await runCli(['outbox', 'purge', item.relayId, '--yes', ...table()]);

    expect(first.out).toBe(`Purged ${item.relayId}.\n`);
    expect(await outbox.get(item.relayId)).toBeUndefined();
    expect(second.code).toBe(0);
    expect(second.out).toContain(`Nothing to purge: no outbox item ${item.relayId}`);
  });

  it('asks before purging, and keeps the item unless the answer is yes', async () => {
    const item = await addItem('parked');

    const declined = await runCli(['outbox', 'purge', item.relayId, ...table()], {
      stdin: 'n\n',
      stdinIsTTY: true,
    });
    expect(declined.code).toBe(1);
    expect(declined.out).toContain(
      `Purge ${item.relayId} (github, parked, 3 attempts, last error: ONEiO answered 400)`,
    );
    expect(declined.out).toContain('[y/N] Not purged.');
    expect(await outbox.get(item.relayId)).toBeDefined();

    const accepted = await runCli(['outbox', 'purge', item.relayId, ...table()], {
      stdin: 'yes\n',
      stdinIsTTY: true,
    });
    expect(accepted.code).toBe(0);
    expect(await outbox.get(item.relayId)).toBeUndefined();
  });

  it('refuses to purge without --yes when nobody can answer', async () => {
    const item = await addItem('parked');

    const run = await runCli(['outbox', 'purge', item.relayId, ...table()], {
      stdin: 'y\n',
      stdinIsTTY: false,
    });

    expect(run.code).toBe(2);
    expect(run.err).toContain('pass --yes');
    expect(await outbox.get(item.relayId)).toBeDefined();
  });

  it('finds the table from the outputs of stack OneioRelay-<env>', async () => {
    const item = await addItem('parked');

    const run = await runCli(['outbox', 'list', '--parked', '--env', 'qa']);

    expect(run.code).toBe(0);
    expect(run.out).toContain(`in table ${tableName} of stack OneioRelay-qa`);
    expect(run.out).toContain(item.relayId);
  });

  it('finds the running sandbox through its state file with --sandbox', async () => {
    const item = await addItem('due');
    const stateFile = path.join(stateDir, 'state.json');
    writeSandboxState(stateFile, {
      pid: process.pid,
      url: 'http://127.0.0.1:3000',
      dynamodbEndpoint: inject('dynamodbEndpoint'),
      tableName,
    });
    // The sandbox's own dummy credentials are used, whatever the shell holds.
    stubAwsEnvironment({ AWS_REGION: undefined });

    const run = await runCli(['outbox', 'list', '--sandbox'], {
      env: { ONEIO_RELAY_SANDBOX_STATE: stateFile },
    });
    const none = await runCli(['outbox', 'list', '--sandbox'], {
      env: { ONEIO_RELAY_SANDBOX_STATE: path.join(stateDir, 'missing.json') },
    });

    expect(run.out).toContain(`in the sandbox's table ${tableName}`);
    expect(run.out).toContain(item.relayId);
    expect(none.code).toBe(1);
    expect(none.err).toContain('No sandbox is running: start one with `npm start`');
  });

  it('says when the stack is missing, the credentials are missing, or the table does not exist', async () => {
    const noStack = await runCli(['outbox', 'list', '--env', 'prod']);
    const noTable = await runCli(['outbox', 'list', '--table', 'no-such-table']);
    stubAwsEnvironment({ AWS_REGION: 'eu-west-1', AWS_ENDPOINT_URL_DYNAMODB: inject('dynamodbEndpoint') });
    const noCredentials = await runCli(['outbox', 'list', ...table()]);

    expect(noStack.code).toBe(1);
    expect(noStack.err).toContain('Stack OneioRelay-prod does not exist in eu-west-1');
    expect(noTable.code).toBe(1);
    expect(noTable.err).toContain('Table no-such-table does not exist');
    expect(noCredentials.code).toBe(1);
    expect(noCredentials.err).toContain(`No usable AWS credentials for reading table ${tableName}`);
  });

  it('explains wrong command lines with exit code 2', async () => {
    const noTarget = await runCli(['outbox', 'list']);
    const unknown = await runCli(['outbox', 'frobnicate', ...table()]);
    const noId = await runCli(['outbox', 'redrive', ...table()]);
    const badFlag = await runCli(['outbox', 'list', '--colour', ...table()]);

    expect(noTarget.code).toBe(2);
    expect(noTarget.err).toContain('Say which outbox: --env <qa|prod>, --sandbox or --table <name>');
    expect(unknown.err).toContain('Unknown outbox action "frobnicate"');
    expect(noId.err).toContain('outbox redrive needs a relay id (or --all)');
    expect(badFlag.code).toBe(2);
    expect(badFlag.err).toContain("Unknown option '--colour'");
  });
});
