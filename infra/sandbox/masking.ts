/** What the inspector shows instead of a secret. */
export const MASK = '••••••';

/** Headers whose values are credentials or derived from one: every scheme's signature, Basic and Bearer. */
const SECRET_HEADER = /authorization|signature|secret|token|api-?key|hmac|cookie/i;

/**
 * Hides credentials in what the inspector shows: every value of a credential-like header (the auth scheme word of
 * `Authorization` is kept, so `Bearer ••••••` still says what was sent), and every occurrence of a known secret
 * anywhere, bodies included. Secrets shorter than 4 characters are not searched for (they would mask at random).
 */
export class Masker {
  readonly #secrets: string[];
  readonly #secretHeaders: Set<string>;

  /** `secretHeaders`: more header names to mask, e.g. the signature header an `hmac-sha256` source names. */
  constructor(secrets: Iterable<string>, secretHeaders: Iterable<string> = []) {
    this.#secrets = [...new Set(secrets)]
      .filter((secret) => secret.length >= 4)
      .sort((a, b) => b.length - a.length);
    this.#secretHeaders = new Set([...secretHeaders].map((name) => name.toLowerCase()));
  }

  /** Adds secrets learnt later (e.g. credentials of a remote ONEiO). */
  add(secret: string): void {
    if (secret.length >= 4 && !this.#secrets.includes(secret)) {
      this.#secrets.push(secret);
      this.#secrets.sort((a, b) => b.length - a.length);
    }
  }

  text(value: string): string {
    let out = value;
    for (const secret of this.#secrets) out = out.replaceAll(secret, MASK);
    return out;
  }

  headers(pairs: ReadonlyArray<readonly [string, string]>): Array<[string, string]> {
    return pairs.map(([name, value]) => [name, this.header(name, value)]);
  }

  header(name: string, value: string): string {
    if (!SECRET_HEADER.test(name) && !this.#secretHeaders.has(name.toLowerCase())) return this.text(value);
    const scheme = /^(Bearer|Basic)\s/i.exec(value)?.[1];
    return scheme === undefined ? MASK : `${scheme} ${MASK}`;
  }
}
