import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretError } from '../../core/errors';

export interface JsonSecretOptions {
  /** How long a read value is served from memory. @default 300_000 (5 minutes) */
  readonly maxAgeMs?: number;
  /** @default Date.now */
  readonly now?: () => number;
}

/**
 * A Secrets Manager secret holding a JSON object, cached in memory for minutes so warm invocations make no
 * Secrets Manager call. Errors name the secret id and what is wrong with it, never its value: a JSON.parse message
 * would quote the secret's first characters, so parse failures are reported without it.
 */
export class JsonSecret {
  private cached: { value: Readonly<Record<string, unknown>>; readAt: number } | undefined;
  private inflight: Promise<Readonly<Record<string, unknown>>> | undefined;
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly client: SecretsManagerClient,
    readonly secretId: string,
    options: JsonSecretOptions = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? 300_000;
    this.now = options.now ?? (() => Date.now());
  }

  /** The secret's JSON object; `forceRefresh` skips the cache (after a rotation was detected). */
  async read(options: { forceRefresh?: boolean } = {}): Promise<Readonly<Record<string, unknown>>> {
    const cached = this.cached;
    if (cached && !options.forceRefresh && this.now() - cached.readAt < this.maxAgeMs) return cached.value;
    this.inflight ??= this.fetch().finally(() => {
      this.inflight = undefined;
    });
    return this.inflight;
  }

  private async fetch(): Promise<Readonly<Record<string, unknown>>> {
    let text: string | undefined;
    try {
      const answer = await this.client.send(new GetSecretValueCommand({ SecretId: this.secretId }));
      text = answer.SecretString;
    } catch (error) {
      const name = error instanceof Error ? error.name : 'UnknownError';
      throw new SecretError(`Secret "${this.secretId}" could not be read (${name})`, { cause: error });
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
    return this.cached.value;
  }
}
