import { describe, expect, it } from 'vitest';
import { readConfig } from '../../functions/relay/config';
import { DEFAULTS, ENV } from '../../functions/relay/contract';
import { ConfigError } from '../../functions/relay/core/errors';

const SOURCES = {
  gh: { scheme: 'github' },
  demo: { scheme: 'unauthenticated', allowCidrs: ['192.0.2.0/24'] },
};

/** A complete, valid environment as the stack sets it. */
function env(overrides: Record<string, string | undefined> = {}): Record<string, string | undefined> {
  return {
    [ENV.tokenUrl]: 'https://qa.oneio.cloud/oauth2/token',
    [ENV.receiverUrl]: 'https://qa.oneio.cloud/api/v2',
    [ENV.credentialsSecretId]: 'oneio-relay/qa/oneio-credentials',
    [ENV.signingSecretsSecretId]: 'oneio-relay/qa/signing-secrets',
    [ENV.tableName]: 'OneioRelay-qa-Table-1ABC',
    [ENV.sources]: JSON.stringify(SOURCES),
    [ENV.maxBodyBytes]: '131072',
    ...overrides,
  };
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfig', () => {
  it('reads a complete environment', () => {
    // Act
    const config = readConfig(env());

    // Assess
    expect(config).toMatchObject({
      tokenUrl: 'https://qa.oneio.cloud/oauth2/token',
      receiverUrl: 'https://qa.oneio.cloud/api/v2',
      credentialsSecretId: 'oneio-relay/qa/oneio-credentials',
      signingSecretsSecretId: 'oneio-relay/qa/signing-secrets',
      tableName: 'OneioRelay-qa-Table-1ABC',
      sources: SOURCES,
      maxBodyBytes: 131_072,
    });
  });

  it('trims stray whitespace around values', () => {
    // Act
    const config = readConfig(env({ [ENV.tableName]: '  relay-table\n', [ENV.maxBodyBytes]: ' 1024 ' }));

    // Assess
    expect(config.tableName).toBe('relay-table');
    expect(config.maxBodyBytes).toBe(1_024);
  });

  it.each([
    ENV.tokenUrl,
    ENV.receiverUrl,
    ENV.credentialsSecretId,
    ENV.signingSecretsSecretId,
    ENV.tableName,
    ENV.sources,
  ])('fails naming %s when it is missing', (name) => {
    // Act
    const error = configError(() => readConfig(env({ [name]: undefined })));

    // Assess
    expect(error.message).toBe(`Environment variable ${name} is required`);
    expect(error.code).toBe('CONFIG_INVALID');
  });

  it.each([ENV.tokenUrl, ENV.tableName])('treats a blank %s as missing', (name) => {
    expect(() => readConfig(env({ [name]: '   ' }))).toThrow(`Environment variable ${name} is required`);
  });

  it.each([
    [ENV.tokenUrl, 'qa.oneio.cloud/oauth2/token', 'must be an absolute URL'],
    [ENV.receiverUrl, 'not a url', 'must be an absolute URL'],
    [ENV.tokenUrl, 'ftp://qa.oneio.cloud/token', 'must be an http(s) URL'],
    [ENV.receiverUrl, 'file:///etc/passwd', 'must be an http(s) URL'],
  ])('refuses %s=%j, naming the variable', (name, value, why) => {
    // Act
    const error = configError(() => readConfig(env({ [name]: value })));

    // Assess
    expect(error.message).toBe(`Environment variable ${name} ${why}`);
  });

  it('accepts a plain http URL (a local emulator)', () => {
    expect(readConfig(env({ [ENV.receiverUrl]: 'http://127.0.0.1:8787/api/v2' })).receiverUrl).toBe(
      'http://127.0.0.1:8787/api/v2',
    );
  });

  it('refuses sources that are not JSON, without echoing them', () => {
    // Act
    const error = configError(() => readConfig(env({ [ENV.sources]: "{gh: {scheme: 'github'}}" })));

    // Assess
    expect(error.message).toBe(`Environment variable ${ENV.sources} must be JSON`);
  });

  it.each([
    ['a source name that is not a path segment', { Git_Hub: { scheme: 'github' } }, 'sources.Git_Hub'],
    ['a source name with a slash', { 'a/b': { scheme: 'github' } }, 'sources.a/b'],
    ['an unknown scheme', { gh: { scheme: 'gitlab' } }, 'sources.gh.scheme'],
    ['a declaration that is not an object', { gh: 'github' }, 'sources.gh'],
    ['a list instead of an object', [{ scheme: 'github' }], 'sources must be an object'],
  ])('refuses %s, naming the variable and the source', (_label, sources, where) => {
    // Act
    const error = configError(() => readConfig(env({ [ENV.sources]: JSON.stringify(sources) })));

    // Assess
    expect(error.message).toContain(ENV.sources);
    expect(error.message).toContain(where);
  });

  it.each(['abc', '0', '-1', '1.5', '1e6', '256 KiB'])(`refuses ${ENV.maxBodyBytes}=%j`, (value) => {
    // Act
    const error = configError(() => readConfig(env({ [ENV.maxBodyBytes]: value })));

    // Assess
    expect(error.message).toContain(`Environment variable ${ENV.maxBodyBytes} must be a positive integer`);
  });

  it.each([undefined, ''])(`defaults ${ENV.maxBodyBytes} to 256 KiB when it is %j`, (value) => {
    // Act
    const config = readConfig(env({ [ENV.maxBodyBytes]: value }));

    // Assess
    expect(config.maxBodyBytes).toBe(DEFAULTS.maxBodyBytes);
    expect(config.maxBodyBytes).toBe(262_144);
  });

  it('reads the drain rate and the breaker, with modest defaults', () => {
    const defaults = readConfig(env());
    const set = readConfig(
      env({
        [ENV.drainRatePerSecond]: '25',
        [ENV.breakerThreshold]: '8',
        [ENV.breakerCoolDownSeconds]: '120',
      }),
    );

    expect(defaults).toMatchObject({
      drainRatePerSecond: 10,
      breakerThreshold: 5,
      breakerCoolDownSeconds: 60,
    });
    expect(set).toMatchObject({ drainRatePerSecond: 25, breakerThreshold: 8, breakerCoolDownSeconds: 120 });
  });

  it.each([
    [ENV.drainRatePerSecond, '0', 100],
    [ENV.drainRatePerSecond, '101', 100],
    [ENV.drainRatePerSecond, '2.5', 100],
    [ENV.breakerThreshold, '0', 100],
    [ENV.breakerCoolDownSeconds, '3601', 3600],
  ])('refuses %s=%j, naming the variable', (name, value, max) => {
    const error = configError(() => readConfig(env({ [name]: value })));

    expect(error.message).toBe(
      `Environment variable ${name} must be a positive integer no larger than ${max}`,
    );
  });
});
