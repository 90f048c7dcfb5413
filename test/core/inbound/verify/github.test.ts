import { createHmac } from 'node:crypto';
import { verify as octokitVerify, sign } from '@octokit/webhooks-methods';
import { describe, expect, it } from 'vitest';
import { githubVerifier } from '../../../../functions/relay/core/inbound/verify/github';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The example GitHub publishes in "Validating webhook deliveries".
const SECRET = "It's a Secret to Everybody";
const BODY = 'Hello, World!';
const SIGNATURE = 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17';
const DELIVERY = '72d3162e-cc78-11e3-81ab-4c9367dc0958';
const NOW = 1_700_000_000_000;

function request(headers: Record<string, string>, body: string | Buffer = BODY): InboundRequest {
  return { headers, body: Buffer.isBuffer(body) ? body : Buffer.from(body) };
}

function signed(signature = SIGNATURE, body: string | Buffer = BODY): InboundRequest {
  return request({ 'x-hub-signature-256': signature, 'x-github-delivery': DELIVERY }, body);
}

describe('github', () => {
  const verifier = githubVerifier();

  it("accepts GitHub's published example and takes the delivery id from X-GitHub-Delivery", () => {
    // Act
    const verdict = verifier.verify(signed(), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: DELIVERY });
  });

  it('accepts what @octokit/webhooks-methods signs', async () => {
    // Prepare
    const body = '{"action":"opened","number":1347}';
    const signature = await sign('s3cr3t', body);

    // Act
    const verdict = verifier.verify(signed(signature, body), ['s3cr3t'], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('verifies the raw bytes, even when they are not UTF-8', () => {
    // Prepare
    const body = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
    const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;

    // Act
    const verdict = verifier.verify(signed(signature, body), [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('rejects a body changed after signing', async () => {
    // Prepare
    const tampered = 'Hello, World?';

    // Act
    const verdict = verifier.verify(signed(SIGNATURE, tampered), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect(await octokitVerify(SECRET, tampered, SIGNATURE)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    // Act
    const verdict = verifier.verify(signed(), ['not the secret'], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(signed(), ['the old secret', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('finds the header whatever its case', () => {
    // Prepare
    const req = request({ 'X-Hub-Signature-256': SIGNATURE, 'X-GitHub-Delivery': DELIVERY });

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: DELIVERY });
  });

  it('accepts without a delivery id when X-GitHub-Delivery is absent', () => {
    // Act
    const verdict = verifier.verify(request({ 'x-hub-signature-256': SIGNATURE }), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it.each([
    ['absent', {}],
    ['empty', { 'x-hub-signature-256': '' }],
    ['only the SHA-1 header', { 'x-hub-signature': 'sha1=01dc10d0c83e72ed246219cdd91669667fe2ca59' }],
  ])('rejects a missing signature header (%s)', (_case, headers) => {
    // Act
    const verdict = verifier.verify(request(headers), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
  });

  it.each([
    ['too short', SIGNATURE.slice(0, -2)],
    ['too long', `${SIGNATURE}00`],
    ['non-hex characters', `${SIGNATURE.slice(0, -1)}g`],
    ['upper-case hex (octokit compares the text)', SIGNATURE.replace('757107ea', '757107EA')],
    ['no prefix', SIGNATURE.slice('sha256='.length)],
    ['another algorithm', SIGNATURE.replace('sha256=', 'sha1=')],
    ['surrounding space', ` ${SIGNATURE}`],
    ['two values joined by a repeated header', `${SIGNATURE}, ${SIGNATURE}`],
  ])('rejects a malformed signature: %s', async (_case, signature) => {
    // Act
    const verdict = verifier.verify(signed(signature), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(await octokitVerify(SECRET, BODY, signature)).toBe(false);
  });

  it('rejects a header sent twice under two spellings, even if one is valid', () => {
    // Prepare
    const req = request({ 'x-hub-signature-256': SIGNATURE, 'X-Hub-Signature-256': SIGNATURE });

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it.each([
    ['none', []],
    ['only empty strings', ['']],
  ])('answers no_secret when no secret is configured (%s)', (_case, secrets) => {
    // Act
    const verdict = verifier.verify(signed(), secrets, NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
