import type { TokenSource, TokenSources } from '../delivery/deliver';

/**
 * One token source per ONEiO endpoint, made on first use and kept for the execution environment: each credential
 * pair has its own fleet-shared token (its own store key, lease and refusal memory), and an endpoint no message
 * names costs nothing.
 */
export class EndpointTokens implements TokenSources {
  private readonly sources = new Map<string | undefined, TokenSource>();

  /** @param create makes the token source of one endpoint (`undefined`: the default pair). */
  constructor(private readonly create: (endpoint: string | undefined) => TokenSource) {}

  forEndpoint(endpoint: string | undefined): TokenSource {
    let source = this.sources.get(endpoint);
    if (source === undefined) {
      source = this.create(endpoint);
      this.sources.set(endpoint, source);
    }
    return source;
  }
}
