import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';
import { zendeskVerifier } from '../../../../functions/relay/core/inbound/verify/zendesk';

// The values of the example on https://developer.zendesk.com/documentation/event-connectors/webhooks/verifying/.
// Zendesk documents the signature as base64(HMACSHA256(TIMESTAMP + BODY)), keyed with the secret as shown;
// the signature below is that formula's result for the example (computed with Node's crypto, not by the code
// under test). The page's own example signature, tRDSF7…, is of BODY + TIMESTAMP, the order an older version of
// the page gave; the current formula, and integrations in production, put the timestamp first.
const DOC_SECRET = 'HRkRd4BeOAoUkfZr-mhauJT64rvBASlJRoIyPsd3zeA=';
const DOC_BODY = '{"say": "hello"}';
const DOC_TIMESTAMP = '2021-07-25T10:00:00Z';
const DOC_SIGNATURE = 'Rry/4TtIdFyawtXXp8QdI6tlAUUQ/5kL1OTp5qo/ZIk=';
const DOC_SIGNATURE_BODY_FIRST = 'tRDSF7URY8BLCDlaBcQ7FHu051Zk+aAB0NKMP53teMw=';
const DOC_NOW = Date.parse(DOC_TIMESTAMP);

const INVOCATION = '01J0ZENDESK0INVOCATION0001';

function sign(timestamp: string, body: string, secret = DOC_SECRET): string {
  return createHmac('sha256', secret)
    .update(timestamp + body)
    .digest('base64');
}

function request(headers: Record<string, string>, body = DOC_BODY): InboundRequest {
  return { headers, body: Buffer.from(body) };
}

function signed(timestamp = DOC_TIMESTAMP, body = DOC_BODY, secret = DOC_SECRET): InboundRequest {
  return request(
    {
      'x-zendesk-webhook-signature': sign(timestamp, body, secret),
      'x-zendesk-webhook-signature-timestamp': timestamp,
      'x-zendesk-webhook-invocation-id': INVOCATION,
    },
    body,
  );
}

function isoAt(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

describe('zendesk', () => {
  const verifier = zendeskVerifier();

  it("accepts the documentation's example and takes the delivery id from X-Zendesk-Webhook-Invocation-Id", () => {
    // Prepare
    const req = request(
      {
        'x-zendesk-webhook-signature': DOC_SIGNATURE,
        'x-zendesk-webhook-signature-timestamp': DOC_TIMESTAMP,
        'x-zendesk-webhook-invocation-id': INVOCATION,
      },
      DOC_BODY,
    );

    // Act
    const verdict = verifier.verify(req, [DOC_SECRET], DOC_NOW);

    // Assess
    expect(sign(DOC_TIMESTAMP, DOC_BODY)).toBe(DOC_SIGNATURE);
    expect(verdict).toEqual({ ok: true, deliveryId: INVOCATION });
  });

  it('refuses a signature over the body first, then the timestamp', () => {
    // Act
    const verdict = verifier.verify(
      request({
        'x-zendesk-webhook-signature': DOC_SIGNATURE_BODY_FIRST,
        'x-zendesk-webhook-signature-timestamp': DOC_TIMESTAMP,
      }),
      [DOC_SECRET],
      DOC_NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('uses the secret as Zendesk shows it, not base64-decoded', () => {
    // Prepare
    const decodedKey = createHmac('sha256', Buffer.from(DOC_SECRET, 'base64'))
      .update(DOC_TIMESTAMP + DOC_BODY)
      .digest('base64');

    // Act
    const verdict = verifier.verify(
      request({
        'x-zendesk-webhook-signature': decodedKey,
        'x-zendesk-webhook-signature-timestamp': DOC_TIMESTAMP,
      }),
      [DOC_SECRET],
      DOC_NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['the body', (r: InboundRequest) => ({ ...r, body: Buffer.from('{"say": "goodbye"}') })],
    [
      'the timestamp, which is signed',
      (r: InboundRequest) => ({
        ...r,
        headers: { ...r.headers, 'x-zendesk-webhook-signature-timestamp': '2021-07-25T10:00:01Z' },
      }),
    ],
  ])('rejects a request whose %s changed after signing', (_case, tamper) => {
    // Act
    const verdict = verifier.verify(tamper(signed()), [DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(signed(), ['previous-secret', DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['300 s old', -300_000, { ok: true, deliveryId: INVOCATION }],
    ['301 s old', -301_000, { ok: false, reason: 'stale_timestamp' }],
    ['300 s ahead', 300_000, { ok: true, deliveryId: INVOCATION }],
    ['301 s ahead', 301_000, { ok: false, reason: 'future_timestamp' }],
  ])('applies a five-minute window both ways: %s', (_case, offsetMs, expected) => {
    // Act
    const verdict = verifier.verify(signed(isoAt(DOC_NOW + offsetMs)), [DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict).toEqual(expected);
  });

  it('takes a timestamp with milliseconds, signed as sent', () => {
    // Act
    const verdict = verifier.verify(signed('2021-07-25T10:00:00.250Z'), [DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    '1627207200',
    '2021-07-25 10:00:00Z',
    '2021-07-25T10:00:00+00:00',
    '2021-02-30T10:00:00Z',
    'yesterday',
  ])('rejects the timestamp %j as malformed', (timestamp) => {
    // Act
    const verdict = verifier.verify(signed(timestamp), [DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  it.each(['x-zendesk-webhook-signature', 'x-zendesk-webhook-signature-timestamp'])(
    'rejects a request without %s',
    (header) => {
      // Prepare
      const { [header]: _dropped, ...headers } = signed().headers;

      // Act
      const verdict = verifier.verify(request(headers as Record<string, string>), [DOC_SECRET], DOC_NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
    },
  );

  it.each([
    [
      'hex instead of base64',
      createHmac('sha256', DOC_SECRET)
        .update(DOC_TIMESTAMP + DOC_BODY)
        .digest('hex'),
    ],
    ['base64 without its padding', DOC_SIGNATURE.slice(0, -1)],
    ['a prefix', `sha256=${DOC_SIGNATURE}`],
  ])('rejects a signature in %s as malformed', (_case, signature) => {
    // Act
    const verdict = verifier.verify(
      request({
        'x-zendesk-webhook-signature': signature,
        'x-zendesk-webhook-signature-timestamp': DOC_TIMESTAMP,
      }),
      [DOC_SECRET],
      DOC_NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('falls back to the body hash when the invocation id is missing', () => {
    // Prepare
    const { 'x-zendesk-webhook-invocation-id': _dropped, ...headers } = signed().headers;

    // Act
    const verdict = verifier.verify(request(headers as Record<string, string>), [DOC_SECRET], DOC_NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });
});
