/** An access token as the fleet shares it. */
export interface SharedToken {
  readonly accessToken: string;
  /** When the token request was sent, epoch ms (the start of its lifetime). */
  readonly issuedAt: number;
  /** `issuedAt + expires_in`, epoch ms. */
  readonly expiresAt: number;
  /** Opaque id of this token, used to invalidate exactly the token that failed. */
  readonly version: string;
}

export interface TokenLease {
  readonly owner: string;
  /** Epoch ms after which anyone may take the lease over. */
  readonly until: number;
}

/** What the store holds for one token key: the current token and/or the refresh lease. */
export interface TokenRecord {
  readonly token?: SharedToken;
  readonly lease?: TokenLease;
}

/**
 * The storage calls the token lifecycle needs. Implementations only store and compare; every decision (when to
 * refresh, who refreshes, what counts as expired) is made by the caller.
 */
export interface TokenStore {
  /** Reads the record; `consistent` asks for a strongly consistent read. */
  read(key: string, options: { consistent: boolean }): Promise<TokenRecord | undefined>;
  /**
   * Takes the refresh lease if nobody else holds an unexpired one *and* the stored token is still `readVersion`
   * (`undefined`: the caller found no token). Resolves `false` otherwise.
   *
   * Why the version: a caller decides to refresh on what it read. If another instance refreshed and published in
   * between, the lease is free again, and without this check the caller would win it and request a second token
   * to replace one that is brand new.
   */
  tryAcquireLease(
    key: string,
    lease: TokenLease,
    now: number,
    readVersion: string | undefined,
  ): Promise<boolean>;
  /**
   * Publishes a token only if `owner` still holds the lease (fencing), and releases the lease.
   * Resolves `false` when the lease was lost meanwhile; the token is then not stored.
   */
  publish(key: string, owner: string, token: SharedToken): Promise<boolean>;
  /** Gives the lease back without publishing (the refresh failed). No-op when the lease is no longer ours. */
  releaseLease(key: string, owner: string): Promise<void>;
  /** Marks the stored token expired only if it is still `version`. Resolves whether it was invalidated. */
  invalidate(key: string, version: string): Promise<boolean>;
}

/** Thrown by a store when the backing service cannot be reached or refused the call (not a lost condition). */
export class TokenStoreUnavailableError extends Error {
  override readonly name = 'TokenStoreUnavailableError';
  readonly code = 'TOKEN_STORE_UNAVAILABLE';
}
