import { sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { hmacSha256Verifier } from '../../../../functions/relay/core/inbound/verify/hmac-sha256';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

const NOW = 1_700_000_000_000;

// Shopify style: X-Shopify-Hmac-Sha256, base64, no prefix.
const SHOPIFY_SECRET = 'shpss_0123456789abcdef';
const SHOPIFY_BODY = '{"id":820982911946154508}';
const SHOPIFY_SIGNATURE = 'WgzR7rq62vUNCmcicvvYrYZJZaD2hIzKWpcvIVtnpEg=';

// Jira Cloud style: X-Hub-Signature, `sha256=` then hex.
const JIRA_SECRET = 'jira-secret';
const JIRA_BODY = '{"webhookEvent":"jira:issue_created"}';
const JIRA_SIGNATURE = 'sha256=4ce4f83412227a95fec604b770261b97c7f5650cf98949a1edb42156781a6f57';

function request(headers: Record<string, string>, body: string): InboundRequest {
  return { headers, body: Buffer.from(body) };
}

describe('hmac-sha256', () => {
  describe('base64 without prefix (Shopify)', () => {
    const verifier = hmacSha256Verifier({ header: 'X-Shopify-Hmac-Sha256', encoding: 'base64' });
    const signed = (signature: string, body = SHOPIFY_BODY) =>
      request({ 'x-shopify-hmac-sha256': signature }, body);

    it('accepts a known signature, with no delivery id', () => {
      // Act
      const verdict = verifier.verify(signed(SHOPIFY_SIGNATURE), [SHOPIFY_SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: true });
    });

    it('accepts the signature without its base64 padding', () => {
      // Act
      const verdict = verifier.verify(signed(SHOPIFY_SIGNATURE.slice(0, -1)), [SHOPIFY_SECRET], NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('rejects a body changed after signing', () => {
      // Act
      const verdict = verifier.verify(
        signed(SHOPIFY_SIGNATURE, '{"id":820982911946154509}'),
        [SHOPIFY_SECRET],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('accepts when the second of two configured secrets verifies (rotation)', () => {
      // Act
      const verdict = verifier.verify(signed(SHOPIFY_SIGNATURE), ['shpss_old', SHOPIFY_SECRET], NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it.each([
      ['too short', SHOPIFY_SIGNATURE.slice(4)],
      ['too long', `AAAA${SHOPIFY_SIGNATURE}`],
      ['not base64', SHOPIFY_SIGNATURE.replace('W', '*')],
      ['base64url characters', SHOPIFY_SIGNATURE.replace('W', '-')],
      ['hex instead', 'a'.repeat(64)],
    ])('rejects a malformed signature: %s', (_case, signature) => {
      // Act
      const verdict = verifier.verify(signed(signature), [SHOPIFY_SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    });
  });

  describe('hex with a prefix (Jira Cloud)', () => {
    const verifier = hmacSha256Verifier({ header: 'X-Hub-Signature', prefix: 'sha256=', encoding: 'hex' });
    const signed = (signature: string, body = JIRA_BODY) => request({ 'x-hub-signature': signature }, body);

    it('accepts a known signature', () => {
      // Act
      const verdict = verifier.verify(signed(JIRA_SIGNATURE), [JIRA_SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: true });
    });

    it('accepts the same format as signed by @octokit/webhooks-methods', async () => {
      // Prepare
      const signature = await sign(JIRA_SECRET, '{"webhookEvent":"jira:issue_updated"}');

      // Act
      const verdict = verifier.verify(
        signed(signature, '{"webhookEvent":"jira:issue_updated"}'),
        [JIRA_SECRET],
        NOW,
      );

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('accepts upper-case hex, as generic senders vary', () => {
      // Act
      const verdict = verifier.verify(
        signed(`sha256=${JIRA_SIGNATURE.slice(7).toUpperCase()}`),
        [JIRA_SECRET],
        NOW,
      );

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('rejects a body changed after signing', () => {
      // Act
      const verdict = verifier.verify(signed(JIRA_SIGNATURE, `${JIRA_BODY} `), [JIRA_SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('rejects a signature made with another secret', () => {
      // Act
      const verdict = verifier.verify(signed(JIRA_SIGNATURE), ['other'], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it.each([
      ['without the prefix', JIRA_SIGNATURE.slice(7)],
      ['with another prefix', JIRA_SIGNATURE.replace('sha256=', 'sha1=')],
      ['too short', JIRA_SIGNATURE.slice(0, -2)],
      ['non-hex characters', `${JIRA_SIGNATURE.slice(0, -1)}x`],
      ['two values joined by a repeated header', `${JIRA_SIGNATURE}, ${JIRA_SIGNATURE}`],
    ])('rejects a malformed signature: %s', (_case, signature) => {
      // Act
      const verdict = verifier.verify(signed(signature), [JIRA_SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    });

    it('rejects a request without the configured header', () => {
      // Act
      const verdict = verifier.verify(
        request({ 'x-hub-signature-256': JIRA_SIGNATURE }, JIRA_BODY),
        [JIRA_SECRET],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
    });

    it('answers no_secret when no secret is configured', () => {
      // Act
      const verdict = verifier.verify(signed(JIRA_SIGNATURE), [], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
    });
  });
});
