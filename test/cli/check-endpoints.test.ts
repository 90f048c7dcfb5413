import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { type OneioEmulator, startOneioEmulator } from '../../infra/local/oneio-emulator';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../infra/local/secrets-manager-emulator';
import { LOCAL_AWS, runCli, stubAwsEnvironment } from './cli-harness';

// QA as an operator routing two sources to named ONEiO endpoints would configure it.
vi.mock('../../infra/config', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../infra/config')>();
  const qa = {
    ...original.qa,
    oneio: { ...original.qa.oneio, endpoints: ['itsm', 'hr'] },
    sources: {
      ...original.qa.sources,
      jira: { scheme: 'github', oneioEndpoint: 'itsm' },
      people: { scheme: 'github', oneioEndpoint: 'hr' },
    },
  };
  return { ...original, qa, environments: [qa, original.prod] };
});

const DEFAULT = { clientId: 'relay-qa', clientSecret: 'qa-secret &=+ %é' };
const ITSM = { clientId: 'relay-itsm', clientSecret: 'itsm-secret-5e1a' };
const HR = { clientId: 'relay-hr', clientSecret: 'hr-secret-77c0' };

function secretWith(endpoints: Record<string, { clientId: string; clientSecret: string }>): string {
  return JSON.stringify({
    client_id: DEFAULT.clientId,
    client_secret: DEFAULT.clientSecret,
    endpoints: Object.fromEntries(
      Object.entries(endpoints).map(([name, p]) => [
        name,
        { client_id: p.clientId, client_secret: p.clientSecret },
      ]),
    ),
  });
}

/** `check` for an environment with named ONEiO endpoints: every pair gets a token, or the command fails. */
describe('oneio-relay check, with named ONEiO endpoints', () => {
  let secrets: SecretsManagerEmulator;
  let oneio: OneioEmulator;

  beforeAll(async () => {
    secrets = await startSecretsManagerEmulator({
      secrets: {
        complete: secretWith({ itsm: ITSM, hr: HR }),
        'without-hr': secretWith({ itsm: ITSM }),
        'refused-itsm': secretWith({ itsm: { ...ITSM, clientSecret: 'old-itsm-password' }, hr: HR }),
      },
    });
    oneio = await startOneioEmulator({
      clientId: DEFAULT.clientId,
      clientSecret: DEFAULT.clientSecret,
      clients: [ITSM, HR],
    });
  });

  afterAll(async () => {
    await Promise.all([secrets.close(), oneio.close()]);
  });

  afterEach(() => {
    vi.unstubAllEnvs();
  });

  function check(secretId: string) {
    stubAwsEnvironment({ ...LOCAL_AWS, AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url });
    return runCli(['check', '--env', 'qa', '--secret-id', secretId, '--token-url', oneio.tokenUrl]);
  }

  it('gets a token with the default pair and with the pair of every endpoint the config names', async () => {
    // Prepare
    const before = oneio.tokenRequests.clientIds.length;

    // Act
    const run = await check('complete');

    // Assess
    expect(run.err).toBe('');
    expect(run.code).toBe(0);
    expect(oneio.tokenRequests.clientIds.slice(before)).toEqual([
      DEFAULT.clientId,
      ITSM.clientId,
      HR.clientId,
    ]);
    expect(run.out).toContain('OK: ONEiO issued a token for qa, for each of its 3 credential pairs.');
    expect(run.out).toContain(`credentials secret  complete (client_id ${DEFAULT.clientId})`);
    expect(run.out).toContain(`endpoint itsm       (client_id ${ITSM.clientId})`);
    expect(run.out).toContain(`endpoint hr         (client_id ${HR.clientId})`);
    expect(run.out.match(/scope {15}ROLE_INTEGRATION/g)).toHaveLength(3);
    expect(run.out.match(/expires {13}in 59 min 59 s, at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g)).toHaveLength(3);
    for (const secret of [DEFAULT.clientSecret, ITSM.clientSecret, HR.clientSecret]) {
      expect(run.out + run.err).not.toContain(secret);
    }
    expect(run.out).not.toMatch(/[A-Za-z0-9_-]{43}/);
  });

  it('fails naming the endpoint whose pair the secret lacks, and how to add it, after checking the others', async () => {
    // Prepare
    const before = oneio.tokenRequests.clientIds.length;

    // Act
    const run = await check('without-hr');

    // Assess
    expect(run.code).toBe(1);
    expect(oneio.tokenRequests.clientIds.slice(before)).toEqual([DEFAULT.clientId, ITSM.clientId]);
    expect(run.out).toContain('FAILED: 1 of the 3 credential pairs of qa got no token.');
    expect(run.out).toContain(`endpoint itsm       (client_id ${ITSM.clientId})`);
    expect(run.err).toBe(
      'Error: 1 of the 3 credential pairs got no token:\n' +
        '  endpoint hr: Secret "without-hr" holds no credentials for ONEiO endpoint "hr": add "endpoints": ' +
        '{"hr": {"client_id": "…", "client_secret": "…"}} to it (aws secretsmanager put-secret-value ' +
        '--secret-id without-hr --secret-string file://credentials.json)\n',
    );
  });

  it('fails naming the endpoint whose pair ONEiO refuses', async () => {
    // Act
    const run = await check('refused-itsm');

    // Assess
    expect(run.code).toBe(1);
    expect(run.err).toContain('endpoint itsm: ONEiO rejected the client credentials (401 (invalid_client))');
    expect(run.err).not.toContain('endpoint hr');
    expect(run.out + run.err).not.toContain('old-itsm-password');
  });
});
