import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { stripeVerifier } from '../../../../functions/relay/core/inbound/verify/stripe';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

const SECRET = 'whsec_test_secret';
const EVENT_ID = 'evt_1NG8Du2eZvKYlo2CUI79vXWy';
const BODY = `{"id":"${EVENT_ID}","object":"event","type":"invoice.paid"}`;
const TIMESTAMP = 1_700_000_000;
// HMAC-SHA256("whsec_test_secret", "1700000000." + BODY), the secret used as is, as Stripe does.
const V1 = '8fcb50c2d45bc391e3252f24411d84654bfdfc8e96eaf71d71534ee00b714f1e';
const HEADER = `t=${TIMESTAMP},v1=${V1}`;
const NOW = TIMESTAMP * 1000;

function request(header: string | undefined, body: string = BODY): InboundRequest {
  return { headers: { 'stripe-signature': header }, body: Buffer.from(body) };
}

/** Signs with the official library, as Stripe would. */
function officialHeader(timestamp: number, body: string = BODY, secret: string = SECRET): string {
  return Stripe.webhooks.generateTestHeaderString({ payload: body, secret, timestamp });
}

/** Whether the official library accepts, at the given clock. */
function officialAccepts(header: string, body: string, nowMs: number): boolean {
  try {
    Stripe.webhooks.constructEvent(body, header, SECRET, 300, undefined, nowMs);
    return true;
  } catch {
    return false;
  }
}

describe('stripe', () => {
  const verifier = stripeVerifier();

  it('accepts a known signature and takes the delivery id from the event id', () => {
    // Act
    const verdict = verifier.verify(request(HEADER), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: EVENT_ID });
    expect(officialHeader(TIMESTAMP)).toBe(HEADER);
  });

  it('accepts what the official library signs', () => {
    // Prepare
    const body = '{"id":"evt_2","object":"event","data":{"object":{"amount":12345678901234567890}}}';
    const header = officialHeader(TIMESTAMP, body);

    // Act
    const verdict = verifier.verify(request(header, body), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: 'evt_2' });
  });

  it('rejects a body changed after signing', () => {
    // Prepare
    const tampered = BODY.replace('invoice.paid', 'invoice.void');

    // Act
    const verdict = verifier.verify(request(HEADER, tampered), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect(officialAccepts(HEADER, tampered, NOW)).toBe(false);
  });

  it('rejects a changed timestamp, which is part of the signed content', () => {
    // Prepare
    const header = `t=${TIMESTAMP + 1},v1=${V1}`;

    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect(officialAccepts(header, BODY, NOW)).toBe(false);
  });

  it('rejects a signature made with another secret', () => {
    // Act
    const verdict = verifier.verify(request(HEADER), ['whsec_other'], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(request(HEADER), ['whsec_old', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    [
      'the second of two v1 entries matches (Stripe rolling its secret)',
      `t=${TIMESTAMP},v1=${'0'.repeat(64)},v1=${V1}`,
    ],
    ['v0 and unknown keys sit around it', `t=${TIMESTAMP},v0=${'1'.repeat(64)},v1=${V1},x=whatever`],
    ['a malformed v1 entry comes first', `t=${TIMESTAMP},v1=zz,v1=${V1}`],
  ])('accepts when %s', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
    expect(officialAccepts(header, BODY, NOW)).toBe(true);
  });

  it.each([
    ['300 s old', -300, { ok: true, deliveryId: EVENT_ID }],
    ['301 s old', -301, { ok: false, reason: 'stale_timestamp' }],
    ['300 s ahead', 300, { ok: true, deliveryId: EVENT_ID }],
  ])('applies the 300 s tolerance: %s', (_case, offset, expected) => {
    // Prepare
    const header = officialHeader(TIMESTAMP + offset);

    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual(expected);
    expect(officialAccepts(header, BODY, NOW)).toBe(expected.ok);
  });

  it('rejects a timestamp more than the tolerance ahead, which Stripe itself lets through', () => {
    // Prepare
    const header = officialHeader(TIMESTAMP + 301);

    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'future_timestamp' });
    expect(officialAccepts(header, BODY, NOW)).toBe(true);
  });

  it('applies a configured tolerance', () => {
    // Prepare
    const strict = stripeVerifier({ toleranceSeconds: 30 });

    // Act
    const inside = strict.verify(request(HEADER), [SECRET], NOW + 30_000);
    const outside = strict.verify(request(HEADER), [SECRET], NOW + 31_000);

    // Assess
    expect(inside.ok).toBe(true);
    expect(outside).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it.each([
    ['absent', undefined],
    ['empty', ''],
  ])('rejects a missing Stripe-Signature header (%s)', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
  });

  it('finds the header whatever its case', () => {
    // Prepare
    const req: InboundRequest = { headers: { 'Stripe-Signature': HEADER }, body: Buffer.from(BODY) };

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['no timestamp', `v1=${V1}`],
    ['no v1 entry', `t=${TIMESTAMP}`],
    ['only a v0 entry', `t=${TIMESTAMP},v0=${V1}`],
    ['a v1 entry too short', `t=${TIMESTAMP},v1=${V1.slice(0, -2)}`],
    ['a v1 entry too long', `t=${TIMESTAMP},v1=${V1}00`],
    ['non-hex characters', `t=${TIMESTAMP},v1=${V1.slice(0, -1)}g`],
    ['upper-case hex (Stripe compares the text)', `t=${TIMESTAMP},v1=${V1.toUpperCase()}`],
    ['two timestamps, from a repeated header', `${HEADER}, t=${TIMESTAMP + 1},v1=${V1}`],
    ['not key=value at all', 'garbage'],
  ])('rejects a malformed header: %s', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it.each([
    ['not a number', `t=soon,v1=${V1}`],
    ['a fraction', `t=${TIMESTAMP}.5,v1=${V1}`],
  ])('rejects a timestamp that is %s', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  it.each([
    ['not JSON', 'id=evt_1'],
    ['JSON without an id', '{"object":"event"}'],
    ['an id that is not a string', '{"id":42}'],
    ['a JSON array', '["evt_1"]'],
  ])('accepts without a delivery id when the body is %s', (_case, body) => {
    // Prepare
    const header = officialHeader(TIMESTAMP, body);

    // Act
    const verdict = verifier.verify(request(header, body), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it('never reads the body of a request whose signature fails', () => {
    // Prepare: a body the JSON parser would choke on.
    const body = '{"id":';

    // Act
    const verdict = verifier.verify(request(HEADER, body), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['none', []],
    ['only an empty string', ['']],
  ])('answers no_secret when no secret is configured (%s)', (_case, secrets) => {
    // Act
    const verdict = verifier.verify(request(HEADER), secrets, NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
