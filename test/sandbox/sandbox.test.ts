import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { request } from 'undici';
import { describe, expect, inject, it } from 'vitest';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import { sampleGithubWebhook } from '../../infra/sandbox/sample-webhook';
import { runCli } from '../cli/cli-harness';
import {
  commandLine,
  descendantsOf,
  isRunning,
  type SandboxProcess,
  sandboxesOfThisFile,
} from './sandbox-process';

const READY = /Ready in [\d.]+ s: (http:\/\/127\.0\.0\.1:\d+)/;

/**
 * `npm start` as a new user meets it: a child process with the real DynamoDB Local, driven over HTTP only, stopped
 * with Ctrl-C (SIGINT), after which no process it started may be left.
 */
describe('oneio-relay sandbox', () => {
  const sandboxes = sandboxesOfThisFile('oneio-relay-sandbox-');

  async function stop(sandbox: SandboxProcess): Promise<number[]> {
    const started = descendantsOf(sandbox.child.pid ?? -1);
    sandbox.child.kill('SIGINT');
    const { code } = await sandbox.exited;
    expect(code).toBe(0);
    expect(sandbox.stdout()).toContain('Stopped: DynamoDB Local, the emulators and the endpoint are down.');
    for (let i = 0; i < 50 && started.some(isRunning); i++) await sleep(100);
    expect(started.filter(isRunning).map(commandLine)).toEqual([]);
    return started;
  }

  it('relays a pasted signed curl to the ONEiO emulator, runs the sweep, and leaves nothing behind on Ctrl-C', async () => {
    const stateFile = path.join(sandboxes.dir(), 'state.json');
    const sandbox = sandboxes.spawn(['--port', '0', '--sweep-interval', '1', '--json-logs'], {
      ONEIO_RELAY_SANDBOX_STATE: stateFile,
    });
    const [, url] = await sandbox.waitFor(READY);
    const java = descendantsOf(sandbox.child.pid ?? -1).filter((pid) =>
      commandLine(pid).includes('DynamoDBLocal'),
    );
    expect(java).toHaveLength(1);

    // What the user pastes: the printed command, run by a shell.
    const curl = /^curl -i -X POST (?:[^\n]*\\\n)*[^\n]*/m.exec(sandbox.stdout())?.[0] ?? '';
    expect(curl).toContain(`${url}/webhooks/github`);
    const pasted = await promisify(execFile)('sh', ['-c', curl]);
    expect(pasted.stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(pasted.stdout).toContain('"status":"delivered"');
    expect(curl).toMatch(/-H 'x-github-event: ping'/i);
    // What ONEiO received: where, the relay's headers and GitHub's event header, the body byte for byte.
    await sandbox.waitFor(
      new RegExp(
        '\\[oneio\\] message 1 received \\(\\d+ bytes\\): POST /api/v2\\n' +
          ' +x-relay-source: github; x-relay-message-id: [0-9a-f-]{36}; x-relay-delivery-id: [0-9a-f-]{36}; ' +
          'x-relay-received-at: \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; x-github-event: ping\\n' +
          ' +\\{"zen":"Keep it logically awesome\\."',
      ),
    );

    // A webhook of our own, and an EventBridge event through the local events endpoint.
    const marker = randomUUID();
    const own = sampleGithubWebhook(url ?? '', JSON.stringify({ action: 'opened', marker }));
    const webhook = await request(`${own.url}?issue.key=ABC-1`, {
      method: 'POST',
      headers: own.headers,
      body: own.body,
    });
    expect(webhook.statusCode).toBe(200);
    await webhook.body.dump();
    await sandbox.waitFor(
      new RegExp(
        `\\[oneio\\] message 2 received .*: POST /api/v2\\?issue\\.key=ABC-1\\n.*x-github-event: ping\\n.*${marker}`,
      ),
    );
    const event = await request(`${url}/events`, {
      method: 'POST',
      body: JSON.stringify({ source: 'my.app', 'detail-type': 'Order Placed', detail: { marker } }),
    });
    expect(event.statusCode).toBe(200);
    await event.body.dump();
    await sandbox.waitFor(
      new RegExp(
        `\\[oneio\\] message 3 received .*\\n.*x-relay-source: eventbridge:my\\.app;.*\\n.*"detail-type":"Order Placed","detail":\\{"marker":"${marker}"\\}`,
      ),
    );

    // The outbox commands find the sandbox through its state file; the sweep runs on its schedule.
    const outbox = await runCli(['outbox', 'list', '--sandbox'], {
      env: { ONEIO_RELAY_SANDBOX_STATE: stateFile },
    });
    expect(outbox.out).toBe("No due items in the sandbox's table oneio-relay-sandbox.\n");
    await sandbox.waitFor(/"message":"Outbox swept"/);

    const stopped = await stop(sandbox);
    expect(stopped).toEqual(expect.arrayContaining(java));
    expect(existsSync(stateFile)).toBe(false);
    // A whole sandbox, its own Java included, starts and stops in here: ~10 s alone, more on a busy machine.
  }, 60_000);

  it('relays to a real ONEiO with credentials from the environment (--oneio qa, URLs pointed at a stand-in)', async () => {
    const receiver: OneioEmulator = await startOneioEmulator({
      clientId: 'qa-id',
      clientSecret: 'qa-secret-value',
    });
    try {
      const sandbox = sandboxes.spawn(
        [
          '--port',
          '0',
          '--oneio',
          'qa',
          '--token-url',
          receiver.tokenUrl,
          '--receiver-url',
          receiver.receiverUrl,
          // The run's DynamoDB Local: no second Java, the wiring under test is the ONEiO side.
          '--dynamodb-endpoint',
          inject('dynamodbEndpoint'),
          '--table',
          `sandbox-${randomUUID()}`,
        ],
        {
          ONEIO_CLIENT_ID: 'qa-id',
          ONEIO_CLIENT_SECRET: 'qa-secret-value',
          ONEIO_RELAY_SANDBOX_STATE: path.join(sandboxes.dir(), 'qa.json'),
        },
      );
      const [, url] = await sandbox.waitFor(READY);
      expect(sandbox.stdout()).toContain(`ONEiO QA: ${receiver.receiverUrl}`);

      const webhook = sampleGithubWebhook(url ?? '');
      const response = await request(webhook.url, {
        method: 'POST',
        headers: webhook.headers,
        body: webhook.body,
      });
      expect(response.statusCode).toBe(200);
      await response.body.dump();

      expect(receiver.messages.map((m) => m.body)).toEqual([webhook.body]);
      expect(sandbox.stdout()).not.toContain('[oneio]');
      await stop(sandbox);
      expect(sandbox.stdout() + sandbox.stderr()).not.toContain('qa-secret-value');
    } finally {
      await receiver.close();
    }
  });
});
