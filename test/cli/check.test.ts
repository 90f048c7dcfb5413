import { once } from 'node:events';
import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { qa } from '../../infra/config';
import {
  type CloudFormationEmulator,
  startCloudFormationEmulator,
} from '../../infra/local/cloudformation-emulator';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

const CLIENT_ID = 'relay-qa';
const CLIENT_SECRET = 'qa-secret &=+ %é';
const SECRET_NAME = 'OneioRelayqaCredentials-AbCdEf';

/**
 * `check` against the real SDK clients and undici, pointed at local stand-ins through the SDK's standard
 * variables: the stack lookup goes to a CloudFormation emulator speaking the AWS Query protocol, the secret to the
 * Secrets Manager emulator, the token request to the ONEiO emulator (given with --token-url, since the QA host is
 * not reachable from tests).
 */
describe('oneio-relay check', () => {
  let cloudformation: CloudFormationEmulator;
  let secrets: SecretsManagerEmulator;
  let oneio: OneioEmulator;
  let closedPortUrl: string;

  beforeAll(async () => {
    cloudformation = await startCloudFormationEmulator({
      stacks: { 'OneioRelay-qa': { CredentialsSecretName: SECRET_NAME, TableName: 'relay-table' } },
    });
    secrets = await startSecretsManagerEmulator({
      secrets: {
        [SECRET_NAME]: JSON.stringify({
          client_id: CLIENT_ID,
          client_secret: CLIENT_SECRET,
          note: 'ignored',
        }),
        'not-json': 'client_id=x',
      },
    });
    oneio = await startOneioEmulator({ clientId: CLIENT_ID, clientSecret: CLIENT_SECRET });
    closedPortUrl = `http://127.0.0.1:${await closedPort()}`;
  });

  afterAll(async () => {
    await Promise.all([cloudformation.close(), secrets.close(), oneio.close()]);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function stubAws(overrides: Record<string, string | undefined> = {}): void {
    stubAwsEnvironment({
      ...LOCAL_AWS,
      AWS_ENDPOINT_URL_CLOUDFORMATION: cloudformation.url,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
      ...overrides,
    });
  }

  it('finds the secret from the stack outputs, gets a token and prints its scope and expiry, never the token', async () => {
    stubAws();
    const before = Date.now();

    const run = await runCli(['check', '--env', 'qa', '--token-url', oneio.tokenUrl]);

    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(run.out).toContain('OK: ONEiO issued a token for qa.');
    expect(run.out).toContain(`credentials secret  ${SECRET_NAME} (client_id ${CLIENT_ID})`);
    expect(run.out).toContain('scope               ROLE_INTEGRATION');
    expect(run.out).toMatch(/expires {13}in 59 min 59 s, at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/);
    const expiresAt = Date.parse(/at (\S+Z)/.exec(run.out)?.[1] ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 3599_000);
    expect(oneio.tokenRequests.count).toBeGreaterThan(0);
    // The emulator's tokens are 43 base64url characters; nothing that long reaches the output, nor the secret.
    expect(run.out).not.toMatch(/[A-Za-z0-9_-]{43}/);
    expect(run.out).not.toContain(CLIENT_SECRET);
  });

  it('uses --secret-id without asking CloudFormation', async () => {
    stubAws();
    const lookups = cloudformation.calls.DescribeStacks ?? 0;

    const run = await runCli([
      'check',
      '--env',
      'qa',
      '--secret-id',
      SECRET_NAME,
      '--token-url',
      oneio.tokenUrl,
    ]);

    expect(run.code).toBe(0);
    expect(cloudformation.calls.DescribeStacks ?? 0).toBe(lookups);
  });

  it('says when there are no AWS credentials', async () => {
    stubAws({ AWS_ACCESS_KEY_ID: undefined, AWS_SECRET_ACCESS_KEY: undefined });

    const run = await runCli(['check', '--env', 'qa', '--token-url', oneio.tokenUrl]);

    expect(run.code).toBe(1);
    expect(run.err).toMatch(
      /^Error: No usable AWS credentials for reading the outputs of stack OneioRelay-qa/,
    );
    expect(run.err).toContain('aws sso login');
  });

  it('says when the stack is not deployed', async () => {
    stubAws();

    const run = await runCli(['check', '--env', 'prod', '--token-url', oneio.tokenUrl]);

    expect(run.code).toBe(1);
    expect(run.err).toContain('Stack OneioRelay-prod does not exist in eu-west-1');
    expect(run.err).toContain('npx cdk deploy OneioRelay-prod');
  });

  it('says when the secret does not exist', async () => {
    stubAws();

    const run = await runCli([
      'check',
      '--env',
      'qa',
      '--secret-id',
      'no-such-secret',
      '--token-url',
      oneio.tokenUrl,
    ]);

    expect(run.code).toBe(1);
    expect(run.err).toContain('Secret no-such-secret does not exist in eu-west-1');
  });

  it('says when the secret is not JSON, without quoting it', async () => {
    stubAws();

    const run = await runCli([
      'check',
      '--env',
      'qa',
      '--secret-id',
      'not-json',
      '--token-url',
      oneio.tokenUrl,
    ]);

    expect(run.code).toBe(1);
    expect(run.err).toMatch(/^Error: Secret "not-json" is not valid JSON: it must hold \{"client_id"/);
    expect(run.err).toContain('put-secret-value --secret-id not-json');
    expect(run.err).not.toContain('client_id=x');
  });

  it('says when ONEiO answers invalid_client', async () => {
    stubAws();
    secrets.setSecret('wrong-credentials', JSON.stringify({ client_id: CLIENT_ID, client_secret: 'stale' }));

    const run = await runCli([
      'check',
      '--env',
      'qa',
      '--secret-id',
      'wrong-credentials',
      '--token-url',
      oneio.tokenUrl,
    ]);

    expect(run.code).toBe(1);
    expect(run.err).toContain('ONEiO rejected the client credentials (401 (invalid_client))');
    expect(run.err).toContain('client_id and client_secret in secret wrong-credentials');
    expect(run.err).not.toContain('stale');
  });

  it('says when the token endpoint cannot be reached', async () => {
    stubAws();

    const run = await runCli([
      'check',
      '--env',
      'qa',
      '--secret-id',
      SECRET_NAME,
      '--token-url',
      `${closedPortUrl}/oauth2/token`,
    ]);

    expect(run.code).toBe(1);
    expect(run.err).toBe(
      `Error: Cannot reach ONEiO's token endpoint ${closedPortUrl}/oauth2/token (ECONNREFUSED): check the network, proxy or VPN.\n`,
    );
  });

  it('says when AWS cannot be reached', async () => {
    stubAws({ AWS_ENDPOINT_URL_CLOUDFORMATION: closedPortUrl });

    const run = await runCli(['check', '--env', 'qa']);

    expect(run.code).toBe(1);
    expect(run.err).toContain(
      'Cannot reach AWS CloudFormation while reading the outputs of stack OneioRelay-qa (ECONNREFUSED)',
    );
    expect(run.err).toContain(`AWS_ENDPOINT_URL_CLOUDFORMATION (${closedPortUrl})`);
  });

  it('refuses an unknown environment and names the known ones', async () => {
    const run = await runCli(['check', '--env', 'staging']);

    expect(run.code).toBe(2);
    expect(run.err).toContain('Unknown environment "staging": use qa or prod');
  });

  it('talks to the environment token endpoint from infra/config.ts by default', async () => {
    stubAws();

    const run = await runCli(['check', '--env', 'qa', '--secret-id', SECRET_NAME]);

    // Without network the QA host is unreachable; with network it refuses these credentials. Either way the
    // message names the endpoint that was asked.
    expect(run.code).toBe(1);
    expect(run.err).toContain(qa.oneio.tokenUrl);
  });
});

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}
