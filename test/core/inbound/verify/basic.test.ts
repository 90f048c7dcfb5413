import { describe, expect, it } from 'vitest';
import { basicVerifier } from '../../../../functions/relay/core/inbound/verify/basic';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

const SECRET = 'relay:correct horse';
const NOW = 1_700_000_000_000;

function withAuthorization(value: string | undefined): InboundRequest {
  return { headers: { authorization: value }, body: Buffer.from('{}') };
}

function basic(credentials: string): string {
  return `Basic ${Buffer.from(credentials).toString('base64')}`;
}

describe('basic', () => {
  const verifier = basicVerifier();

  it('accepts the configured user and password, with no delivery id', () => {
    // Act
    const verdict = verifier.verify(withAuthorization('Basic cmVsYXk6Y29ycmVjdCBob3JzZQ=='), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it('accepts the scheme name in any case (RFC 7617)', () => {
    // Act
    const verdict = verifier.verify(
      withAuthorization(basic(SECRET).replace('Basic', 'bAsIc')),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts a password that itself contains a colon', () => {
    // Act
    const verdict = verifier.verify(withAuthorization(basic('relay:pa:ss')), ['relay:pa:ss'], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts when the second of two configured secrets matches (rotation)', () => {
    // Act
    const verdict = verifier.verify(withAuthorization(basic(SECRET)), ['relay:old password', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['a wrong password', 'relay:battery staple'],
    ['a wrong user', 'other:correct horse'],
    ['a password with a different length', 'relay:correct horse!'],
    ['an empty password', 'relay:'],
  ])('rejects %s', (_case, credentials) => {
    // Act
    const verdict = verifier.verify(withAuthorization(basic(credentials)), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['another scheme', `Bearer ${Buffer.from(SECRET).toString('base64')}`],
    ['no credentials', 'Basic'],
    ['not base64', 'Basic !!!'],
    ['base64 without padding', basic(SECRET).replace(/=+$/, '')],
    ['credentials without a colon', basic('relaycorrect horse')],
    ['two spaces', basic(SECRET).replace(' ', '  ')],
    ['two values joined by a repeated header', `${basic(SECRET)}, ${basic(SECRET)}`],
  ])('rejects a malformed Authorization header: %s', (_case, value) => {
    // Act
    const verdict = verifier.verify(withAuthorization(value), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('rejects a request without an Authorization header', () => {
    // Act
    const verdict = verifier.verify(withAuthorization(undefined), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
  });

  it('answers no_secret when no secret is configured', () => {
    // Act
    const verdict = verifier.verify(withAuthorization(basic(SECRET)), [], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
