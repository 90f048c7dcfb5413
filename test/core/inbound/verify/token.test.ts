import { timingSafeEqual } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { tokenVerifier } from '../../../../functions/relay/core/inbound/verify/token';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// Counts constant-time comparisons, to show the token is never compared with `===`.
vi.mock('node:crypto', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:crypto')>();
  return { ...original, timingSafeEqual: vi.fn(original.timingSafeEqual) };
});

const TOKEN = 'gitlab-secret-token-8e1f';
const NOW = 1_700_000_000_000;
const BODY = '{"object_kind":"push"}';

function request(headers: Record<string, string>, query = ''): InboundRequest {
  return { headers, body: Buffer.from(BODY), query };
}

describe('token', () => {
  describe('in a header (GitLab X-Gitlab-Token)', () => {
    const verifier = tokenVerifier({ header: 'X-Gitlab-Token' });

    it('accepts the configured token, compared in constant time', () => {
      // Prepare
      vi.mocked(timingSafeEqual).mockClear();

      // Act
      const verdict = verifier.verify(request({ 'x-gitlab-token': TOKEN }), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: true });
      expect(timingSafeEqual).toHaveBeenCalled();
    });

    it.each([
      ['another token', 'guess'],
      ['the token with a suffix', `${TOKEN}x`],
      ['a prefix of the token', TOKEN.slice(0, -1)],
      ['the token in another case', TOKEN.toUpperCase()],
    ])('rejects %s', (_case, token) => {
      // Act
      const verdict = verifier.verify(request({ 'x-gitlab-token': token }), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('accepts either of two configured tokens (rotation)', () => {
      // Act
      const verdict = verifier.verify(request({ 'x-gitlab-token': TOKEN }), ['new-token', TOKEN], NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('finds the header whatever its case', () => {
      // Act
      const verdict = verifier.verify(request({ 'X-GITLAB-TOKEN': TOKEN }), [TOKEN], NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('rejects a request without the header, or with the token only in the query', () => {
      // Act
      const verdict = verifier.verify(request({}, `token=${TOKEN}`), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
    });

    it('never accepts an empty token, even when an empty secret is configured', () => {
      // Act
      const verdicts = [
        verifier.verify(request({ 'x-gitlab-token': '' }), ['', TOKEN], NOW),
        verifier.verify(request({ 'x-gitlab-token': TOKEN }), [''], NOW),
      ];

      // Assess
      expect(verdicts).toEqual([
        { ok: false, reason: 'missing_header' },
        { ok: false, reason: 'no_secret' },
      ]);
    });

    it('takes the delivery id from idHeader when declared (GitLab Idempotency-Key)', () => {
      // Prepare
      const withId = tokenVerifier({ header: 'X-Gitlab-Token', idHeader: 'Idempotency-Key' });

      // Act
      const verdict = withId.verify(
        request({ 'x-gitlab-token': TOKEN, 'idempotency-key': '6c0e9e2a-1c4f-4f57-9a8e-1c2d3e4f5a6b' }),
        [TOKEN],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: true, deliveryId: '6c0e9e2a-1c4f-4f57-9a8e-1c2d3e4f5a6b' });
    });

    it('falls back to the body hash without idHeader', () => {
      // Act
      const verdict = verifier.verify(
        request({ 'x-gitlab-token': TOKEN, 'idempotency-key': 'ignored' }),
        [TOKEN],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: true });
    });
  });

  describe('in a query parameter', () => {
    const verifier = tokenVerifier({ query: 'token' });

    it('accepts the configured token, percent-decoded', () => {
      // Prepare
      const token = 'a b&c=d/é';

      // Act
      const verdict = verifier.verify(
        request({}, `project=OPS&token=${encodeURIComponent(token)}`),
        [token],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: true });
    });

    it('rejects a wrong token', () => {
      // Act
      const verdict = verifier.verify(request({}, 'token=guess'), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('refuses the parameter given twice, even when one of them is right', () => {
      // Act
      const verdict = verifier.verify(request({}, `token=guess&token=${TOKEN}`), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    });

    it.each([
      ['no query', ''],
      ['an empty parameter', 'token='],
      ['the name in another case', `TOKEN=${TOKEN}`],
    ])('rejects %s as missing', (_case, query) => {
      // Act
      const verdict = verifier.verify(request({}, query), [TOKEN], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
    });
  });

  it('fails at start-up without a header or a query parameter', () => {
    // Act / Assess
    expect(() => tokenVerifier({} as never)).toThrow('token needs a header or a query parameter');
  });
});
