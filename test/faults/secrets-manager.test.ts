import { afterEach, describe, expect, it, vi } from 'vitest';
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

/**
 * The other half: Secrets Manager took the read and its answer came too late, or it fails once the cached values
 * are older than the 5-minute cache period. The wall clock is moved forward (Date only: timers and sockets keep real
 * time) to age the cache.
 */
describe('ambiguous faults: Secrets Manager late or failing after the cache period', () => {
  let world: FaultWorld | undefined;

  afterEach(async () => {
    vi.useRealTimers();
    await world?.close();
    world = undefined;
  });

  const CACHE_MS = 300_000;
  const STALE_MS = 3_600_000;
  const late = ({ secretsManager }: FaultWorld) =>
    secretsManager.setRule(() => ({ afterApply: 'delay', ms: 10_000 }));

  /** Moves the wall clock forward by `ms` (Date only), as if the environment had stayed warm that long. */
  function age(ms: number): void {
    vi.useFakeTimers({ toFake: ['Date'], shouldAdvanceTime: true, now: Date.now() });
    vi.setSystemTime(Date.now() + ms);
  }

  it('answers after the read time limit, cold, signed source → 503, message nowhere', async () => {
    world = await startFaultWorld();
    late(world);

    const delivery = await sendWebhook(world);

    expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 503, message: 'nowhere' });
    expectLogged(world, `Secret "${SIGNING}" could not be read (TimeoutError)`);
    expectInvariants(world, delivery);
  }, 30_000);

  it.each([
    ['unavailable (503)', unavailable],
    ['answers after the read time limit', late],
  ] as const)(
    '%s after the cache period, warm → 200 with the last good values, reported stale',
    async (_, inject) => {
      world = await startFaultWorld();
      await sendWebhook(world);
      inject(world);
      age(CACHE_MS + 1_000);

      const delivery = await sendWebhook(world);

      expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 200, message: 'delivered' });
      expectLogged(world, 'Secret could not be read; using the last good value');
      expect(world.fleet.logs()).toMatch(/"SecretStale":1/);
      expectInvariants(world, delivery);
    },
    30_000,
  );

  it('unavailable an hour past the cache period, warm → 503 as with nothing in memory', async () => {
    world = await startFaultWorld();
    await sendWebhook(world);
    unavailable(world);
    age(CACHE_MS + STALE_MS + 1_000);

    const delivery = await sendWebhook(world);

    expect({ http: delivery.http, message: delivery.message }).toEqual({ http: 503, message: 'nowhere' });
    expectLogged(world, `Secret "${SIGNING}" could not be read (ServiceUnavailable)`);
    expectInvariants(world, delivery);
  }, 30_000);
});
