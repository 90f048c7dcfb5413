import { OneioEndpointUnconfiguredError, SecretError } from '../../core/errors';
import type { ClientCredentials, CredentialsProvider } from '../../ports/credentials-provider';
import type { JsonSecret } from './json-secret';

/**
 * ONEiO client credentials from a secret shaped
 * `{"client_id": "…", "client_secret": "…", "endpoints": {"<name>": {"client_id": "…", "client_secret": "…"}}}`:
 * the default pair at the top, a named ONEiO endpoint's pair under `endpoints`. Other keys are ignored, so an
 * operator may keep notes or the signing secrets in the same secret. Every pair is read from one cached read of
 * the secret.
 */
export class SecretsManagerCredentialsProvider implements CredentialsProvider {
  /** @param endpoint the named endpoint whose pair to read; undefined for the default pair. */
  constructor(
    private readonly secret: JsonSecret,
    private readonly endpoint?: string,
  ) {}

  async get(options: { forceRefresh?: boolean } = {}): Promise<ClientCredentials> {
    const value = await this.secret.read(options);
    if (this.endpoint === undefined) return this.pair(value, '');
    const endpoints = value.endpoints;
    if (endpoints !== undefined && !isObject(endpoints)) {
      throw new SecretError(
        `Secret "${this.secret.secretId}": "endpoints" must be an object of {"<name>": {"client_id": "…", "client_secret": "…"}}`,
      );
    }
    // Own keys only: an endpoint may well be called `constructor`.
    const pair =
      endpoints !== undefined && Object.hasOwn(endpoints, this.endpoint)
        ? endpoints[this.endpoint]
        : undefined;
    if (pair === undefined) {
      throw new OneioEndpointUnconfiguredError(
        `Secret "${this.secret.secretId}" holds no credentials for ONEiO endpoint "${this.endpoint}": add ` +
          `"endpoints": {"${this.endpoint}": {"client_id": "…", "client_secret": "…"}} to it`,
        this.endpoint,
      );
    }
    if (!isObject(pair)) {
      throw new SecretError(
        `Secret "${this.secret.secretId}": "endpoints.${this.endpoint}" must be {"client_id": "…", "client_secret": "…"}`,
      );
    }
    return this.pair(pair, `endpoints.${this.endpoint}.`);
  }

  private pair(value: Readonly<Record<string, unknown>>, at: string): ClientCredentials {
    return {
      clientId: this.field(value, at, 'client_id'),
      clientSecret: this.field(value, at, 'client_secret'),
    };
  }

  private field(value: Readonly<Record<string, unknown>>, at: string, name: string): string {
    const field = value[name];
    if (typeof field !== 'string' || field.length === 0) {
      throw new SecretError(
        `Secret "${this.secret.secretId}" must hold {"client_id": "…", "client_secret": "…"}: "${at}${name}" is missing or not a non-empty string`,
      );
    }
    return field;
  }
}

function isObject(value: unknown): value is Readonly<Record<string, unknown>> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
