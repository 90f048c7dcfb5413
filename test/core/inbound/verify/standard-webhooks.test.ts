import { createHmac } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { standardWebhooksVerifier } from '../../../../functions/relay/core/inbound/verify/standard-webhooks';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The example from the Standard Webhooks specification (also Svix's documentation).
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const ID = 'msg_p5jXN8AQM9LWM0D4loKWxJek';
const TIMESTAMP = 1614265330;
const BODY = '{"test": 2432232314}';
const SIGNATURE = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=';
const NOW = TIMESTAMP * 1000;

function request(overrides: Record<string, string | undefined> = {}, body: string = BODY): InboundRequest {
  return {
    headers: {
      'webhook-id': ID,
      'webhook-timestamp': String(TIMESTAMP),
      'webhook-signature': SIGNATURE,
      ...overrides,
    },
    body: Buffer.from(body),
  };
}

/** Signs with the official library, as a sender would. */
function officialHeaders(
  secret: string,
  id: string,
  timestamp: number,
  body: string,
): Record<string, string> {
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': new Webhook(secret).sign(id, new Date(timestamp * 1000), body),
  };
}

/** Whether the official library accepts, at the given clock. */
function officialAccepts(headers: Record<string, string | undefined>, body: string, nowMs: number): boolean {
  vi.useFakeTimers({ now: nowMs, toFake: ['Date'] });
  try {
    new Webhook(SECRET).verify(body, headers as Record<string, string>);
    return true;
  } catch {
    return false;
  } finally {
    vi.useRealTimers();
  }
}

describe('standard-webhooks', () => {
  const verifier = standardWebhooksVerifier();

  afterEach(() => {
    vi.useRealTimers();
  });

  it("accepts the specification's example and takes the delivery id from webhook-id", () => {
    // Act
    const verdict = verifier.verify(request(), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: ID });
  });

  it.each([
    ['with the whsec_ prefix', SECRET],
    ['as bare base64, as the official library also takes it', SECRET.slice('whsec_'.length)],
  ])('accepts what the official library signs, secret %s', (_case, secret) => {
    // Prepare
    const body = '{"type":"invoice.paid","data":{"amount":12345678901234567890}}';
    const headers = officialHeaders(secret, 'msg_2', TIMESTAMP, body);

    // Act
    const verdict = verifier.verify({ headers, body: Buffer.from(body) }, [secret], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: 'msg_2' });
  });

  it('rejects a body changed after signing', () => {
    // Prepare
    const tampered = '{"test": 2432232315}';

    // Act
    const verdict = verifier.verify(request({}, tampered), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect(officialAccepts(request().headers, tampered, NOW)).toBe(false);
  });

  it('rejects a changed webhook-id, which is part of the signed content', () => {
    // Act
    const verdict = verifier.verify(request({ 'webhook-id': 'msg_other' }), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a signature made with another secret', () => {
    // Act
    const verdict = verifier.verify(request(), ['whsec_dGhlIG90aGVyIHNlY3JldA=='], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(request(), ['whsec_dGhlIG9sZCBzZWNyZXQ=', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['a stale entry first', `v1,dGhlIG9sZCBzaWduYXR1cmUgb2YgMzIgYnl0ZXMhISE= ${SIGNATURE}`],
    ['an asymmetric v1a entry first', `v1a,c29tZXRoaW5n ${SIGNATURE}`],
    ['a malformed entry first', `v1,garbage ${SIGNATURE}`],
    ['extra spaces', `  ${SIGNATURE}  `],
  ])('accepts when any of several signature entries matches: %s', (_case, header) => {
    // Act
    const verdict = verifier.verify(request({ 'webhook-signature': header }), [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
    expect(officialAccepts(request({ 'webhook-signature': header }).headers, BODY, NOW)).toBe(true);
  });

  it.each([
    ['300 s old', -300, { ok: true, deliveryId: ID }],
    ['301 s old', -301, { ok: false, reason: 'stale_timestamp' }],
    ['300 s ahead', 300, { ok: true, deliveryId: ID }],
    ['301 s ahead', 301, { ok: false, reason: 'future_timestamp' }],
  ])('applies the 300 s tolerance both ways: %s', (_case, offset, expected) => {
    // Prepare
    const timestamp = TIMESTAMP + offset;
    const headers = officialHeaders(SECRET, ID, timestamp, BODY);

    // Act
    const verdict = verifier.verify({ headers, body: Buffer.from(BODY) }, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual(expected);
    expect(officialAccepts(headers, BODY, NOW)).toBe(expected.ok);
  });

  it('measures the tolerance against whole seconds of the clock, as the official library does', () => {
    // Prepare: 300.999 s after the signature is still 300 whole seconds.
    const nowMs = (TIMESTAMP + 300) * 1000 + 999;

    // Act
    const verdict = verifier.verify(request(), [SECRET], nowMs);

    // Assess
    expect(verdict.ok).toBe(true);
    expect(officialAccepts(request().headers, BODY, nowMs)).toBe(true);
  });

  it('applies a configured tolerance', () => {
    // Prepare
    const strict = standardWebhooksVerifier({ toleranceSeconds: 60 });

    // Act
    const inside = strict.verify(request(), [SECRET], NOW + 60_000);
    const outside = strict.verify(request(), [SECRET], NOW + 61_000);

    // Assess
    expect(inside.ok).toBe(true);
    expect(outside).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('refuses a tolerance that would disable the check', () => {
    // Act / Assess
    expect(() => standardWebhooksVerifier({ toleranceSeconds: 0 })).toThrow(RangeError);
  });

  it('reports a forged old message as a bad signature, not a stale one', () => {
    // Prepare
    const old = request({ 'webhook-timestamp': String(TIMESTAMP - 3600) });

    // Act
    const verdict = verifier.verify(old, [SECRET], NOW);

    // Assess: the old timestamp was not signed, so the signature fails first.
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each(['webhook-id', 'webhook-timestamp', 'webhook-signature'])(
    'rejects a request without %s',
    (name) => {
      // Act
      const verdict = verifier.verify(request({ [name]: undefined }), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
      expect(officialAccepts(request({ [name]: undefined }).headers, BODY, NOW)).toBe(false);
    },
  );

  it('finds the headers whatever their case', () => {
    // Prepare
    const req: InboundRequest = {
      headers: { 'Webhook-Id': ID, 'Webhook-Timestamp': String(TIMESTAMP), 'Webhook-Signature': SIGNATURE },
      body: Buffer.from(BODY),
    };

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: ID });
  });

  it.each([
    ['not a number', 'yesterday'],
    ['a fraction (the official library would truncate it)', `${TIMESTAMP}.5`],
    ['negative', `-${TIMESTAMP}`],
    ['milliseconds, too many digits', `${TIMESTAMP}000000`],
  ])('rejects a timestamp that is %s', (_case, timestamp) => {
    // Act
    const verdict = verifier.verify(request({ 'webhook-timestamp': timestamp }), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  it.each([
    ['too short', SIGNATURE.replace('OE=', '=')],
    ['too long', SIGNATURE.replace('OE=', 'OEAA')],
    ['not base64', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1O!='],
    ['non-canonical base64', SIGNATURE.replace('OE=', 'OF=')],
    ['only another version', SIGNATURE.replace('v1,', 'v2,')],
    ['no version', SIGNATURE.slice('v1,'.length)],
  ])('rejects a malformed signature: %s', (_case, signature) => {
    // Act
    const verdict = verifier.verify(request({ 'webhook-signature': signature }), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    expect(officialAccepts(request({ 'webhook-signature': signature }).headers, BODY, NOW)).toBe(false);
  });

  it('signs the raw bytes of a body that is not UTF-8', () => {
    // Prepare
    const body = Buffer.from([0xff, 0xfe, 0x7b, 0x7d]);
    const key = Buffer.from(SECRET.slice('whsec_'.length), 'base64');
    const mac = createHmac('sha256', key).update(`${ID}.${TIMESTAMP}.`).update(body).digest('base64');
    const req: InboundRequest = { ...request({ 'webhook-signature': `v1,${mac}` }), body };

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['none', []],
    ['only an empty string', ['']],
    ['only an empty key', ['whsec_']],
    ['only one that is not base64', ['whsec_not base64!']],
  ])('answers no_secret when no usable secret is configured (%s)', (_case, secrets) => {
    // Act
    const verdict = verifier.verify(request(), secrets, NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
