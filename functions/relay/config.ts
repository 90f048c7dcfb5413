import { DEFAULTS, ENV, LIMITS, MAX_BODY_BYTES_LIMIT } from './contract';
import { ConfigError } from './core/errors';
import {
  parseSourceDeclarations,
  SourceDeclarationError,
  type SourceDeclarations,
} from './core/inbound/source-declaration';

/** The function's configuration, read and validated once per execution environment. */
export interface RelayConfig {
  readonly tokenUrl: string;
  readonly receiverUrl: string;
  readonly credentialsSecretId: string;
  readonly signingSecretsSecretId: string;
  readonly tableName: string;
  readonly sources: SourceDeclarations;
  readonly maxBodyBytes: number;
  readonly dedupTtlSeconds: number;
  readonly outboxMaxAgeSeconds: number;
  readonly drainRatePerSecond: number;
  readonly breakerThreshold: number;
  readonly breakerCoolDownSeconds: number;
}

type Env = Readonly<Record<string, string | undefined>>;

/** Reads the configuration from the environment; throws {@link ConfigError} naming the first bad variable. */
export function readConfig(env: Env): RelayConfig {
  return {
    tokenUrl: httpUrl(env, ENV.tokenUrl),
    receiverUrl: httpUrl(env, ENV.receiverUrl),
    credentialsSecretId: required(env, ENV.credentialsSecretId),
    signingSecretsSecretId: required(env, ENV.signingSecretsSecretId),
    tableName: required(env, ENV.tableName),
    sources: sources(env, ENV.sources),
    maxBodyBytes: positiveInteger(env, ENV.maxBodyBytes, DEFAULTS.maxBodyBytes, MAX_BODY_BYTES_LIMIT),
    dedupTtlSeconds: positiveInteger(env, ENV.dedupTtlSeconds, DEFAULTS.dedupTtlSeconds),
    outboxMaxAgeSeconds: positiveInteger(env, ENV.outboxMaxAgeSeconds, DEFAULTS.outboxMaxAgeSeconds),
    drainRatePerSecond: positiveInteger(
      env,
      ENV.drainRatePerSecond,
      DEFAULTS.drainRatePerSecond,
      LIMITS.drainRatePerSecond,
    ),
    breakerThreshold: positiveInteger(
      env,
      ENV.breakerThreshold,
      DEFAULTS.breakerThreshold,
      LIMITS.breakerThreshold,
    ),
    breakerCoolDownSeconds: positiveInteger(
      env,
      ENV.breakerCoolDownSeconds,
      DEFAULTS.breakerCoolDownSeconds,
      LIMITS.breakerCoolDownSeconds,
    ),
  };
}

function required(env: Env, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new ConfigError(`Environment variable ${name} is required`);
  return value;
}

function httpUrl(env: Env, name: string): string {
  const value = required(env, name);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(`Environment variable ${name} must be an absolute URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`Environment variable ${name} must be an http(s) URL`);
  }
  return url.toString();
}

function positiveInteger(env: Env, name: string, fallback: number, max = Number.MAX_SAFE_INTEGER): number {
  const value = env[name]?.trim();
  if (!value) return fallback;
  if (!/^\d+$/.test(value) || Number(value) <= 0 || Number(value) > max) {
    throw new ConfigError(`Environment variable ${name} must be a positive integer no larger than ${max}`);
  }
  return Number(value);
}

function sources(env: Env, name: string): SourceDeclarations {
  const value = required(env, name);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new ConfigError(`Environment variable ${name} must be JSON`);
  }
  try {
    return parseSourceDeclarations(parsed);
  } catch (error) {
    if (error instanceof SourceDeclarationError) {
      throw new ConfigError(`Environment variable ${name}: ${error.message}`);
    }
    throw error;
  }
}
