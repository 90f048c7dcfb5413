import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../../core/errors';

/**
 * Longest one read may take, whatever the client's own timeouts and retries add up to (connect, two attempts,
 * backoff): a healthy answer takes tens of milliseconds, and a webhook has about 8 s in all.
 */
export const SECRET_READ_TIMEOUT_MS = 3_000;

/**
 * How long past its cache age the last good value still serves when Secrets Manager cannot be read. An hour rides
 * out a Secrets Manager incident or a throttling storm (minutes, typically) without refusing every webhook, and is
 * short enough that a secret whose access an operator revoked in a hurry is not used for the rest of the day.
 */
export const STALE_FOR_MS = 3_600_000;

/**
 * After a failed read, the last good value serves this long before Secrets Manager is asked again, so a stalled
 * service costs one read timeout per half minute, not one per invocation.
 */
const RETRY_AFTER_FAILURE_MS = 30_000;

/** What a secret reports, for logs and metrics. Never receives a secret value. */
export interface SecretEvents {
  /** A read failed and the last good value, `ageSeconds` old, is used instead. */
  stale?(info: { secretId: string; ageSeconds: number; error: SecretError }): void;
}

export interface JsonSecretOptions {
  /** How long a read value is served from memory. @default 300_000 (5 minutes) */
  readonly maxAgeMs?: number;
  /** Time limit of one read. @default {@link SECRET_READ_TIMEOUT_MS} */
  readonly readTimeoutMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
  readonly events?: SecretEvents;
}

type SecretValue = Readonly<Record<string, unknown>>;

/**
 * A Secrets Manager secret holding a JSON object, cached in memory for minutes so warm invocations make no
 * Secrets Manager call. Errors name the secret id and what is wrong with it, never its value: a JSON.parse message
 * would quote the secret's first characters, so parse failures are reported without it.
 *
 * When Secrets Manager cannot be read (down, throttling, too slow), the last good value keeps serving for
 * {@link STALE_FOR_MS} past its cache age, reported as stale; after that, reads fail as they would with nothing in
 * memory. A value that *was* read but is unusable (not JSON, not an object) is an operator's mistake to surface at
 * once, never covered by an old value.
 */
export class JsonSecret {
  private cached: { value: SecretValue; readAt: number } | undefined;
  /** After a failed read, the stale value serves without asking Secrets Manager until this time. */
  private retryAt = 0;
  private inflight: Promise<SecretValue> | undefined;
  private readonly maxAgeMs: number;
  private readonly readTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    readonly secretId: string,
    private readonly options: JsonSecretOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.readTimeoutMs = options.readTimeoutMs ?? SECRET_READ_TIMEOUT_MS;
    this.now = options.now ?? (() => Date.now());
  }

  /**
   * The secret's JSON object; `forceRefresh` skips the cache (after a rotation was detected). If that read fails,
   * the last good value is still returned while it is within its stale period.
   */
  async read(options: { forceRefresh?: boolean } = {}): Promise<SecretValue> {
    const cached = this.cached;
    const now = this.now();
    if (cached && !options.forceRefresh) {
      if (now - cached.readAt < this.maxAgeMs) return cached.value;
      if (now < this.retryAt && this.withinStalePeriod(cached, now)) return cached.value;
    }
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<SecretValue> {
    let text: string | undefined;
    try {
      text = await this.send();
    } catch (failure) {
      if (!(failure instanceof SecretError)) throw failure;
      return this.lastGood(failure);
    }
    if (text === undefined) throw new SecretError(`Secret "${this.secretId}" has no string value`);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new SecretError(`Secret "${this.secretId}" is not valid JSON`);
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      throw new SecretError(`Secret "${this.secretId}" must be a JSON object`);
    }
    this.cached = { value: value as Record<string, unknown>, readAt: this.now() };
    this.retryAt = 0;
    return this.cached.value;
  }

  /** GetSecretValue under the read's own time limit; any failure becomes a SecretError naming the secret. */
  private async send(): Promise<string | undefined> {
    const signal = AbortSignal.timeout(this.readTimeoutMs);
    try {
      const answer = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }), {
        abortSignal: signal,
      });
      return answer.SecretString;
    } catch (error) {
      // The SDK reports our abort as AbortError; what happened is that the read took too long.
      const name = signal.aborted ? 'TimeoutError' : error instanceof Error ? error.name : 'UnknownError';
      throw new SecretError(`Secret "${this.secretId}" could not be read (${name})`, { cause: error });
    }
  }

  /** The last good value when it is still within its stale period, reported as stale; otherwise `failure`. */
  private lastGood(failure: SecretError): SecretValue {
    const cached = this.cached;
    const now = this.now();
    if (!cached || !this.withinStalePeriod(cached, now)) throw failure;
    this.retryAt = now + RETRY_AFTER_FAILURE_MS;
    this.options.events?.stale?.({
      secretId: this.secretId,
      ageSeconds: Math.round((now - cached.readAt) / 1000),
      error: failure,
    });
    return cached.value;
  }

  private withinStalePeriod(cached: { readAt: number }, now: number): boolean {
    return now - cached.readAt < this.maxAgeMs + STALE_FOR_MS;
  }
}
