import { createHmac } from 'node:crypto';
import { isValidSlackRequest } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { slackVerifier } from '../../../../functions/relay/core/inbound/verify/slack';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The worked example on https://api.slack.com/authentication/verifying-requests-from-slack (a slash command).
const DOC_SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const DOC_TIMESTAMP = '1531420618';
const DOC_BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const DOC_SIGNATURE = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';

// The url_verification event as https://api.slack.com/events/url_verification shows it.
const URL_VERIFICATION =
  '{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}';

const SECRET = 'slack-signing-secret';
const NOW = 1_700_000_000_000;
const SECONDS = NOW / 1000;
const EVENT = '{"type":"event_callback","event_id":"Ev08MFMKH6","event":{"type":"app_mention","text":"hi"}}';

function sign(body: string, timestamp: number | string = SECONDS, secret = SECRET): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

function request(body: string, headers: Record<string, string>): InboundRequest {
  return { headers, body: Buffer.from(body) };
}

function signed(body: string, timestamp: number | string = SECONDS, secret = SECRET): InboundRequest {
  return request(body, {
    'x-slack-request-timestamp': String(timestamp),
    'x-slack-signature': sign(body, timestamp, secret),
  });
}

/** Whether Slack's own Bolt library accepts the request, at the given clock. */
function boltAccepts(req: InboundRequest, nowMs: number, secret = SECRET): boolean {
  return isValidSlackRequest({
    signingSecret: secret,
    body: req.body.toString('utf8'),
    headers: {
      'x-slack-signature': String(req.headers['x-slack-signature']),
      // Bolt's receivers hand over the header text; its type says number, which it only compares and interpolates.
      'x-slack-request-timestamp': req.headers['x-slack-request-timestamp'] as unknown as number,
    },
    nowMilliseconds: nowMs,
  });
}

describe('slack', () => {
  const verifier = slackVerifier();

  it("accepts Slack's published example (a slash command, which has no event id)", () => {
    // Prepare
    const req = request(DOC_BODY, {
      'x-slack-request-timestamp': DOC_TIMESTAMP,
      'x-slack-signature': DOC_SIGNATURE,
    });
    const now = Number(DOC_TIMESTAMP) * 1000;

    // Act
    const verdict = verifier.verify(req, [DOC_SECRET], now);

    // Assess
    expect(verdict).toEqual({ ok: true });
    expect(boltAccepts(req, now, DOC_SECRET)).toBe(true);
  });

  it('accepts an Events API event and takes the delivery id from event_id', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: 'Ev08MFMKH6' });
    expect(boltAccepts(signed(EVENT), NOW)).toBe(true);
  });

  it.each([
    ['the body', (r: InboundRequest) => ({ ...r, body: Buffer.from(EVENT.replace('hi', 'ho')) })],
    [
      'the timestamp, which is signed',
      (r: InboundRequest) => ({
        ...r,
        headers: { ...r.headers, 'x-slack-request-timestamp': String(SECONDS + 1) },
      }),
    ],
  ])('rejects a request whose %s changed after signing, as Bolt does', (_case, tamper) => {
    // Prepare
    const req = tamper(signed(EVENT));

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    expect(boltAccepts(req, NOW)).toBe(false);
  });

  it('accepts when the second of two configured secrets verifies (rotation)', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT), ['old-secret', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('rejects a signature made with another secret', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT, SECONDS, 'other'), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['300 s old', -300, { ok: true, deliveryId: 'Ev08MFMKH6' }, true],
    ['301 s old', -301, { ok: false, reason: 'stale_timestamp' }, false],
    ['300 s ahead', 300, { ok: true, deliveryId: 'Ev08MFMKH6' }, true],
  ])('applies the five-minute window Slack documents: %s', (_case, offset, expected, bolt) => {
    // Prepare
    const req = signed(EVENT, SECONDS + offset);

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess
    expect(verdict).toEqual(expected);
    expect(boltAccepts(req, NOW)).toBe(bolt);
  });

  it('refuses a timestamp from further ahead than the window, which Bolt lets through', () => {
    // Prepare
    const req = signed(EVENT, SECONDS + 301);

    // Act
    const verdict = verifier.verify(req, [SECRET], NOW);

    // Assess: an authentic request cannot come from the future; a clock that far off is worth a 401 and a metric.
    expect(verdict).toEqual({ ok: false, reason: 'future_timestamp' });
    expect(boltAccepts(req, NOW)).toBe(true);
  });

  it('applies a configured window', () => {
    // Act
    const verdict = slackVerifier({ toleranceSeconds: 60 }).verify(
      signed(EVENT, SECONDS - 61),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'stale_timestamp' });
  });

  it('reports a forged old request as a bad signature, not a stale one', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT, SECONDS - 3600, 'forger'), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['x-slack-signature', 'missing_header'],
    ['x-slack-request-timestamp', 'missing_header'],
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
    ['upper-case hex', sign(EVENT).toUpperCase().replace('V0=', 'v0=')],
    ['a truncated digest', sign(EVENT).slice(0, -2)],
    ['no version', sign(EVENT).slice(3)],
  ])('rejects a signature with %s as malformed', (_case, signature) => {
    // Act
    const verdict = verifier.verify(
      request(EVENT, { 'x-slack-request-timestamp': String(SECONDS), 'x-slack-signature': signature }),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
  });

  it.each(['1.7e9', '-1700000000', 'now', ' '])('rejects the timestamp %j as malformed', (timestamp) => {
    // Act
    const verdict = verifier.verify(
      request(EVENT, { 'x-slack-request-timestamp': timestamp, 'x-slack-signature': sign(EVENT) }),
      [SECRET],
      NOW,
    );

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'malformed_timestamp' });
  });

  it('signs the timestamp as the header spells it, as Bolt does', () => {
    // Prepare: a leading zero is the same instant, but not the same signed text.
    const spelt = signed(EVENT, `0${SECONDS}`);
    const respelt = { ...spelt, headers: { ...spelt.headers, 'x-slack-request-timestamp': String(SECONDS) } };

    // Act
    const verdicts = [verifier.verify(spelt, [SECRET], NOW), verifier.verify(respelt, [SECRET], NOW)];

    // Assess
    expect(verdicts).toEqual([
      { ok: true, deliveryId: 'Ev08MFMKH6' },
      { ok: false, reason: 'bad_signature' },
    ]);
    expect([boltAccepts(spelt, NOW), boltAccepts(respelt, NOW)]).toEqual([true, false]);
  });

  it('has no usable secret when only empty strings are configured', () => {
    // Act
    const verdict = verifier.verify(signed(EVENT), [''], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });

  describe('url_verification', () => {
    it('answers the challenge with the JSON shape Slack documents', () => {
      // Act
      const verdict = verifier.verify(signed(URL_VERIFICATION), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({
        ok: true,
        handshake: {
          kind: 'slack-url-verification',
          contentType: 'application/json',
          body: '{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}',
        },
      });
    });

    it('answers nothing to a url_verification whose signature does not hold', () => {
      // Act
      const verdict = verifier.verify(signed(URL_VERIFICATION, SECONDS, 'forger'), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('answers nothing to a stale url_verification', () => {
      // Act
      const verdict = verifier.verify(signed(URL_VERIFICATION, SECONDS - 301), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'stale_timestamp' });
    });

    it('treats a url_verification without a challenge string as an ordinary event', () => {
      // Prepare
      const body = '{"type":"url_verification","challenge":42}';

      // Act
      const verdict = verifier.verify(signed(body), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: true });
    });
  });
});
