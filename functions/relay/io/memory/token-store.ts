import type { SharedToken, TokenLease, TokenRecord, TokenStore } from '../../ports/token-store';

/**
 * In-memory {@link TokenStore} with the same conditional semantics as the DynamoDB one, for unit tests and for
 * sharing one store between simulated execution environments in a single process.
 */
export class InMemoryTokenStore implements TokenStore {
  private readonly records = new Map<string, { token?: SharedToken; lease?: TokenLease }>();
  /** Number of calls per operation, so tests can assert "zero store calls on the warm path". */
  readonly calls = { read: 0, tryAcquireLease: 0, publish: 0, releaseLease: 0, invalidate: 0 };

  async read(key: string): Promise<TokenRecord | undefined> {
    this.calls.read++;
    const record = this.records.get(key);
    return record ? { ...record } : undefined;
  }

  async tryAcquireLease(
    key: string,
    lease: TokenLease,
    now: number,
    readVersion: string | undefined,
  ): Promise<boolean> {
    this.calls.tryAcquireLease++;
    const record = this.records.get(key) ?? {};
    const held = record.lease;
    if (held && held.until > now && held.owner !== lease.owner) return false;
    if (record.token?.version !== readVersion) return false;
    this.records.set(key, { ...record, lease });
    return true;
  }

  async publish(key: string, owner: string, token: SharedToken): Promise<boolean> {
    this.calls.publish++;
    const record = this.records.get(key);
    if (record?.lease?.owner !== owner) return false;
    this.records.set(key, { token });
    return true;
  }

  async releaseLease(key: string, owner: string): Promise<void> {
    this.calls.releaseLease++;
    const record = this.records.get(key);
    if (record?.lease?.owner !== owner) return;
    this.records.set(key, record.token ? { token: record.token } : {});
  }

  async invalidate(key: string, version: string): Promise<boolean> {
    this.calls.invalidate++;
    const record = this.records.get(key);
    if (record?.token?.version !== version) return false;
    this.records.set(key, { ...record, token: { ...record.token, issuedAt: 0, expiresAt: 0 } });
    return true;
  }
}
