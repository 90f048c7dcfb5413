import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import { OneioEndpointUnconfiguredError, SecretError } from '../../functions/relay/core/errors';
import { SecretsManagerCredentialsProvider } from '../../functions/relay/io/secrets-manager/credentials-provider';
import { JsonSecret } from '../../functions/relay/io/secrets-manager/json-secret';
import { SecretsManagerSigningSecrets } from '../../functions/relay/io/secrets-manager/signing-secrets';
import { FakeClock } from './fakes';

const SECRET_ID = 'oneio-relay/qa/oneio-credentials';
const MAX_AGE_MS = 300_000;

/**
 * A stand-in for the SDK client: answers GetSecretValue with the current `value` (or throws `failure`), and counts
 * the calls. `hold()` keeps the next answers pending until `release()`, to make reads overlap; a held answer gives
 * up when the caller's abort signal fires, as the SDK does (with an `AbortError`).
 */
class FakeSecretsManager {
  value: string | undefined;
  failure: Error | undefined;
  readonly requestedIds: string[] = [];
  private gate: Promise<void> | undefined;
  private open: (() => void) | undefined;

  constructor(value: string | object) {
    this.value = typeof value === 'string' ? value : JSON.stringify(value);
  }

  readonly send = vi.fn(async (command: unknown, options?: { abortSignal?: AbortSignal }) => {
    if (!(command instanceof GetSecretValueCommand)) throw new Error('only GetSecretValue is expected');
    this.requestedIds.push(command.input.SecretId ?? '');
    const signal = options?.abortSignal;
    await Promise.race([
      this.gate,
      new Promise<never>((_, reject) =>
        signal?.addEventListener('abort', () =>
          reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })),
        ),
      ),
    ]);
    if (this.failure) throw this.failure;
    return { SecretString: this.value };
  });

  hold(): void {
    this.gate = new Promise((resolve) => {
      this.open = resolve;
    });
  }

  release(): void {
    this.open?.();
    this.gate = undefined;
  }

  /** Only `send` is used by the code under test; the cast keeps the real client's type at the boundary. */
  asClient(): SecretsManagerClient {
    return this as unknown as SecretsManagerClient;
  }
}

async function secretError(run: Promise<unknown>): Promise<SecretError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof SecretError) return error;
    throw error;
  }
  throw new Error('expected a SecretError');
}

describe('JsonSecret', () => {
  it('reads the secret by its id and returns the JSON object', async () => {
    // Prepare
    const sm = new FakeSecretsManager({ client_id: 'relay-qa', client_secret: 's3cr3t' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);

    // Act
    const value = await secret.read();

    // Assess
    expect(value).toEqual({ client_id: 'relay-qa', client_secret: 's3cr3t' });
    expect(sm.requestedIds).toEqual([SECRET_ID]);
  });

  it('serves many reads within maxAge from one call', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: '1' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { maxAgeMs: MAX_AGE_MS, now: clock.now });

    // Act
    for (let i = 0; i < 5; i++) {
      await secret.read();
      clock.advance(MAX_AGE_MS / 10);
    }

    // Assess
    expect(sm.send).toHaveBeenCalledTimes(1);
  });

  it('reads the secret again once maxAge has passed', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'old' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { maxAgeMs: MAX_AGE_MS, now: clock.now });
    await secret.read();
    sm.value = JSON.stringify({ a: 'new' });

    // Act
    clock.advance(MAX_AGE_MS - 1);
    const before = await secret.read();
    clock.advance(1);
    const after = await secret.read();

    // Assess
    expect(before).toEqual({ a: 'old' });
    expect(after).toEqual({ a: 'new' });
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it('caches for five minutes by default', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: '1' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now });
    await secret.read();

    // Act
    clock.advance(299_999);
    await secret.read();
    clock.advance(1);
    await secret.read();

    // Assess
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it('re-reads on forceRefresh, however fresh the cache', async () => {
    // Prepare
    const sm = new FakeSecretsManager({ a: 'old' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);
    await secret.read();
    sm.value = JSON.stringify({ a: 'rotated' });

    // Act
    const value = await secret.read({ forceRefresh: true });

    // Assess
    expect(value).toEqual({ a: 'rotated' });
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it('shares one call between concurrent reads', async () => {
    // Prepare
    const sm = new FakeSecretsManager({ a: '1' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);
    sm.hold();

    // Act
    const reads = Promise.all(Array.from({ length: 10 }, () => secret.read()));
    sm.release();
    const values = await reads;

    // Assess
    expect(sm.send).toHaveBeenCalledTimes(1);
    for (const value of values) expect(value).toEqual({ a: '1' });
  });

  it('tries again on the next read after a failed call', async () => {
    // Prepare
    const sm = new FakeSecretsManager({ a: '1' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);
    sm.failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    await secret.read().catch(() => undefined);
    sm.failure = undefined;

    // Act
    const value = await secret.read();

    // Assess
    expect(value).toEqual({ a: '1' });
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it('reports an unreadable secret naming the secret and the SDK error, keeping the cause', async () => {
    // Prepare
    const sm = new FakeSecretsManager({});
    const failure = Object.assign(new Error('User is not authorized to perform: GetSecretValue'), {
      name: 'AccessDeniedException',
    });
    sm.failure = failure;
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);

    // Act
    const error = await secretError(secret.read());

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" could not be read (AccessDeniedException)`);
    expect(error.cause).toBe(failure);
    expect(error.code).toBe('SECRET_INVALID');
  });

  it('reports a secret that is not JSON without quoting it', async () => {
    // Prepare
    const text = 'client_secret=hunter2-not-json';
    const secret = new JsonSecret(new FakeSecretsManager(text).asClient(), SECRET_ID);

    // Act
    const error = await secretError(secret.read());

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" is not valid JSON`);
    expect(error.message).not.toContain('hunter2');
    expect(error.cause).toBeUndefined();
  });

  it.each([
    ['an array', '["hunter2"]'],
    ['a string', '"hunter2"'],
    ['null', 'null'],
  ])('refuses a secret holding %s, naming the secret but not the value', async (_label, text) => {
    // Prepare
    const secret = new JsonSecret(new FakeSecretsManager(text).asClient(), SECRET_ID);

    // Act
    const error = await secretError(secret.read());

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" must be a JSON object`);
  });

  it('refuses a binary secret (no SecretString)', async () => {
    // Prepare
    const sm = new FakeSecretsManager({});
    sm.value = undefined;
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);

    // Act
    const error = await secretError(secret.read());

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" has no string value`);
  });
});

describe('JsonSecret: time limit and stale values', () => {
  /** Settles `promise` or fails after `ms`, so a read that never ends fails the test instead of hanging it. */
  function within<T>(promise: Promise<T>, ms: number): Promise<T> {
    return Promise.race([
      promise,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms),
      ),
    ]);
  }

  function staleWatcher() {
    const stale: { secretId: string; ageSeconds: number; error: string }[] = [];
    return {
      stale,
      events: {
        stale: (info: { secretId: string; ageSeconds: number; error: SecretError }) =>
          stale.push({ ...info, error: info.error.message }),
      },
    };
  }

  it('gives up a read that takes longer than its own time limit, whatever the client would wait', async () => {
    // Prepare: Secrets Manager accepts the request and never answers.
    const sm = new FakeSecretsManager({ a: '1' });
    sm.hold();
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { readTimeoutMs: 50 });

    // Act
    const error = await secretError(within(secret.read(), 2_000));

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" could not be read (TimeoutError)`);
  });

  it('limits a read to 3 s by default', async () => {
    // Prepare
    const sm = new FakeSecretsManager({ a: '1' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);
    const timeout = vi.spyOn(AbortSignal, 'timeout');

    try {
      // Act
      await secret.read();

      // Assess: the signal handed to the SDK is a 3 s timeout.
      expect(timeout).toHaveBeenCalledWith(3_000);
      expect(sm.send.mock.calls[0]?.[1]?.abortSignal).toBe(timeout.mock.results[0]?.value);
    } finally {
      timeout.mockRestore();
    }
  });

  it('serves the last good value when Secrets Manager fails after the cache period, and reports it stale', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'good' });
    const { stale, events } = staleWatcher();
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now, events });
    await secret.read();
    sm.failure = Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });

    // Act
    clock.advance(300_000);
    const value = await secret.read();

    // Assess
    expect(value).toEqual({ a: 'good' });
    expect(stale).toEqual([
      {
        secretId: SECRET_ID,
        ageSeconds: 300,
        error: `Secret "${SECRET_ID}" could not be read (ServiceUnavailable)`,
      },
    ]);
  });

  it('asks Secrets Manager again only every 30 s while it fails, serving the stale value meanwhile', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'good' });
    const { stale, events } = staleWatcher();
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now, events });
    await secret.read();
    sm.failure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    clock.advance(300_000);

    // Act
    for (let i = 0; i < 10; i++) {
      expect(await secret.read()).toEqual({ a: 'good' });
      clock.advance(2_900);
    }
    clock.advance(1_000);
    await secret.read();
    sm.failure = undefined;
    sm.value = JSON.stringify({ a: 'newer' });
    clock.advance(30_000);
    const recovered = await secret.read();

    // Assess: the first read, one 30 s later, then the one that worked.
    expect(sm.send).toHaveBeenCalledTimes(4);
    expect(stale).toHaveLength(2);
    expect(recovered).toEqual({ a: 'newer' });
  });

  it('fails as before once the last good value is an hour past its cache age', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'good' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now });
    await secret.read();
    sm.failure = Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });

    // Act
    clock.advance(300_000 + 3_600_000 - 1);
    const lastStale = await secret.read();
    clock.advance(30_001);
    const error = await secretError(secret.read());

    // Assess
    expect(lastStale).toEqual({ a: 'good' });
    expect(error.message).toBe(`Secret "${SECRET_ID}" could not be read (ServiceUnavailable)`);
  });

  it('does not cover a value that was read but is unusable with the old one', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'good' });
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now });
    await secret.read();
    sm.value = 'a=not-json';

    // Act
    clock.advance(300_000);
    const error = await secretError(secret.read());

    // Assess
    expect(error.message).toBe(`Secret "${SECRET_ID}" is not valid JSON`);
  });

  it('still bypasses the cache on forceRefresh, and keeps the last good value when that read fails', async () => {
    // Prepare
    const clock = new FakeClock();
    const sm = new FakeSecretsManager({ a: 'good' });
    const { stale, events } = staleWatcher();
    const secret = new JsonSecret(sm.asClient(), SECRET_ID, { now: clock.now, events });
    await secret.read();
    sm.value = JSON.stringify({ a: 'rotated' });

    // Act
    clock.advance(1_000);
    const rotated = await secret.read({ forceRefresh: true });
    sm.failure = Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    const duringOutage = await secret.read({ forceRefresh: true });

    // Assess
    expect(rotated).toEqual({ a: 'rotated' });
    expect(duringOutage).toEqual({ a: 'rotated' });
    expect(sm.send).toHaveBeenCalledTimes(3);
    expect(stale.map((s) => s.ageSeconds)).toEqual([0]);
  });
});

describe('SecretsManagerCredentialsProvider', () => {
  function provider(value: string | object, options: { now?: () => number } = {}) {
    const sm = new FakeSecretsManager(value);
    return {
      sm,
      credentials: new SecretsManagerCredentialsProvider(new JsonSecret(sm.asClient(), SECRET_ID, options)),
    };
  }

  it('returns the client id and secret', async () => {
    // Prepare
    const { credentials } = provider({ client_id: 'relay-qa', client_secret: 'a&b=c+d %é' });

    // Act
    const value = await credentials.get();

    // Assess
    expect(value).toEqual({ clientId: 'relay-qa', clientSecret: 'a&b=c+d %é' });
  });

  it('ignores keys it does not know (notes, or signing secrets kept in the same secret)', async () => {
    // Prepare
    const { credentials } = provider({
      client_id: 'relay-qa',
      client_secret: 's',
      note: 'rotated 2024-03',
      gh: 'x',
    });

    // Act
    const value = await credentials.get();

    // Assess
    expect(value).toEqual({ clientId: 'relay-qa', clientSecret: 's' });
  });

  it('serves repeated gets from memory and re-reads on forceRefresh', async () => {
    // Prepare
    const { sm, credentials } = provider({ client_id: 'relay-qa', client_secret: 'old' });
    await credentials.get();
    await credentials.get();
    sm.value = JSON.stringify({ client_id: 'relay-qa', client_secret: 'rotated' });

    // Act
    const value = await credentials.get({ forceRefresh: true });

    // Assess
    expect(value.clientSecret).toBe('rotated');
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['client_secret', { client_id: 'relay-qa-id-value' }],
    ['client_secret', { client_id: 'relay-qa-id-value', client_secret: '' }],
    ['client_secret', { client_id: 'relay-qa-id-value', client_secret: 12345 }],
    ['client_id', { client_secret: 'hunter2-secret-value' }],
  ])('names the missing field %s and the secret id, and no value', async (field, value) => {
    // Prepare
    const { credentials } = provider(value);

    // Act
    const error = await secretError(credentials.get());

    // Assess
    expect(error.message).toContain(`"${field}"`);
    expect(error.message).toContain(SECRET_ID);
    expect(error.message).not.toContain('relay-qa-id-value');
    expect(error.message).not.toContain('hunter2-secret-value');
    expect(error.message).not.toContain('12345');
  });
});

describe('SecretsManagerCredentialsProvider: named ONEiO endpoints', () => {
  const SECRET = {
    client_id: 'relay-default',
    client_secret: 'default-secret',
    endpoints: {
      itsm: { client_id: 'relay-itsm', client_secret: 'itsm-secret' },
      hr: { client_id: 'relay-hr', client_secret: 'hr-secret' },
    },
  };

  function providers(value: string | object, endpoints: readonly (string | undefined)[]) {
    const sm = new FakeSecretsManager(value);
    const secret = new JsonSecret(sm.asClient(), SECRET_ID);
    return { sm, credentials: endpoints.map((name) => new SecretsManagerCredentialsProvider(secret, name)) };
  }

  it('returns the pair under endpoints.<name> for a named endpoint, the top-level pair for the default', async () => {
    // Prepare
    const {
      credentials: [itsm, hr, fallback],
    } = providers(SECRET, ['itsm', 'hr', undefined]);

    // Act
    const values = await Promise.all([itsm?.get(), hr?.get(), fallback?.get()]);

    // Assess
    expect(values).toEqual([
      { clientId: 'relay-itsm', clientSecret: 'itsm-secret' },
      { clientId: 'relay-hr', clientSecret: 'hr-secret' },
      { clientId: 'relay-default', clientSecret: 'default-secret' },
    ]);
  });

  it('reads the secret once for every pair in it', async () => {
    // Prepare
    const { sm, credentials } = providers(SECRET, ['itsm', 'hr', undefined]);

    // Act
    for (const provider of credentials) await provider.get();

    // Assess
    expect(sm.send).toHaveBeenCalledTimes(1);
  });

  it('re-reads the secret on forceRefresh for a named pair (a rotation of that pair)', async () => {
    // Prepare
    const {
      sm,
      credentials: [itsm],
    } = providers(SECRET, ['itsm']);
    await itsm?.get();
    sm.value = JSON.stringify({
      ...SECRET,
      endpoints: { ...SECRET.endpoints, itsm: { client_id: 'relay-itsm', client_secret: 'rotated' } },
    });

    // Act
    const value = await itsm?.get({ forceRefresh: true });

    // Assess
    expect(value?.clientSecret).toBe('rotated');
    expect(sm.send).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['no endpoints at all', { client_id: 'relay-default', client_secret: 'default-secret' }],
    ['endpoints without it', { ...SECRET, endpoints: { hr: SECRET.endpoints.hr } }],
  ])('says which endpoint has no credentials when the secret has %s', async (_case, value) => {
    // Prepare
    const {
      credentials: [itsm],
    } = providers(value, ['itsm']);

    // Act
    const error = await itsm?.get().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(OneioEndpointUnconfiguredError);
    expect((error as OneioEndpointUnconfiguredError).endpoint).toBe('itsm');
    expect((error as Error).message).toBe(
      `Secret "${SECRET_ID}" holds no credentials for ONEiO endpoint "itsm": add "endpoints": {"itsm": ` +
        '{"client_id": "…", "client_secret": "…"}} to it',
    );
    expect((error as Error).message).not.toContain('default-secret');
  });

  it('does not take an inherited property for a pair (an endpoint called constructor)', async () => {
    // Prepare
    const {
      credentials: [named],
    } = providers(SECRET, ['constructor']);

    // Act
    const error = await named?.get().catch((e: unknown) => e);

    // Assess
    expect(error).toBeInstanceOf(OneioEndpointUnconfiguredError);
  });

  it.each([
    ['endpoints is not an object', { ...SECRET, endpoints: ['itsm'] }, '"endpoints" must be an object'],
    [
      'the pair is not an object',
      { ...SECRET, endpoints: { itsm: 'relay-itsm:itsm-secret' } },
      '"endpoints.itsm"',
    ],
    [
      'the pair has no client_secret',
      { ...SECRET, endpoints: { itsm: { client_id: 'relay-itsm' } } },
      '"endpoints.itsm.client_secret" is missing',
    ],
  ])('reports a malformed named pair like a malformed default pair when %s', async (_case, value, says) => {
    // Prepare
    const {
      credentials: [itsm],
    } = providers(value, ['itsm']);

    // Act
    const error = await secretError(itsm?.get() ?? Promise.resolve());

    // Assess
    expect(error).not.toBeInstanceOf(OneioEndpointUnconfiguredError);
    expect(error.message).toContain(says);
    expect(error.message).not.toContain('itsm-secret');
    expect(error.message).not.toContain('relay-itsm:itsm-secret');
  });
});

describe('SecretsManagerSigningSecrets', () => {
  function signingSecrets(value: object) {
    const sm = new FakeSecretsManager(value);
    return { sm, secrets: new SecretsManagerSigningSecrets(new JsonSecret(sm.asClient(), SECRET_ID)) };
  }

  it('returns the secret of a source', async () => {
    // Prepare
    const { secrets } = signingSecrets({ gh: 'gh-secret', stripe: 'whsec_x' });

    // Act
    const value = await secrets.forSource('gh');

    // Assess
    expect(value).toEqual(['gh-secret']);
  });

  it('returns every secret of a source during a rotation, in order', async () => {
    // Prepare
    const { secrets } = signingSecrets({ gh: ['new-secret', 'old-secret'] });

    // Act
    const value = await secrets.forSource('gh');

    // Assess
    expect(value).toEqual(['new-secret', 'old-secret']);
  });

  it('returns nothing for a source without a secret', async () => {
    // Prepare
    const { secrets } = signingSecrets({ gh: 'gh-secret' });

    // Act
    const value = await secrets.forSource('stripe');

    // Assess
    expect(value).toEqual([]);
  });

  it.each([
    ['a number', 42, []],
    ['an object', { secret: 'x' }, []],
    ['null', null, []],
    ['an empty string', '', []],
    [
      'a list with values that are not strings',
      ['good', 5, null, '', { a: 1 }, 'also-good'],
      ['good', 'also-good'],
    ],
  ])('skips %s instead of failing', async (_label, value, expected) => {
    // Prepare
    const { secrets } = signingSecrets({ gh: value, demo: 'fine' });

    // Act
    const [gh, demo] = await Promise.all([secrets.forSource('gh'), secrets.forSource('demo')]);

    // Assess
    expect(gh).toEqual(expected);
    expect(demo).toEqual(['fine']);
  });

  it.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'finds no secret for a source named %j that the secret does not define',
    async (source) => {
      // Prepare
      const { secrets } = signingSecrets({ gh: 'gh-secret' });

      // Act
      const value = await secrets.forSource(source);

      // Assess
      expect(value).toEqual([]);
    },
  );

  it('reads the secret once for many sources', async () => {
    // Prepare
    const { sm, secrets } = signingSecrets({ gh: 'a', demo: 'b' });

    // Act
    await secrets.forSource('gh');
    await secrets.forSource('demo');
    await secrets.forSource('gh');

    // Assess
    expect(sm.send).toHaveBeenCalledTimes(1);
  });
});
