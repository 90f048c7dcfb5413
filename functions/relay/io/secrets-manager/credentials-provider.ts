import { SecretError } from '../../core/errors';
import type { ClientCredentials, CredentialsProvider } from '../../ports/credentials-provider';
import type { JsonSecret } from './json-secret';

/**
 * ONEiO client credentials from a secret shaped `{"client_id": "…", "client_secret": "…"}`. Other keys are ignored,
 * so an operator may keep notes or the signing secrets in the same secret.
 */
export class SecretsManagerCredentialsProvider implements CredentialsProvider {
  constructor(private readonly secret: JsonSecret) {}

  async get(options: { forceRefresh?: boolean } = {}): Promise<ClientCredentials> {
    const value = await this.secret.read(options);
    return {
      clientId: this.field(value, 'client_id'),
      clientSecret: this.field(value, 'client_secret'),
    };
  }

  private field(value: Readonly<Record<string, unknown>>, name: string): string {
    const field = value[name];
    if (typeof field !== 'string' || field.length === 0) {
      throw new SecretError(
        `Secret "${this.secret.secretId}" must hold {"client_id": "…", "client_secret": "…"}: "${name}" is missing or not a non-empty string`,
      );
    }
    return field;
  }
}
