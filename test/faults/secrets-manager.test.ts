import { afterEach, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/relay/contract';
import { CLIENT_ID, CLIENT_SECRET, GITHUB_SIGNING_SECRET } from '../support/relay-fleet';
import {
  type Expected,
  expectInvariants,
  expectLogged,
  type FaultWorld,
  matrix,
  sendWebhook,
  startFaultWorld,
} from './fault-world';

/**
 * Secrets Manager fails or holds something unusable. The signing secret is needed before a webhook can be accepted:
 * without it the answer is 503 and nothing is accepted. The ONEiO credentials are needed only to deliver: without
 * them an accepted webhook is kept in the outbox (202) for the sweep. Warm environments keep both in memory.
 */
interface Row {
  readonly fault: string;
  /** The function's environment: a secret id that does not exist. */
  readonly env?: Readonly<Record<string, string>>;
  readonly inject?: (world: FaultWorld) => void;
  /** Deliver one webhook first, so the environment holds both secrets in memory. */
  readonly warm?: boolean;
  /** `demo` is unauthenticated: it needs no signing secret. */
  readonly source: 'github' | 'demo';
  readonly expected: Expected;
  /** The log names the secret and what is wrong with it. */
  readonly logSays?: string;
}

const CREDENTIALS = 'oneio-relay/test/oneio';
const SIGNING = 'oneio-relay/test/signing';
const unavailable = ({ fleet }: FaultWorld) => fleet.secrets.failNext({ times: 1_000, status: 503 });

const ROWS: readonly Row[] = [
  {
    fault: 'unavailable (503), signed source, cold',
    inject: unavailable,
    source: 'github',
    expected: { http: 503, message: 'nowhere' },
    logSays: `Secret "${SIGNING}" could not be read (ServiceUnavailable)`,
  },
  {
    fault: 'unavailable (503), unauthenticated source, cold',
    inject: unavailable,
    source: 'demo',
    expected: { http: 202, message: 'queued' },
    logSays: `Secret "${CREDENTIALS}" could not be read (ServiceUnavailable)`,
  },
  {
    fault: 'stalls (accepts connections, never answers), signed source, cold',
    inject: ({ secretsManager }) => secretsManager.setRule(() => 'hang'),
    source: 'github',
    expected: { http: 503, message: 'nowhere' },
    logSays: `Secret "${SIGNING}" could not be read (TimeoutError)`,
  },
  {
    fault: 'unavailable (503), warm environment',
    inject: unavailable,
    warm: true,
    source: 'github',
    expected: { http: 200, message: 'delivered' },
  },
  {
    fault: 'ONEiO credentials secret missing',
    env: { [ENV.credentialsSecretId]: 'oneio-relay/test/no-such-secret' },
    source: 'github',
    expected: { http: 202, message: 'queued' },
    logSays: 'Secret "oneio-relay/test/no-such-secret" could not be read (ResourceNotFoundException)',
  },
  {
    fault: 'signing secret missing',
    env: { [ENV.signingSecretsSecretId]: 'oneio-relay/test/no-such-secret' },
    source: 'github',
    expected: { http: 503, message: 'nowhere' },
    logSays: 'Secret "oneio-relay/test/no-such-secret" could not be read (ResourceNotFoundException)',
  },
  {
    fault: 'ONEiO credentials secret not JSON',
    inject: ({ fleet }) =>
      fleet.secrets.setSecret(CREDENTIALS, `client_id=${CLIENT_ID}&client_secret=${CLIENT_SECRET}`),
    source: 'github',
    expected: { http: 202, message: 'queued' },
    logSays: `Secret "${CREDENTIALS}" is not valid JSON`,
  },
  {
    fault: 'ONEiO credentials secret without client_secret',
    inject: ({ fleet }) => fleet.secrets.setSecret(CREDENTIALS, JSON.stringify({ client_id: CLIENT_ID })),
    source: 'github',
    expected: { http: 202, message: 'queued' },
    logSays: '"client_secret" is missing or not a non-empty string',
  },
  {
    fault: 'signing secret not JSON',
    inject: ({ fleet }) => fleet.secrets.setSecret(SIGNING, `github: ${GITHUB_SIGNING_SECRET}`),
    source: 'github',
    expected: { http: 503, message: 'nowhere' },
    logSays: `Secret "${SIGNING}" is not valid JSON`,
  },
];

describe('fault matrix: Secrets Manager', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    await world?.close();
    world = undefined;
  });

  // A stalled service can keep an invocation running up to the function timeout (25 s).
  it.each(matrix(ROWS))('%s', { timeout: 45_000 }, async (_, row) => {
    world = await startFaultWorld(row.env);
    if (row.warm) await sendWebhook(world, row.source);
    row.inject?.(world);
    const before = {
      tokens: world.fleet.oneio.tokenRequests.count,
      posts: world.fleet.oneio.receiverRequests,
    };

    const delivery = await sendWebhook(world, row.source);

    expect({ http: delivery.http, message: delivery.message }).toEqual(row.expected);
    if (delivery.message !== 'delivered') {
      // Without credentials nothing reaches ONEiO at all, not even a token request.
      expect(world.fleet.oneio.tokenRequests.count - before.tokens).toBe(0);
      expect(world.fleet.oneio.receiverRequests - before.posts).toBe(0);
    }
    if (row.logSays !== undefined) expectLogged(world, row.logSays);
    expectInvariants(world, delivery);
  });
});
