import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

/** `send` reads the credentials as the relay does and posts one file to the receiver, byte for byte. */
describe('oneio-relay send', () => {
  let secrets: SecretsManagerEmulator;
  let oneio: OneioEmulator;
  let dir: string;
  let flags: string[];

  beforeAll(async () => {
    secrets = await startSecretsManagerEmulator({
      secrets: { 'qa-credentials': JSON.stringify({ client_id: 'relay-qa', client_secret: 'qa-secret' }) },
    });
    oneio = await startOneioEmulator({ clientId: 'relay-qa', clientSecret: 'qa-secret' });
    dir = mkdtempSync(path.join(tmpdir(), 'oneio-relay-send-'));
    flags = [
      '--env',
      'qa',
      '--secret-id',
      'qa-credentials',
      '--token-url',
      oneio.tokenUrl,
      '--receiver-url',
      oneio.receiverUrl,
    ];
  });

  afterAll(async () => {
    await Promise.all([secrets.close(), oneio.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function file(name: string, content: string): string {
    const target = path.join(dir, name);
    writeFileSync(target, content);
    return target;
  }

  it('delivers the file byte for byte with a fresh token', async () => {
    stubAwsEnvironment({ ...LOCAL_AWS, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url });
    const body = '{"b":2,"a":1,"big":12345678901234567890123}\n';

    const run = await runCli(['send', '--file', file('msg.json', body), ...flags]);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toMatch(
      new RegExp(
        `^OK: ONEiO accepted the message \\(200, ${Buffer.byteLength(body)} bytes, message id [0-9a-f-]{36}\\) at ${oneio.receiverUrl}\n$`,
      ),
    );
    expect(oneio.messages.at(-1)?.body).toBe(body);
  });

  it('refuses a file that is not JSON before asking anyone for anything', async () => {
    const requests = oneio.tokenRequests.count;

    const run = await runCli(['send', '--file', file('msg.txt', 'hello'), ...flags]);

    expect(run.code).toBe(1);
    expect(run.err).toMatch(/msg\.txt is not JSON \(.*\); ONEiO's REST receiver takes JSON/);
    expect(oneio.tokenRequests.count).toBe(requests);
  });

  it('says what ONEiO made of a message it refused', async () => {
    stubAwsEnvironment({ ...LOCAL_AWS, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url });
    oneio.failReceiver({ status: 400, times: 1 });

    const run = await runCli(['send', '--file', file('bad.json', '{}'), ...flags]);

    expect(run.code).toBe(1);
    expect(run.err).toContain('ONEiO answered 400');
    expect(run.err).toContain('the message was rejected (the relay would park it)');
  });

  it('needs --file', async () => {
    const run = await runCli(['send', '--env', 'qa']);

    expect(run.code).toBe(2);
    expect(run.err).toContain('Missing --file <message.json>');
  });
});
