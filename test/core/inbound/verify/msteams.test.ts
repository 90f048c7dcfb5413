import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { msteamsVerifier } from '../../../../functions/relay/core/inbound/verify/msteams';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The security token of Microsoft's own example ("contoso" in the documentation's sample AuthProvider.cs,
// https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-outgoing-webhook).
// The documentation does not reproduce the inbound message its example HMAC belongs to, so the expected header
// here comes from the algorithm of Microsoft's sample (Node.js: HMAC-SHA256 keyed with Buffer.from(token,
// 'base64'), digest base64, prefixed "HMAC "), computed with openssl, independently of the code under test.
const SECURITY_TOKEN = 'vqF0En+Z0ucuRTM/01o2GuhMH3hKKk/N2bOmlM31zaA=';
const ACTIVITY =
  '{"type":"message","id":"1485983408511","timestamp":"2017-02-01T21:10:07.437Z","serviceUrl":"https://smba.trafficmanager.net/amer-client-ss.msg/","channelId":"msteams","from":{"id":"29:1XJKJMvc5GBtc2JwZq0oj8tHZmzrQgFmB25ATiQWA85gQtHieVkKilBZ9XHoq9j7Zaqt7CZ-NJWi7me2kHTL3Bw","name":"Tom Lam"},"text":"<at>Sample</at> Hello!"}';
const NOW = 1_700_000_000_000;

function sampleHeader(body: string, token = SECURITY_TOKEN): string {
  return `HMAC ${createHmac('sha256', Buffer.from(token, 'base64')).update(Buffer.from(body, 'utf8')).digest('base64')}`;
}

function request(authorization: string | undefined, body = ACTIVITY): InboundRequest {
  return { headers: authorization === undefined ? {} : { authorization }, body: Buffer.from(body) };
}

describe('msteams', () => {
  const verifier = msteamsVerifier();

  it("accepts what Microsoft's sample signs and takes the delivery id from the activity id", () => {
    // Act
    const verdict = verifier.verify(request(sampleHeader(ACTIVITY)), [SECURITY_TOKEN], NOW);

    // Assess
    expect(sampleHeader(ACTIVITY)).toBe('HMAC nZWN+CWVJVPGZqCrgUXCDmqhZL547TDZsM8FqqernBQ=');
    expect(verdict).toEqual({ ok: true, deliveryId: '1485983408511' });
  });

  it('keys the HMAC with the decoded token, not the token text', () => {
    // Prepare
    const textKeyed = `HMAC ${createHmac('sha256', SECURITY_TOKEN).update(ACTIVITY).digest('base64')}`;

    // Act
    const verdict = verifier.verify(request(textKeyed), [SECURITY_TOKEN], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('verifies the UTF-8 bytes of a message with non-ASCII text', () => {
    // Prepare
    const body = ACTIVITY.replace('Hello!', 'Hyvää päivää ✓');

    // Act
    const verdict = verifier.verify(request(sampleHeader(body), body), [SECURITY_TOKEN], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('rejects a body changed after signing', () => {
    // Act
    const verdict = verifier.verify(
      request(sampleHeader(ACTIVITY), ACTIVITY.replace('Hello!', 'Hello?')),
      [SECURITY_TOKEN],
      NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts when the second of two configured tokens verifies (rotation)', () => {
    // Prepare
    const other = Buffer.alloc(32, 7).toString('base64');

    // Act
    const verdict = verifier.verify(request(sampleHeader(ACTIVITY)), [other, SECURITY_TOKEN], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts the scheme name in any case', () => {
    // Act
    const verdict = verifier.verify(
      request(sampleHeader(ACTIVITY).replace('HMAC', 'hmac')),
      [SECURITY_TOKEN],
      NOW,
    );

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['Bearer instead of HMAC', sampleHeader(ACTIVITY).replace('HMAC', 'Bearer')],
    ['no scheme', sampleHeader(ACTIVITY).slice(5)],
    [
      'hex instead of base64',
      `HMAC ${createHmac('sha256', Buffer.from(SECURITY_TOKEN, 'base64')).update(ACTIVITY).digest('hex')}`,
    ],
    ['two spaces', sampleHeader(ACTIVITY).replace(' ', '  ')],
  ])('rejects an Authorization header with %s as malformed', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECURITY_TOKEN], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('rejects a request without an Authorization header', () => {
    // Act
    const verdict = verifier.verify(request(undefined), [SECURITY_TOKEN], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
  });

  it('has no usable secret when the configured token is not base64', () => {
    // Act
    const verdict = verifier.verify(request(sampleHeader(ACTIVITY)), ['not base64!', ''], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
