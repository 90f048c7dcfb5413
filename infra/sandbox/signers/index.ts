import type { SchemeName, SourceDeclaration } from '../../../functions/relay/core/inbound/source-declaration';
import { basicSigner } from './basic';
import { githubSigner } from './github';
import { hmacSha256Signer } from './hmac-sha256';
import { msgraphSigner } from './msgraph';
import { msteamsSigner } from './msteams';
import { pagerdutySigner } from './pagerduty';
import { slackSigner } from './slack';
import { standardWebhooksSigner } from './standard-webhooks';
import { stripeSigner } from './stripe';
import { tokenSigner } from './token';
import type { SampleSigner, SignedSample } from './types';
import { unauthenticatedSigner } from './unauthenticated';
import { zendeskSigner } from './zendesk';
import { zoomSigner } from './zoom';

export type { SampleSigner, SignedSample } from './types';

/** One signer per scheme the relay verifies; typed so a new scheme fails to compile until it has one. */
const SIGNERS: Record<SchemeName, SampleSigner> = {
  github: githubSigner,
  stripe: stripeSigner,
  'standard-webhooks': standardWebhooksSigner,
  'hmac-sha256': hmacSha256Signer,
  basic: basicSigner,
  unauthenticated: unauthenticatedSigner,
  slack: slackSigner,
  zoom: zoomSigner,
  zendesk: zendeskSigner,
  pagerduty: pagerdutySigner,
  token: tokenSigner,
  msteams: msteamsSigner,
  msgraph: msgraphSigner,
};

export function signerFor(declaration: SourceDeclaration): SampleSigner {
  return SIGNERS[declaration.scheme];
}

/** `body` (or the scheme's sample) with the headers a sender of `source` would send, signed with `secret`. */
export function signSample(
  source: string,
  declaration: SourceDeclaration,
  options: { body?: string; secret?: string; nowMs?: number } = {},
): SignedSample {
  const signer = signerFor(declaration);
  const secret = options.secret ?? signer.sampleSecret(source);
  const unsigned = options.body ?? signer.sampleBody();
  const body = signer.body?.(unsigned, secret) ?? unsigned;
  return {
    headers: signer.sign(body, secret, declaration, options.nowMs ?? Date.now()),
    body,
    query: signer.query?.(secret, declaration) ?? '',
  };
}
