import { randomUUID } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';
import { describe, expect, inject, it } from 'vitest';
import { sampleGithubWebhook } from '../../infra/sandbox/sample-webhook';
import { runCli } from '../cli/cli-harness';
import { sandboxesOfThisFile } from './sandbox-process';

const READY = /Ready in [\d.]+ s: (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * Pause and resume as an operator uses them on the sandbox: `npm start` in a child process, webhooks over HTTP,
 * `oneio-relay pause|status|resume --sandbox` through the CLI, and what the ONEiO emulator received read from the
 * sandbox's own output (`--json-logs` prints every message it accepts).
 */
describe('pause and resume through the CLI, against the sandbox', () => {
  const sandboxes = sandboxesOfThisFile('oneio-relay-pause-');

  it('queues everything while paused, sends nothing, shows who paused and why, and delivers after resume', {
    timeout: 90_000,
  }, async () => {
    // Prepare: the sweep only when asked, the run's DynamoDB Local (no second Java)
    const env = { ONEIO_RELAY_SANDBOX_STATE: path.join(sandboxes.dir(), 'state.json') };
    const sandbox = sandboxes.spawn(
      [
        '--port',
        '0',
        '--sweep-interval',
        '3600',
        '--json-logs',
        '--dynamodb-endpoint',
        inject('dynamodbEndpoint'),
        '--table',
        `sandbox-${randomUUID()}`,
      ],
      env,
    );
    const [, url = ''] = await sandbox.waitFor(READY);
    const cli = (...args: string[]) => runCli(args, { env });
    const send = async (marker: string) => {
      const webhook = sampleGithubWebhook(url, JSON.stringify({ action: 'opened', marker }));
      const response = await request(webhook.url, {
        method: 'POST',
        headers: webhook.headers,
        body: webhook.body,
      });
      return { status: response.statusCode, body: (await response.body.json()) as { status?: string } };
    };
    const sweep = async () => {
      // As the inspector page asks for it (the page's API takes JSON from its own origin only).
      const response = await request(`${url}/inspector/api/sweep`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: url },
        body: '{}',
      });
      expect(response.statusCode).toBe(200);
      await response.body.dump();
    };
    const atOneio = (marker: string) => sandbox.stdout().split(marker).length - 1;
    const who = `${userInfo().username}@${hostname()} (OS user)`;

    // Act 1: pause; a webhook comes in; the sweep runs
    const paused = await cli('pause', '--sandbox', '--reason', 'mapping fix');
    const marker = randomUUID();
    const whilePaused = await send(marker);
    await sweep();
    await sandbox.waitFor(/"message":"Outbox swept","[^\n]*"held":"paused"/);
    const status = await cli('status', '--sandbox');
    const sentWhilePaused = atOneio(marker);

    // Act 2: resume; the next sweep sends it
    const resumed = await cli('resume', '--sandbox');
    const resumedAt = Date.now();
    await sweep();
    // The emulator prints the request line, the headers ONEiO got, then the body.
    await sandbox.waitFor(new RegExp(`\\[oneio\\] message \\d+ received .*\\n.*\\n.*${marker}`));
    // A warm execution environment sees the resume once its cached state is 5 s old.
    await sleep(Math.max(0, resumedAt + 5_100 - Date.now()));
    const afterResume = await send(randomUUID());

    // Assess
    expect(paused.code).toBe(0);
    expect(paused.out).toContain(
      `Paused deliveries to ONEiO for sandbox until resumed, by ${who}: mapping fix.`,
    );
    expect(whilePaused).toEqual({ status: 202, body: expect.objectContaining({ status: 'queued' }) });
    expect(sentWhilePaused).toBe(0);
    expect(status.out).toContain(`  ! paused         yes, by ${who} since `);
    expect(status.out).toMatch(/ {2}! paused {9}.*until resumed: mapping fix\n/);
    expect(status.out).toMatch(/ {2}! outbox {9}1 due \(oldest received \d+ s ago\) · 0 parked\n/);
    expect(resumed.out).toContain(`Resumed deliveries to ONEiO for sandbox (paused by ${who} since `);
    expect(resumed.out).toContain('sends the 1 queued message');
    expect(atOneio(marker)).toBe(1);
    expect(afterResume).toEqual({ status: 200, body: expect.objectContaining({ status: 'delivered' }) });
  });
});
