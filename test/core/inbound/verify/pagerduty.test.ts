import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { pagerdutyVerifier } from '../../../../functions/relay/core/inbound/verify/pagerduty';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The vector of PagerDuty's official Go library (go-pagerduty, webhookv3/webhookv3_test.go).
const SECRET = 'lDQHScfUeXUKaQRNF+8XIiDKZ7XX3itBAYzwU0TARw8lJqRnkKl2iB1anSb0Z+IK';
const BODY =
  '{"event":{"id":"01BWDWL3NYY7LUFPZCC28QUCMK","event_type":"incident.priority_updated","resource_type":"incident","occurred_at":"2021-04-26T17:36:27.458Z","agent":{"html_url":"https://acme.pagerduty.com/users/PLH1HKV","id":"PLH1HKV","self":"https://api.pagerduty.com/users/PLH1HKV","summary":"Tenex Engineer","type":"user_reference"},"client":null,"data":{"id":"PGR0VU2","type":"incident","self":"https://api.pagerduty.com/incidents/PGR0VU2","html_url":"https://acme.pagerduty.com/incidents/PGR0VU2","number":2,"status":"triggered","title":"A little bump in the road","service":{"html_url":"https://acme.pagerduty.com/services/PF9KMXH","id":"PF9KMXH","self":"https://api.pagerduty.com/services/PF9KMXH","summary":"API Service","type":"service_reference"},"assignees":[{"html_url":"https://acme.pagerduty.com/users/PTUXL6G","id":"PTUXL6G","self":"https://api.pagerduty.com/users/PTUXL6G","summary":"User 123","type":"user_reference"}],"escalation_policy":{"html_url":"https://acme.pagerduty.com/escalation_policies/PUS0KTE","id":"PUS0KTE","self":"https://api.pagerduty.com/escalation_policies/PUS0KTE","summary":"Default","type":"escalation_policy_reference"},"teams":[{"html_url":"https://acme.pagerduty.com/teams/PFCVPS0","id":"PFCVPS0","self":"https://api.pagerduty.com/teams/PFCVPS0","summary":"Engineering","type":"team_reference"}],"priority":{"html_url":"https://acme.pagerduty.com/account/incident_priorities","id":"PSO75BM","self":"https://api.pagerduty.com/priorities/PSO75BM","summary":"P1","type":"priority_reference"},"urgency":"high","conference_bridge":{"conference_number":1000,"conference_url":"https://example.com"},"resolve_reason":null}}}';
const VALID = 'v1=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd';
const MISMATCH = 'v1=7020c8a7ec668a9b7012bc3dd82e483394b038f4230acc6785efbf2a7d8bcaf5';
const EVENT_ID = '01BWDWL3NYY7LUFPZCC28QUCMK';
const NOW = 1_700_000_000_000;

function request(signature: string | undefined, body = BODY): InboundRequest {
  return {
    headers: signature === undefined ? {} : { 'x-pagerduty-signature': signature },
    body: Buffer.from(body),
  };
}

function sign(body: string, secret: string): string {
  return `v1=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

describe('pagerduty', () => {
  const verifier = pagerdutyVerifier();

  it("accepts the official library's vector and takes the delivery id from event.id", () => {
    // Act
    const verdict = verifier.verify(request(VALID), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true, deliveryId: EVENT_ID });
  });

  it("rejects the official library's mismatching vector", () => {
    // Act
    const verdict = verifier.verify(request(MISMATCH), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it.each([
    ['the second of two entries matches (PagerDuty rotating its secret)', `${MISMATCH},${VALID}`],
    ['the entries are joined with a space after the comma', `${MISMATCH}, ${VALID}`],
    ['another version and a malformed entry come first', `v2=${'a'.repeat(64)},v1=zz,${VALID}`],
    ['the hex is upper case, which the official library decodes', `v1=${VALID.slice(3).toUpperCase()}`],
  ])('accepts when %s', (_case, header) => {
    // Act
    const verdict = verifier.verify(request(header), [SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('accepts when the second of two configured secrets verifies (rotation on the relay side)', () => {
    // Act
    const verdict = verifier.verify(request(VALID), ['previous-secret', SECRET], NOW);

    // Assess
    expect(verdict.ok).toBe(true);
  });

  it('rejects a body changed after signing', () => {
    // Act
    const verdict = verifier.verify(request(VALID, BODY.replace('"P1"', '"P2"')), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('rejects a request without the signature header', () => {
    // Act
    const verdict = verifier.verify(request(undefined), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'missing_header' });
  });

  it.each(['v0=abc', 'sha256=0c0b9495b893a39e70d1fea2fe11fbe0a825f88b9f67846f6cc07dd2bc5476cd', 'v1=', ','])(
    'rejects %j, which holds no v1 signature, as malformed',
    (header) => {
      // Act
      const verdict = verifier.verify(request(header), [SECRET], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    },
  );

  it('falls back to the body hash for a body without an event id', () => {
    // Prepare
    const body = '{"event":{"event_type":"pagey.ping"}}';

    // Act
    const verdict = verifier.verify(request(sign(body, SECRET), body), [SECRET], NOW);

    // Assess
    expect(verdict).toEqual({ ok: true });
  });

  it('has no usable secret when none is configured', () => {
    // Act
    const verdict = verifier.verify(request(VALID), [], NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
  });
});
