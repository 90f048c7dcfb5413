import { describe, expect, it } from 'vitest';
import type { SourceDeclaration } from '../../functions/relay/core/inbound/source-declaration';
import { verifierFor } from '../../functions/relay/core/inbound/verify/verifier-for';
import { signerFor, signSample } from '../../infra/sandbox/signers/index';

const DECLARATIONS: Record<string, SourceDeclaration> = {
  github: { scheme: 'github' },
  stripe: { scheme: 'stripe' },
  svix: { scheme: 'standard-webhooks' },
  jira: { scheme: 'hmac-sha256', header: 'X-Hub-Signature', prefix: 'sha256=', encoding: 'hex' },
  shopify: { scheme: 'hmac-sha256', header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' },
  servicedesk: { scheme: 'basic' },
  open: { scheme: 'unauthenticated' },
  slack: { scheme: 'slack' },
  zoom: { scheme: 'zoom' },
  zendesk: { scheme: 'zendesk' },
  pagerduty: { scheme: 'pagerduty' },
  gitlab: { scheme: 'token', header: 'X-Gitlab-Token', idHeader: 'Idempotency-Key' },
  'token-in-query': { scheme: 'token', query: 'key' },
  teams: { scheme: 'msteams' },
  graph: { scheme: 'msgraph' },
};

/** The request as the relay's verifier sees it. */
function inbound(sample: { headers: Record<string, string>; body: string; query: string }) {
  return {
    headers: sample.headers,
    body: Buffer.from(sample.body),
    sourceIp: '127.0.0.1',
    query: sample.query,
  };
}

/** The inspector's "send a sample" signs per scheme; the relay's own verifiers are the judge. */
describe('sample signers', () => {
  it.each(Object.entries(DECLARATIONS))('signs a %s sample that the relay accepts', (source, declaration) => {
    const now = Date.now();
    const sample = signSample(source, declaration, { nowMs: now });
    const secret = signerFor(declaration).sampleSecret(source);

    const verdict = verifierFor(declaration).verify(inbound(sample), [secret], now);

    expect(verdict.ok).toBe(true);
    expect(() => JSON.parse(sample.body)).not.toThrow();
  });

  it.each(Object.entries(DECLARATIONS).filter(([, d]) => d.scheme !== 'unauthenticated'))(
    'signs %s with the secret given, so another secret is refused',
    (source, declaration) => {
      const now = Date.now();
      // Graph's secret travels in the body: its sample must keep the notifications the secret goes into.
      const edited = declaration.scheme === 'msgraph' ? undefined : '{"edited":true}';
      const sample = signSample(source, declaration, { nowMs: now, ...(edited && { body: edited }) });
      const other = { 'standard-webhooks': 'whsec_b3RoZXI=', msteams: 'b3RoZXI=' }[
        declaration.scheme as string
      ];

      const verdict = verifierFor(declaration).verify(inbound(sample), [other ?? 'another:secret'], now);

      if (edited !== undefined) expect(sample.body).toBe(edited);
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    },
  );
});
