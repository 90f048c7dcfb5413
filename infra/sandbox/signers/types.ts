import type { SourceDeclaration } from '../../../functions/relay/core/inbound/source-declaration';

/** A request a sender would make: headers, the exact body bytes they sign, and a query string (without `?`). */
export interface SignedSample {
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly query: string;
}

/**
 * Signs a sample body the way one signature scheme's senders do. One small signer per scheme; a new scheme in
 * the relay gets a signer here and an entry in `signers/index.ts`.
 */
export interface SampleSigner {
  /** The signing secret the sandbox stores for a source of this scheme (samples, published on purpose). */
  sampleSecret(source: string): string;
  /** A body typical of the scheme's senders, with a fresh id where they put one. */
  sampleBody(): string;
  /** Headers a sender of this scheme adds to `body`, signed with `secret`, as of `nowMs`. */
  sign(body: string, secret: string, declaration: SourceDeclaration, nowMs: number): Record<string, string>;
  /** For a scheme whose secret travels in the body (Graph's `clientState`): `body` with the secret in place. */
  body?(body: string, secret: string): string;
  /** For a scheme whose secret travels in the URL (a token query parameter): the query string. */
  query?(secret: string, declaration: SourceDeclaration): string;
}
