import type { SigningSecrets } from '../../ports/signing-secrets';
import type { JsonSecret } from './json-secret';

/**
 * Signing secrets from a secret shaped `{"<source>": "<secret>" | ["<new>", "<old>"]}`. Unknown keys are ignored;
 * values that are not strings are skipped rather than failing every source of the environment.
 */
export class SecretsManagerSigningSecrets implements SigningSecrets {
  constructor(private readonly secret: JsonSecret) {}

  async forSource(source: string): Promise<readonly string[]> {
    const value = (await this.secret.read())[source];
    const list = Array.isArray(value) ? value : [value];
    return list.filter((s): s is string => typeof s === 'string' && s.length > 0);
  }
}
