import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import type { SourceDeclaration } from '../../../../functions/relay/core/inbound/source-declaration';
import type { InboundRequest, RejectReason } from '../../../../functions/relay/core/inbound/verify/types';
import { verifierFor } from '../../../../functions/relay/core/inbound/verify/verifier-for';

// Counts HMAC computations, to show that a refused IP costs none.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, createHmac: vi.fn(original.createHmac) };
});

const NOW = 1_700_000_000_000;
const SECONDS = NOW / 1000;
const BODY = '{"id":"evt_1","marker":"BODY-MARKER-7f3a"}';
const SECRET = 'SECRET-MARKER-c41d';
const SW_SECRET = `whsec_${Buffer.from(SECRET).toString('base64')}`;

const ISO_NOW = new Date(NOW).toISOString().replace('.000Z', 'Z');
const TEAMS_SECRET = Buffer.from(SECRET).toString('base64');
const GRAPH_BODY = `{"value":[{"clientState":"${SECRET}","resource":"BODY-MARKER-7f3a"}]}`;

function hexHmac(body: string): string {
  return createHmac('sha256', SECRET).update(body).digest('hex');
}

/** A correctly signed request and the secret for each scheme (and its own body where the scheme needs one). */
const signed: Record<
  SourceDeclaration['scheme'],
  { headers: Record<string, string>; secret: string; body?: string }
> = {
  github: { headers: { 'x-hub-signature-256': `sha256=${hexHmac(BODY)}` }, secret: SECRET },
  'standard-webhooks': {
    headers: {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(SECONDS),
      'webhook-signature': new Webhook(SW_SECRET).sign('msg_1', new Date(NOW), BODY),
    },
    secret: SW_SECRET,
  },
  stripe: {
    headers: {
      'stripe-signature': Stripe.webhooks.generateTestHeaderString({
        payload: BODY,
        secret: SECRET,
        timestamp: SECONDS,
      }),
    },
    secret: SECRET,
  },
  'hmac-sha256': { headers: { 'x-signature': hexHmac(BODY) }, secret: SECRET },
  basic: {
    headers: { authorization: `Basic ${Buffer.from(`relay:${SECRET}`).toString('base64')}` },
    secret: `relay:${SECRET}`,
  },
  unauthenticated: { headers: {}, secret: SECRET },
  slack: {
    headers: {
      'x-slack-request-timestamp': String(SECONDS),
      'x-slack-signature': `v0=${hexHmac(`v0:${SECONDS}:${BODY}`)}`,
    },
    secret: SECRET,
  },
  zoom: {
    headers: {
      'x-zm-request-timestamp': String(SECONDS),
      'x-zm-signature': `v0=${hexHmac(`v0:${SECONDS}:${BODY}`)}`,
    },
    secret: SECRET,
  },
  zendesk: {
    headers: {
      'x-zendesk-webhook-signature-timestamp': ISO_NOW,
      'x-zendesk-webhook-signature': createHmac('sha256', SECRET)
        .update(`${ISO_NOW}${BODY}`)
        .digest('base64'),
    },
    secret: SECRET,
  },
  pagerduty: { headers: { 'x-pagerduty-signature': `v1=${hexHmac(BODY)}` }, secret: SECRET },
  token: { headers: { 'x-gitlab-token': SECRET }, secret: SECRET },
  msteams: {
    headers: { authorization: `HMAC ${createHmac('sha256', SECRET).update(BODY).digest('base64')}` },
    secret: TEAMS_SECRET,
  },
  msgraph: { headers: {}, secret: SECRET, body: GRAPH_BODY },
};

const declarations: readonly SourceDeclaration[] = [
  { scheme: 'github' },
  { scheme: 'standard-webhooks' },
  { scheme: 'stripe' },
  { scheme: 'hmac-sha256', header: 'X-Signature', encoding: 'hex' },
  { scheme: 'basic' },
  { scheme: 'unauthenticated' },
  { scheme: 'slack' },
  { scheme: 'zoom' },
  { scheme: 'zendesk' },
  { scheme: 'pagerduty' },
  { scheme: 'token', header: 'X-Gitlab-Token' },
  { scheme: 'msteams' },
  { scheme: 'msgraph' },
];

function request(headers: Record<string, string>, sourceIp?: string, body = BODY): InboundRequest {
  return sourceIp === undefined
    ? { headers, body: Buffer.from(body) }
    : { headers, body: Buffer.from(body), sourceIp };
}

describe('verifierFor', () => {
  it.each(declarations.map((d) => [d.scheme, d] as const))(
    'builds a working %s verifier',
    (scheme, declaration) => {
      // Prepare
      const { headers, secret, body } = signed[scheme];

      // Act
      const verdict = verifierFor(declaration).verify(request(headers, undefined, body), [secret], NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    },
  );

  it.each([
    ['IPv4', '203.0.113.9'],
    ['IPv6', '2001:db8:ffff::1'],
  ])('refuses an %s address outside the allow-list before computing any HMAC', (_case, ip) => {
    // Prepare
    const verifier = verifierFor({ scheme: 'github', allowCidrs: ['192.0.2.0/24', '2001:db8:1::/48'] });
    vi.mocked(createHmac).mockClear();

    // Act
    const verdict = verifier.verify(request(signed.github.headers, ip), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'ip_not_allowed' });
    expect(createHmac).not.toHaveBeenCalled();
  });

  it.each([
    ['IPv4', '192.0.2.77'],
    ['IPv6', '2001:db8:1:2::1'],
    ['IPv4-mapped IPv6', '::ffff:192.0.2.77'],
  ])('verifies the signature of an %s address inside the allow-list', (_case, ip) => {
    // Prepare
    const verifier = verifierFor({ scheme: 'github', allowCidrs: ['192.0.2.0/24', '2001:db8:1::/48'] });
    vi.mocked(createHmac).mockClear();

    // Act
    const good = verifier.verify(request(signed.github.headers, ip), [SECRET], NOW);
    const tampered = verifier.verify(request(signed.github.headers, ip, `${BODY} `), [SECRET], NOW);

    // Assess
    expect(good.ok).toBe(true);
    expect(tampered).toEqual({ ok: false, reason: 'bad_signature' });
    expect(createHmac).toHaveBeenCalled();
  });

  it('refuses a request without a source IP when an allow-list is declared', () => {
    // Prepare
    const verifier = verifierFor({ scheme: 'github', allowCidrs: ['0.0.0.0/0'] });

    // Act
    const verdict = verifier.verify(request(signed.github.headers), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'ip_not_allowed' });
  });

  it('reports the IP refusal before any other problem, even a missing secret', () => {
    // Prepare
    const verifier = verifierFor({ scheme: 'stripe', allowCidrs: ['192.0.2.0/24'] });

    // Act
    const verdict = verifier.verify(request({}, '198.51.100.1'), [], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'ip_not_allowed' });
  });

  it('ignores the source IP when no allow-list is declared', () => {
    // Act
    const verdict = verifierFor({ scheme: 'github' }).verify(
      request(signed.github.headers, '203.0.113.9'),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict.ok).toBe(true);
  });

  describe('unauthenticated', () => {
    it('accepts any request, with or without secrets', () => {
      // Act
      const verdict = verifierFor({ scheme: 'unauthenticated' }).verify(request({}, '203.0.113.9'), [], NOW);

      // Assess
      expect(verdict).toEqual({ ok: true });
    });

    it('still applies a declared allow-list', () => {
      // Prepare
      const verifier = verifierFor({ scheme: 'unauthenticated', allowCidrs: ['192.0.2.0/24'] });

      // Act
      const inside = verifier.verify(request({}, '192.0.2.1'), [], NOW);
      const outside = verifier.verify(request({}, '203.0.113.9'), [], NOW);

      // Assess
      expect(inside).toEqual({ ok: true });
      expect(outside).toEqual({ ok: false, reason: 'ip_not_allowed' });
    });
  });

  it('fails at start-up on an allow-list it cannot read', () => {
    // Act / Assess
    expect(() => verifierFor({ scheme: 'github', allowCidrs: ['192.0.2.0/33'] })).toThrow('192.0.2.0/33');
  });

  describe('oktaVerification', () => {
    const okta = verifierFor({ scheme: 'token', header: 'Authorization', oktaVerification: true });
    const get = (headers: Record<string, string>): InboundRequest => ({
      headers,
      body: Buffer.alloc(0),
      method: 'GET',
    });

    it('answers the verification GET once the authorization header holds', () => {
      // Act
      const verdict = okta.verify(
        get({ authorization: SECRET, 'x-okta-verification-challenge': 'challenge-value' }),
        [SECRET],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({
        ok: true,
        handshake: {
          kind: 'okta-verification',
          contentType: 'application/json',
          body: '{"verification":"challenge-value"}',
        },
      });
    });

    it('refuses the verification GET with a wrong authorization header', () => {
      // Act
      const verdict = okta.verify(
        get({ authorization: 'guess', 'x-okta-verification-challenge': 'challenge-value' }),
        [SECRET],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('refuses a GET without a challenge, however well authorised', () => {
      // Act
      const verdict = okta.verify(get({ authorization: SECRET }), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
    });

    it('checks an event POST as the scheme does, challenge header or not', () => {
      // Act
      const event = okta.verify(request({ authorization: SECRET }), [SECRET], NOW);
      const withChallenge = okta.verify(
        request({ authorization: SECRET, 'x-okta-verification-challenge': 'x' }),
        [SECRET],
        NOW,
      );

      // Assess
      expect(event).toEqual({ ok: true });
      expect(withChallenge).toEqual({ ok: true });
    });

    it('answers no GET for a source that does not declare it', () => {
      // Act
      const verdict = verifierFor({ scheme: 'token', header: 'Authorization' }).verify(
        get({ authorization: SECRET, 'x-okta-verification-challenge': 'challenge-value' }),
        [SECRET],
        NOW,
      );

      // Assess: the scheme accepts the credentials, but there is no handshake to answer (the gate answers 404).
      expect(verdict).toEqual({ ok: true });
    });
  });

  describe('rejections', () => {
    const reasons: readonly RejectReason[] = [
      'missing_header',
      'malformed_signature',
      'malformed_timestamp',
      'bad_signature',
      'stale_timestamp',
      'future_timestamp',
      'ip_not_allowed',
      'no_secret',
    ];

    it.each(declarations.filter((d) => d.scheme !== 'unauthenticated').map((d) => [d.scheme, d] as const))(
      'carry only a reason code, never the secret, signature or body (%s)',
      (scheme, declaration) => {
        // Prepare: a wrong secret, a tampered body, a stale clock, an outsider's IP.
        const { headers, secret, body = BODY } = signed[scheme];
        const cases: Array<[InboundRequest, readonly string[], number]> = [
          [request(headers, undefined, body), [`${secret}x`, 'another'], NOW],
          [request(headers, undefined, `${body} `), [secret], NOW],
          [request(headers, undefined, body), [secret], NOW + 3_600_000],
          [request(headers, undefined, body), [], NOW],
        ];
        const guarded = verifierFor({ ...declaration, allowCidrs: ['192.0.2.0/24'] });
        const sensitive = [SECRET, secret, 'BODY-MARKER', ...Object.values(headers)];

        // Act
        const verdicts = [
          ...cases.map(([req, secrets, now]) => verifierFor(declaration).verify(req, secrets, now)),
          guarded.verify(request(headers, '203.0.113.9', body), [secret], NOW),
        ].filter((v) => !v.ok);

        // Assess
        expect(verdicts.length).toBeGreaterThanOrEqual(3);
        for (const verdict of verdicts) {
          expect(Object.keys(verdict).sort()).toEqual(['ok', 'reason']);
          expect(reasons).toContain(verdict.ok ? undefined : verdict.reason);
          const serialised = JSON.stringify(verdict);
          for (const value of sensitive) expect(serialised).not.toContain(value);
        }
      },
    );
  });
});
