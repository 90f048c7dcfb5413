/** ONEiO endpoint credentials (the username/password of the ONEiO endpoint, used as OAuth client credentials). */
export interface ClientCredentials {
  readonly clientId: string;
  readonly clientSecret: string;
}

export interface CredentialsProvider {
  /**
   * Returns the credentials, from memory while they are fresh. `forceRefresh` re-reads the source (after the token
   * endpoint answered `invalid_client`, the secret may have been rotated).
   */
  get(options?: { forceRefresh?: boolean }): Promise<ClientCredentials>;
}
