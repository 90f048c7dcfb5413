import { createHmac } from 'node:crypto';
import { AwsLambdaReceiver } from '@zoom/rivet/users';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';
import { zoomVerifier } from '../../../../functions/relay/core/inbound/verify/zoom';

const SECRET = 'zoom-webhook-secret-token';
const NOW = 1_700_000_000_000;
const SECONDS = NOW / 1000;
// Compact JSON: Zoom's Rivet re-serialises the parsed body before checking, so only compact bodies compare.
const EVENT =
  '{"event":"meeting.started","event_ts":1700000000123,"payload":{"account_id":"abc","object":{"id":"85746065"}}}';
// The challenge as https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint shows it.
const VALIDATION =
  '{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}';

function sign(body: string, timestamp: number | string = SECONDS, secret = SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

function request(body: string, headers: Record<string, string>): InboundRequest {
  return { headers, body: Buffer.from(body) };
}

function signed(body: string, timestamp: number | string = SECONDS, secret = SECRET): InboundRequest {
  return request(body, {
    'x-zm-request-timestamp': String(timestamp),
    'x-zm-signature': sign(body, timestamp, secret),
  });
}

/** What Zoom's own library (Rivet's Lambda receiver) answers to the request. */
async function rivetAnswer(
  req: InboundRequest,
  secret = SECRET,
): Promise<{ statusCode: number; body: unknown }> {
  vi.spyOn(console, 'debug').mockImplementation(() => undefined);
  const receiver = new AwsLambdaReceiver({ webhooksSecretToken: secret });
  receiver.init({ eventEmitter: undefined });
  const handler = receiver.start();
  // Rivet's receiver returns its answer; the callback of the Lambda handler type is never used.
  const result = (await handler(
    { body: req.body.toString('utf8'), headers: req.headers, isBase64Encoded: false } as never,
    {} as Context,
    () => undefined,
  )) as { statusCode: number; body: string };
  return { statusCode: result.statusCode, body: JSON.parse(result.body) };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('zoom', () => {
  const verifier = zoomVerifier();

  it("accepts what Zoom's library accepts; a Zoom event has no id that survives a retry", async () => {
    // Act
    const verdict = verifier.verify(signed(EVENT), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
    expect((await rivetAnswer(signed(EVENT))).statusCode).toBe(200);
  });

  it.each([
    ['the body', (r: InboundRequest) => ({ ...r, body: Buffer.from(EVENT.replace('85746065', '85746066')) })],
    [
      'the timestamp, which is signed',
      (r: InboundRequest) => ({
        ...r,
        headers: { ...r.headers, 'x-zm-request-timestamp': String(SECONDS + 1) },
      }),
    ],
  ])("rejects a request whose %s changed after signing, as Zoom's library does", async (_case, tamper) => {
    // Prepare
    const req = tamper(signed(EVENT));

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect((await rivetAnswer(req)).statusCode).toBe(400);
  });

  it('verifies the raw bytes, not a re-serialised body (pretty-printed JSON still verifies)', () => {
    // Prepare
    const pretty = JSON.stringify(JSON.parse(EVENT), null, 2);

    // Act
    const verdict = verifier.verify(signed(pretty), [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT), ['old-token', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it.each([
    ['300 s old', -300, { ok: true }],
    ['301 s old', -301, { ok: false, reason: 'stale_timestamp' }],
    ['300 s ahead', 300, { ok: true }],
    ['301 s ahead', 301, { ok: false, reason: 'future_timestamp' }],
  ])('applies a five-minute window both ways: %s', (_case, offset, expected) => {
    // Act
    const verdict = verifier.verify(signed(EVENT, SECONDS + offset), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual(expected);
  });

  it('signs the timestamp as a number, as Rivet does', async () => {
    // Prepare: the header has a leading zero, the signature covers the number's own spelling.
    const req = request(EVENT, { 'x-zm-request-timestamp': `0${SECONDS}`, 'x-zm-signature': sign(EVENT) });

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
    expect((await rivetAnswer(req)).statusCode).toBe(200);
  });

  it.each([
    ['x-zm-signature', 'missing_header'],
    ['x-zm-request-timestamp', 'missing_header'],
  ])('rejects a request without %s', (header, reason) => {
    // Prepare
    const { [header]: _dropped, ...headers } = signed(EVENT).headers;

    // Act
    const verdict = verifier.verify(request(EVENT, headers as Record<string, string>), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason });
  });

  it.each([
    ['another version', `v1=${sign(EVENT).slice(3)}`],
    ['no version', sign(EVENT).slice(3)],
    ['a truncated digest', sign(EVENT).slice(0, -1)],
  ])('rejects a signature with %s as malformed', (_case, signature) => {
    // Act
    const verdict = verifier.verify(
      request(EVENT, { 'x-zm-request-timestamp': String(SECONDS), 'x-zm-signature': signature }),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it('rejects a timestamp in milliseconds or with a fraction as malformed', () => {
    // Act
    const fraction = verifier.verify(signed(EVENT, `${SECONDS}.5`), [SECRET], NOW);
    const millis = verifier.verify(signed(EVENT, NOW), [SECRET], NOW);

    // Assess
    expect(fraction).toEqual({ ok: false, reason: 'malformed_timestamp' });
    expect(millis).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  describe('endpoint.url_validation', () => {
    it("answers with plainToken and the hex HMAC of it, exactly as Zoom's library does", async () => {
      // Act
      const verdict = verifier.verify(signed(VALIDATION), [SECRET], NOW);

      // Assess
      const encryptedToken = createHmac('sha256', SECRET).update('qgg8vlvZRS6UYooatFL8Aw').digest('hex');
      expect(verdict).toEqual({
        ok: true,
        handshake: {
          kind: 'zoom-url-validation',
          contentType: 'application/json',
          body: `{"plainToken":"qgg8vlvZRS6UYooatFL8Aw","encryptedToken":"${encryptedToken}"}`,
        },
      });
      const rivet = await rivetAnswer(signed(VALIDATION));
      expect(rivet).toEqual({
        statusCode: 200,
        body: JSON.parse(verdict.ok && verdict.handshake ? verdict.handshake.body : ''),
      });
    });

    it('keys the answer with the secret that verified the request, during a rotation', () => {
      // Prepare
      const req = signed(VALIDATION, SECONDS, 'new-token');

      // Act
      const verdict = verifier.verify(req, ['old-token', 'new-token'], NOW);

      // Assess
      const expected = createHmac('sha256', 'new-token').update('qgg8vlvZRS6UYooatFL8Aw').digest('hex');
      expect(verdict.ok && verdict.handshake && JSON.parse(verdict.handshake.body)).toEqual({
        plainToken: 'qgg8vlvZRS6UYooatFL8Aw',
        encryptedToken: expected,
      });
    });

    it('answers nothing to a challenge whose signature does not hold', () => {
      // Act
      const verdict = verifier.verify(signed(VALIDATION, SECONDS, 'forger'), [SECRET], NOW);

      // Assess: an unsigned challenge would make the relay an oracle for HMACs under the secret token.
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('treats a validation event without a plainToken string as an ordinary event', () => {
      // Act
      const verdict = verifier.verify(
        signed('{"event":"endpoint.url_validation","payload":{}}'),
        [SECRET],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: true });
    });
  });
});
