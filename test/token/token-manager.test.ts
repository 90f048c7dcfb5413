import { describe, expect, it } from 'vitest';
import {
  OneioEndpointUnconfiguredError,
  TokenEndpointError,
  TokenUnavailableError,
} from '../../functions/relay/core/errors';
import { TokenManager, type TokenManagerOptions } from '../../functions/relay/core/token/token-manager';
import { InMemoryTokenStore } from '../../functions/relay/io/memory/token-store';
import type {
  ClientCredentials,
  CredentialsProvider,
} from '../../functions/relay/ports/credentials-provider';
import type { IssuedToken, TokenEndpoint } from '../../functions/relay/ports/oneio';
import { type TokenStore, TokenStoreUnavailableError } from '../../functions/relay/ports/token-store';

const KEY = 'token#test';
const HOUR_S = 3600;

/** A clock that only moves when told to; `sleep` advances it, so lease polling costs no real time. */
function fakeClock(start = 1_700_000_000_000) {
  let now = start;
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms;
    },
    sleep: async (ms: number) => {
      now += ms;
      await Promise.resolve();
    },
  };
}

/** A token endpoint that counts requests and can be told to fail or to take time. */
function fakeEndpoint(options: { expiresIn?: number; delay?: () => Promise<void> } = {}) {
  let issued = 0;
  const failures: Error[] = [];
  const endpoint: TokenEndpoint & { requests: ClientCredentials[]; failNext(error: Error): void } = {
    requests: [],
    failNext(error) {
      failures.push(error);
    },
    async requestToken(credentials): Promise<IssuedToken> {
      endpoint.requests.push(credentials);
      await options.delay?.();
      const failure = failures.shift();
      if (failure) throw failure;
      issued++;
      return { accessToken: `token-${issued}`, expiresInSeconds: options.expiresIn ?? HOUR_S };
    },
  };
  return endpoint;
}

function fixedCredentials(...rotations: ClientCredentials[]): CredentialsProvider & { reads: number } {
  let index = 0;
  const provider = {
    reads: 0,
    async get(options: { forceRefresh?: boolean } = {}) {
      provider.reads++;
      if (options.forceRefresh && index < rotations.length - 1) index++;
      return rotations[index] as ClientCredentials;
    },
  };
  return provider;
}

const CREDENTIALS = { clientId: 'relay', clientSecret: 's3cr3t' };

function manager(overrides: Partial<TokenManagerOptions> & Pick<TokenManagerOptions, 'store' | 'endpoint'>) {
  return new TokenManager({ key: KEY, credentials: fixedCredentials(CREDENTIALS), ...overrides });
}

/** A store whose every call fails, as DynamoDB does when it is unreachable. */
const unreachableStore: TokenStore = {
  read: () => Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError')),
  tryAcquireLease: () => Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError')),
  publish: () => Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError')),
  releaseLease: () => Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError')),
  invalidate: () => Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError')),
};

describe('TokenManager', () => {
  it('fetches a token on a cold start and publishes it to the store', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });

    const token = await tokens.get(clock.now() + 5_000);

    expect(token.accessToken).toBe('token-1');
    expect(token.issuedAt).toBe(clock.now());
    expect(token.expiresAt).toBe(clock.now() + HOUR_S * 1000);
    expect((await store.read(KEY))?.token).toEqual(token);
    expect((await store.read(KEY))?.lease).toBeUndefined();
  });

  it('makes no store call and no token request on a warm invocation', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    await tokens.get(clock.now() + 5_000);
    const callsAfterColdStart = { ...store.calls };

    clock.advance(30 * 60_000);
    for (let i = 0; i < 100; i++) await tokens.get(clock.now() + 5_000);

    expect(store.calls).toEqual(callsAfterColdStart);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('adopts the token another instance published instead of requesting one', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const first = manager({ store, endpoint, ...clock });
    const second = manager({ store, endpoint, ...clock });

    const a = await first.get(clock.now() + 5_000);
    const b = await second.get(clock.now() + 5_000);

    expect(b).toEqual(a);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('refreshes once when ten callers of ten instances race on a cold fleet', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    let release: () => void = () => undefined;
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The first request hangs until every instance has started, so all of them see "no token yet".
    const endpoint = fakeEndpoint({ delay: () => slow });
    const fleet = Array.from({ length: 10 }, () => manager({ store, endpoint, now: clock.now }));

    const pending = fleet.map((tokens) => tokens.get(Date.now() + 60_000));
    await new Promise((resolve) => setTimeout(resolve, 20));
    release();
    const tokens = await Promise.all(pending);

    expect(endpoint.requests).toHaveLength(1);
    expect(new Set(tokens.map((t) => t.version)).size).toBe(1);
  });

  it('shares one refresh among concurrent callers of the same instance', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });

    const results = await Promise.all(Array.from({ length: 20 }, () => tokens.get(clock.now() + 5_000)));

    expect(endpoint.requests).toHaveLength(1);
    expect(store.calls.read).toBe(1);
    expect(new Set(results.map((t) => t.version)).size).toBe(1);
  });

  it('refreshes ahead of expiry: from min(5 min, 20 % of the lifetime) before it', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    const first = await tokens.get(clock.now() + 5_000);

    clock.advance(HOUR_S * 1000 - 300_001);
    expect(await tokens.get(clock.now() + 5_000)).toBe(first);
    clock.advance(2);
    const second = await tokens.get(clock.now() + 5_000);

    expect(second.accessToken).toBe('token-2');
    expect(endpoint.requests).toHaveLength(2);
  });

  it('keeps using the current token while another instance holds the refresh lease', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const holder = manager({ store, endpoint, ...clock });
    const other = manager({ store, endpoint, ...clock });
    const current = await holder.get(clock.now() + 5_000);
    await other.get(clock.now() + 5_000);
    clock.advance(HOUR_S * 1000 - 60_000);
    await store.tryAcquireLease(
      KEY,
      { owner: 'someone-else', until: clock.now() + 10_000 },
      clock.now(),
      current.version,
    );

    const token = await other.get(clock.now() + 5_000);
    const readsAfterFirstLook = store.calls.read;
    await other.get(clock.now() + 5_000);
    const readsRightAfter = store.calls.read;

    clock.advance(1_500);
    await other.get(clock.now() + 5_000);

    expect(token).toEqual(current);
    expect(endpoint.requests).toHaveLength(1);
    // It does not look again at once, but about a second later, long before the holder's lease lapses.
    expect(readsRightAfter).toBe(readsAfterFirstLook);
    expect(store.calls.read).toBe(readsAfterFirstLook + 1);
  });

  it('waits for the lease holder to publish when it has no usable token', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    await store.tryAcquireLease(
      KEY,
      { owner: 'someone-else', until: clock.now() + 10_000 },
      clock.now(),
      undefined,
    );
    const published = {
      accessToken: 'from-the-holder',
      issuedAt: clock.now(),
      expiresAt: clock.now() + HOUR_S * 1000,
      version: 'v-holder',
    };
    let polls = 0;
    const tokens = manager({
      store,
      endpoint,
      now: clock.now,
      sleep: async (ms) => {
        clock.advance(ms);
        polls++;
        if (polls === 3) await store.publish(KEY, 'someone-else', published);
      },
    });

    const token = await tokens.get(clock.now() + 5_000);

    expect(token).toEqual(published);
    expect(endpoint.requests).toHaveLength(0);
    expect(polls).toBe(3);
  });

  it('takes the lease over when its holder died without publishing', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    await store.tryAcquireLease(
      KEY,
      { owner: 'crashed', until: clock.now() + 2_000 },
      clock.now(),
      undefined,
    );
    const tokens = manager({ store, endpoint, ...clock });

    const token = await tokens.get(clock.now() + 8_000);

    expect(token.accessToken).toBe('token-1');
    expect((await store.read(KEY))?.token?.version).toBe(token.version);
  });

  it('gives up with TokenUnavailableError when no token arrives before the deadline', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    await store.tryAcquireLease(KEY, { owner: 'stuck', until: clock.now() + 60_000 }, clock.now(), undefined);
    const tokens = manager({ store, endpoint: fakeEndpoint(), ...clock });

    await expect(tokens.get(clock.now() + 1_000)).rejects.toBeInstanceOf(TokenUnavailableError);
  });

  it('does not publish a token when its lease was taken over meanwhile (fencing)', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint({
      // While this refresher waits on the endpoint, its lease lapses and another instance takes it.
      delay: async () => {
        clock.advance(11_000);
        await store.tryAcquireLease(
          KEY,
          { owner: 'newer', until: clock.now() + 10_000 },
          clock.now(),
          undefined,
        );
      },
    });
    const tokens = manager({ store, endpoint, now: clock.now });

    const token = await tokens.get(clock.now() + 30_000);

    expect(token.accessToken).toBe('token-1');
    const record = await store.read(KEY);
    expect(record?.token).toBeUndefined();
    expect(record?.lease?.owner).toBe('newer');
  });

  it('invalidates only the token that failed, so an old token cannot discard a newer one', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    const failed = await tokens.get(clock.now() + 5_000);

    await tokens.invalidate(failed);
    const fresh = await tokens.get(clock.now() + 5_000);
    await tokens.invalidate(failed);

    expect(fresh.accessToken).toBe('token-2');
    expect((await store.read(KEY))?.token).toEqual(fresh);
    expect(await tokens.get(clock.now() + 5_000)).toEqual(fresh);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('keeps using the current token when the endpoint fails, and backs off for at least 3 s', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    const current = await tokens.get(clock.now() + 5_000);
    clock.advance(HOUR_S * 1000 - 120_000);
    endpoint.failNext(new TokenEndpointError('Token endpoint answered 503', 'server', 503));

    const during = await tokens.get(clock.now() + 5_000);
    clock.advance(2_900);
    const stillDuring = await tokens.get(clock.now() + 5_000);

    expect(during).toEqual(current);
    expect(stillDuring).toEqual(current);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('fails fast with TokenUnavailableError when there is no token and the endpoint fails', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    endpoint.failNext(new TokenEndpointError('Token endpoint answered 500', 'server', 500));
    const tokens = manager({ store, endpoint, ...clock });

    await expect(tokens.get(clock.now() + 5_000)).rejects.toBeInstanceOf(TokenUnavailableError);
    // The lease is given back so that another instance may try at once.
    expect((await store.read(KEY))?.lease).toBeUndefined();
  });

  it('says why it has no token while backing off, so a caller can tell a missing pair from an outage', async () => {
    // Prepare: the credentials of this ONEiO endpoint are not in the secret
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const missing = new OneioEndpointUnconfiguredError(
      'Secret "s" holds no credentials for ONEiO endpoint "itsm"',
      'itsm',
    );
    const credentials = { get: () => Promise.reject(missing) };
    const tokens = manager({ store, endpoint, credentials, ...clock });

    // Act: the first caller meets the failure, the next one the backoff it started
    const first = await tokens.get(clock.now() + 5_000).catch((e: unknown) => e);
    clock.advance(1_000);
    const during = await tokens.get(clock.now() + 5_000).catch((e: unknown) => e);

    // Assess
    expect(first).toBeInstanceOf(TokenUnavailableError);
    expect((first as Error).cause).toBe(missing);
    expect(during).toBeInstanceOf(TokenUnavailableError);
    expect((during as Error).message).toMatch(/backing off/);
    expect((during as Error).cause).toBe(missing);
    expect(endpoint.requests).toHaveLength(0);
  });

  it('re-reads rotated credentials once after invalid_client', async () => {
    const clock = fakeClock();
    const endpoint = fakeEndpoint();
    endpoint.failNext(new TokenEndpointError('rejected', 'invalid_client', 401));
    const credentials = fixedCredentials(CREDENTIALS, { clientId: 'relay', clientSecret: 'rotated' });
    const tokens = manager({ store: new InMemoryTokenStore(), endpoint, credentials, ...clock });

    const token = await tokens.get(clock.now() + 5_000);

    expect(token.accessToken).toBe('token-1');
    expect(endpoint.requests.map((c) => c.clientSecret)).toEqual(['s3cr3t', 'rotated']);
  });

  it('does not repeat the request after invalid_client when the secret did not change', async () => {
    const clock = fakeClock();
    const endpoint = fakeEndpoint();
    endpoint.failNext(new TokenEndpointError('rejected', 'invalid_client', 401));
    const tokens = manager({ store: new InMemoryTokenStore(), endpoint, ...clock });

    await expect(tokens.get(clock.now() + 5_000)).rejects.toThrow(TokenUnavailableError);
    expect(endpoint.requests).toHaveLength(1);
  });

  it('degrades to a token of its own when the store is unreachable, and reports it', async () => {
    const clock = fakeClock();
    const endpoint = fakeEndpoint();
    const reported: string[] = [];
    const tokens = manager({
      store: unreachableStore,
      endpoint,
      ...clock,
      events: { storeUnavailable: (error) => reported.push(error.message) },
    });

    const first = await tokens.get(clock.now() + 5_000);
    const second = await tokens.get(clock.now() + 5_000);

    expect(first.accessToken).toBe('token-1');
    expect(second).toBe(first);
    expect(reported).toEqual(['DynamoDB call failed: TimeoutError']);
  });

  it('never hands out a token past its hard cutoff', async () => {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    const { version } = await tokens.get(clock.now() + 5_000);
    await store.tryAcquireLease(
      KEY,
      { owner: 'stuck', until: clock.now() + HOUR_S * 1000 },
      clock.now(),
      version,
    );

    clock.advance(HOUR_S * 1000 - 29_000);

    await expect(tokens.get(clock.now() + 1_000)).rejects.toBeInstanceOf(TokenUnavailableError);
  });
});

/**
 * A token endpoint whose answers wait until `release()` and that gives up when the request's signal aborts, as
 * undici does: a request cut short by its timeout fails like a network error.
 */
function gatedEndpoint() {
  let open: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let issued = 0;
  const endpoint: TokenEndpoint & { requests: number; aborted: number; release(): void } = {
    requests: 0,
    aborted: 0,
    release: () => open(),
    async requestToken(_credentials, { signal }): Promise<IssuedToken> {
      endpoint.requests++;
      await new Promise<void>((resolve, reject) => {
        const abort = () => {
          endpoint.aborted++;
          reject(new TokenEndpointError('Token endpoint unreachable (TimeoutError)', 'network'));
        };
        if (signal?.aborted) return abort();
        signal?.addEventListener('abort', abort, { once: true });
        gate.then(resolve, reject);
      });
      issued++;
      return { accessToken: `token-${issued}`, expiresInSeconds: HOUR_S };
    },
  };
  return endpoint;
}

const realTime = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('TokenManager: a refresh belongs to no caller', () => {
  it('gives the token request its own timeout, not the leftover budget of the caller that started it', async () => {
    // Prepare: the first caller has 30 ms left; the token endpoint answers after 80 ms.
    const store = new InMemoryTokenStore();
    const endpoint = gatedEndpoint();
    const failures: Error[] = [];
    const tokens = manager({ store, endpoint, events: { refreshFailed: (error) => failures.push(error) } });

    // Act
    const hurried = tokens.get(Date.now() + 30);
    const hurriedOutcome = hurried.then(
      () => 'token',
      (error: unknown) => error,
    );
    await realTime(80);
    endpoint.release();
    const patient = await tokens.get(Date.now() + 5_000);

    // Assess: the hurried caller gave up alone; the request was not cut short and served the next caller.
    expect(await hurriedOutcome).toBeInstanceOf(TokenUnavailableError);
    expect(endpoint.aborted).toBe(0);
    expect(endpoint.requests).toBe(1);
    expect(patient.accessToken).toBe('token-1');
    expect(failures).toEqual([]);
  });

  it('lets a caller short of time give up while the refresh carries on for the callers still waiting', async () => {
    // Prepare
    const store = new InMemoryTokenStore();
    const endpoint = gatedEndpoint();
    const events = { failed: 0, refreshed: 0 };
    const tokens = manager({
      store,
      endpoint,
      events: { refreshFailed: () => events.failed++, refreshed: () => events.refreshed++ },
    });

    // Act: a patient caller starts the refresh, a hurried one joins it and gives up, a third joins later.
    const first = tokens.get(Date.now() + 5_000);
    const hurried = tokens.get(Date.now() + 20).catch((error: unknown) => error);
    expect(await hurried).toBeInstanceOf(TokenUnavailableError);
    const late = tokens.get(Date.now() + 5_000);
    endpoint.release();
    const [a, b] = await Promise.all([first, late]);

    // Assess: one request, one token for everyone, no failure reported and no backoff started.
    expect(endpoint.requests).toBe(1);
    expect(a).toEqual(b);
    expect(events).toEqual({ failed: 0, refreshed: 1 });
    expect(await tokens.get(Date.now() + 5_000)).toEqual(a);
  });

  it('starts no failure backoff when every caller gave up before the refresh ended', async () => {
    // Prepare
    const store = new InMemoryTokenStore();
    const endpoint = gatedEndpoint();
    const tokens = manager({ store, endpoint });

    // Act: the only caller gives up; the refresh finishes on its own afterwards.
    await expect(tokens.get(Date.now() + 20)).rejects.toBeInstanceOf(TokenUnavailableError);
    endpoint.release();
    await realTime(10);
    const next = await tokens.get(Date.now() + 5_000);

    // Assess: the next caller gets the token that refresh obtained, at once, with no second request.
    expect(next.accessToken).toBe('token-1');
    expect(endpoint.requests).toBe(1);
    expect((await store.read(KEY))?.token?.version).toBe(next.version);
  });
});

describe('TokenManager: tokens ONEiO refused', () => {
  /** A store whose invalidate fails, as when DynamoDB blips at the wrong moment; everything else works. */
  function storeFailingInvalidate(): InMemoryTokenStore {
    const store = new InMemoryTokenStore();
    store.invalidate = () =>
      Promise.reject(new TokenStoreUnavailableError('DynamoDB call failed: TimeoutError'));
    return store;
  }

  it('never hands out a refused version again, even when the store still holds it', async () => {
    // Prepare
    const clock = fakeClock();
    const store = storeFailingInvalidate();
    const endpoint = fakeEndpoint();
    const tokens = manager({ store, endpoint, ...clock });
    const refused = await tokens.get(clock.now() + 5_000);

    // Act
    const retry = await tokens.invalidate(refused);
    const next = await tokens.get(clock.now() + 5_000);

    // Assess: the store still showed the refused token as fresh; this instance replaced it all the same.
    expect(retry).toBe(true);
    expect(next.accessToken).toBe('token-2');
    expect((await store.read(KEY))?.token).toEqual(next);
    expect(endpoint.requests).toHaveLength(2);
  });

  it('does not fall back to a refused token while another instance holds the refresh lease', async () => {
    // Prepare: the token goes bad near the end of its life, while another instance is refreshing it.
    const clock = fakeClock();
    const store = storeFailingInvalidate();
    const tokens = manager({ store, endpoint: fakeEndpoint(), ...clock });
    const refused = await tokens.get(clock.now() + 5_000);
    clock.advance(HOUR_S * 1000 - 120_000);
    await store.tryAcquireLease(
      KEY,
      { owner: 'other', until: clock.now() + 60_000 },
      clock.now(),
      refused.version,
    );

    // Act
    await tokens.invalidate(refused);
    const outcome = tokens.get(clock.now() + 2_000);

    // Assess: a usable token by its times, but refused: better no token than a 401 per message.
    await expect(outcome).rejects.toBeInstanceOf(TokenUnavailableError);
  });

  it('does not hand out a token that was refused while the refresh that found it was under way', async () => {
    // Prepare: instance A reads the store (slowly) while B's delivery of the same token gets a 401.
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const b = manager({ store, endpoint, ...clock });
    const shared = await b.get(clock.now() + 5_000);
    let readsHeld = 0;
    const slowStore = Object.create(store) as InMemoryTokenStore;
    slowStore.read = async (key: string) => {
      const record = await store.read(key);
      if (readsHeld++ === 0) await a.invalidate(shared);
      return record;
    };
    const a = manager({ store: slowStore, endpoint, ...clock });

    // Act
    const token = await a.get(clock.now() + 5_000);

    // Assess
    expect(token.version).not.toBe(shared.version);
    expect(token.accessToken).toBe('token-2');
  });
});

describe('TokenManager: ONEiO refusing new tokens (endpoint disabled)', () => {
  function refusingFleet() {
    const clock = fakeClock();
    const store = new InMemoryTokenStore();
    const endpoint = fakeEndpoint();
    const holds: { refusedTokens: number; holdSeconds: number }[] = [];
    const tokens = manager({
      store,
      endpoint,
      ...clock,
      events: { refusalHold: (info) => holds.push(info) },
    });
    /** One delivery that gets a 401 for whatever token it is given; resolves what `invalidate` said. */
    const refusedDelivery = async () => tokens.invalidate(await tokens.get(clock.now() + 5_000));
    return { clock, store, endpoint, holds, tokens, refusedDelivery };
  }

  it('replaces a single refused (revoked) token and does not hold off', async () => {
    // Prepare
    const { clock, endpoint, holds, tokens, refusedDelivery } = refusingFleet();

    // Act
    const retry = await refusedDelivery();
    const next = await tokens.get(clock.now() + 5_000);

    // Assess
    expect(retry).toBe(true);
    expect(next.accessToken).toBe('token-2');
    expect(endpoint.requests).toHaveLength(2);
    expect(holds).toEqual([]);
  });

  it('holds off for five minutes once three new tokens were refused within five minutes', async () => {
    // Prepare
    const { clock, store, endpoint, holds, tokens, refusedDelivery } = refusingFleet();

    // Act: three tokens refused one after the other, a minute apart.
    const verdicts = [await refusedDelivery()];
    clock.advance(60_000);
    verdicts.push(await refusedDelivery());
    clock.advance(60_000);
    const third = await tokens.get(clock.now() + 5_000);
    const invalidationsBefore = store.calls.invalidate;
    verdicts.push(await tokens.invalidate(third));
    clock.advance(4 * 60_000);
    const during = tokens.get(clock.now() + 5_000);

    // Assess: no fleet-wide invalidation and no token request for the third one or during the hold.
    expect(verdicts).toEqual([true, true, false]);
    expect(store.calls.invalidate).toBe(invalidationsBefore);
    expect((await store.read(KEY))?.token?.version).toBe(third.version);
    await expect(during).rejects.toThrow(
      `ONEiO keeps refusing new tokens (401); none is requested before ${new Date(clock.now() + 60_000).toISOString()}`,
    );
    expect(endpoint.requests).toHaveLength(3);
    expect(holds).toEqual([{ refusedTokens: 3, holdSeconds: 300 }]);
  });

  it('keeps answering false while holding, and reports the hold once', async () => {
    // Prepare
    const { clock, holds, tokens, refusedDelivery } = refusingFleet();
    const first = await tokens.get(clock.now() + 5_000);
    await refusedDelivery();
    await refusedDelivery();
    await refusedDelivery();

    // Act: a delivery still holding the first token gets its 401 late.
    clock.advance(30_000);
    const late = await tokens.invalidate(first);

    // Assess
    expect(late).toBe(false);
    expect(holds).toHaveLength(1);
  });

  it('does not add up refusals further apart than five minutes', async () => {
    // Prepare
    const { clock, endpoint, holds, refusedDelivery } = refusingFleet();

    // Act: a token revoked every six minutes (say, an operator testing revocation).
    const verdicts: boolean[] = [];
    for (let i = 0; i < 4; i++) {
      verdicts.push(await refusedDelivery());
      clock.advance(6 * 60_000);
    }

    // Assess
    expect(verdicts).toEqual([true, true, true, true]);
    expect(holds).toEqual([]);
    expect(endpoint.requests).toHaveLength(4);
  });

  it('asks for one new token after the hold, and holds again at once when it is refused too', async () => {
    // Prepare
    const { clock, endpoint, holds, tokens, refusedDelivery } = refusingFleet();
    for (let i = 0; i < 3; i++) await refusedDelivery();

    // Act
    clock.advance(5 * 60_000);
    const probe = await tokens.get(clock.now() + 5_000);
    const verdict = await tokens.invalidate(probe);

    // Assess
    expect(probe.accessToken).toBe('token-4');
    expect(verdict).toBe(false);
    expect(endpoint.requests).toHaveLength(4);
    expect(holds.map((h) => h.refusedTokens)).toEqual([3, 1]);
  });

  it('resumes after the hold when ONEiO takes the new token', async () => {
    // Prepare
    const { clock, endpoint, tokens, refusedDelivery } = refusingFleet();
    for (let i = 0; i < 3; i++) await refusedDelivery();

    // Act
    clock.advance(5 * 60_000);
    const probe = await tokens.get(clock.now() + 5_000);
    clock.advance(10 * 60_000);
    const later = await tokens.get(clock.now() + 5_000);

    // Assess: the probe worked (no 401): it stays in use, nothing else is requested.
    expect(later).toEqual(probe);
    expect(endpoint.requests).toHaveLength(4);
  });

  it('uses a token another instance published meanwhile, even while holding', async () => {
    // Prepare
    const { clock, store, endpoint, tokens, refusedDelivery } = refusingFleet();
    for (let i = 0; i < 3; i++) await refusedDelivery();
    const other = manager({ store, endpoint, ...clock });
    await store.invalidate(KEY, (await store.read(KEY))?.token?.version ?? '');
    const published = await other.get(clock.now() + 5_000);

    // Act
    const token = await tokens.get(clock.now() + 5_000);

    // Assess
    expect(token).toEqual(published);
  });
});
