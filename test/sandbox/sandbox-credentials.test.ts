import { describe, expect, it } from 'vitest';
import { sandboxCredentials } from '../../infra/sandbox/sandbox';

describe("the sandbox's credentials secret", () => {
  it('holds the default pair alone while QA names no ONEiO endpoint', () => {
    expect(sandboxCredentials({ kind: 'emulator' }, [])).toEqual({
      client_id: 'sandbox-client',
      client_secret: 'sandbox-client-secret',
    });
  });

  it('gives each named ONEiO endpoint a pair of its own with the emulator, as a deployed secret has', () => {
    // Act
    const secret = sandboxCredentials({ kind: 'emulator' }, ['itsm', 'hr']);

    // Assess
    expect(secret.endpoints).toEqual({
      itsm: { client_id: 'sandbox-itsm-client', client_secret: 'sandbox-itsm-client-secret' },
      hr: { client_id: 'sandbox-hr-client', client_secret: 'sandbox-hr-client-secret' },
    });
    const ids = [secret.client_id, ...Object.values(secret.endpoints ?? {}).map((pair) => pair.client_id)];
    expect(new Set(ids).size).toBe(3);
  });

  it('uses the one pair it was given for every endpoint of a real ONEiO', () => {
    // Act
    const secret = sandboxCredentials(
      {
        kind: 'remote',
        label: 'ONEiO QA',
        tokenUrl: 'https://receiver-authz-test.service-flow.com/oauth2/token',
        receiverUrl: 'https://rest-receiver-test.service-flow.com/api/v2',
        clientId: 'qa-id',
        clientSecret: 'qa-secret',
      },
      ['itsm'],
    );

    // Assess
    expect(secret).toEqual({
      client_id: 'qa-id',
      client_secret: 'qa-secret',
      endpoints: { itsm: { client_id: 'qa-id', client_secret: 'qa-secret' } },
    });
  });
});
