import { describe, expect, it } from 'vitest';
import { msgraphVerifier } from '../../../../functions/relay/core/inbound/verify/msgraph';
import type { InboundRequest } from '../../../../functions/relay/core/inbound/verify/types';

// The change notification of https://learn.microsoft.com/graph/change-notifications-delivery-webhooks, with the
// clientState it shows.
const CLIENT_STATE = 'secretClientValue';
const NOTIFICATION = {
  id: 'lsgTZMr9KwAAA',
  subscriptionId: '7f105c7d-2dc5-4530-97cd-4e7ae6534c07',
  subscriptionExpirationDateTime: '2016-03-19T22:11:09.952Z',
  clientState: CLIENT_STATE,
  changeType: 'created',
  resource: 'users/{user_guid}@{tenant_guid}/messages/{long_id_string}',
  tenantId: '84bd8158-6d4d-4958-8b9f-9d6445542f95',
};
// What Graph's validation request carries: a sentence with the request id, URL-encoded in the query.
const TOKEN =
  'Validation: Testing client application reachability for subscription Request-Id: 2f6d4f8d-91b0-4f1a-9ab6-1b3f0e0c2a11';
const NOW = 1_700_000_000_000;

function post(body: unknown, query = ''): InboundRequest {
  return {
    headers: { 'content-type': 'application/json' },
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    query,
  };
}

function validation(query: string): InboundRequest {
  return { headers: { 'content-type': 'text/plain; charset=utf-8' }, body: Buffer.alloc(0), query };
}

describe('msgraph', () => {
  const verifier = msgraphVerifier();

  describe('change notifications', () => {
    it('accepts notifications that all carry the configured clientState', () => {
      // Act
      const verdict = verifier.verify(
        post({ value: [NOTIFICATION, { ...NOTIFICATION, changeType: 'updated' }] }),
        [CLIENT_STATE],
        NOW,
      );

      // Assess: Graph resends the same body on retry, so the body hash is the delivery id.
      expect(verdict).toEqual({ ok: true });
    });

    it('rejects the whole request when one notification carries another clientState', () => {
      // Act
      const verdict = verifier.verify(
        post({ value: [NOTIFICATION, { ...NOTIFICATION, clientState: 'guess' }] }),
        [CLIENT_STATE],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'bad_signature' });
    });

    it('accepts either of two configured clientStates (rotation)', () => {
      // Act
      const verdict = verifier.verify(
        post({ value: [NOTIFICATION, { ...NOTIFICATION, clientState: 'next-client-state' }] }),
        ['next-client-state', CLIENT_STATE],
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: true });
    });

    it.each([
      ['a notification without clientState', { value: [{ ...NOTIFICATION, clientState: undefined }] }],
      ['a clientState that is not a string', { value: [{ ...NOTIFICATION, clientState: 42 }] }],
      ['no notifications', { value: [] }],
      ['no value', { notifications: [NOTIFICATION] }],
      ['an array body', [NOTIFICATION]],
      ['a notification that is not an object', { value: ['secretClientValue'] }],
      ['invalid JSON', '{"value": ['],
    ])('rejects %s as malformed', (_case, body) => {
      // Act
      const verdict = verifier.verify(post(body), [CLIENT_STATE], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    });

    it('has no usable secret when no clientState is configured', () => {
      // Act
      const verdict = verifier.verify(post({ value: [NOTIFICATION] }), [''], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'no_secret' });
    });
  });

  describe('notification URL validation', () => {
    it('echoes the URL-decoded validationToken as text/plain, the shape Graph documents', () => {
      // Act
      const verdict = verifier.verify(validation(`validationToken=${encodeURIComponent(TOKEN)}`), [], NOW);

      // Assess
      expect(verdict).toEqual({
        ok: true,
        handshake: { kind: 'msgraph-validation', contentType: 'text/plain', body: TOKEN },
      });
    });

    it('decodes a token written with + for spaces, as a form-encoded query is', () => {
      // Act
      const verdict = verifier.verify(validation('validationToken=Validation%3A+Testing+client'), [], NOW);

      // Assess
      expect(verdict.ok && verdict.handshake?.body).toBe('Validation: Testing client');
    });

    it('answers the validation among other query parameters of the notification URL', () => {
      // Act
      const verdict = verifier.verify(
        validation(`tenant=ops&validationToken=${encodeURIComponent(TOKEN)}`),
        [],
        NOW,
      );

      // Assess
      expect(verdict.ok && verdict.handshake?.body).toBe(TOKEN);
    });

    it.each([
      ['markup', 'validationToken=%3Cscript%3Ealert(1)%3C%2Fscript%3E'],
      ['a control character', 'validationToken=a%0Db'],
      ['an empty token', 'validationToken='],
      ['two tokens', 'validationToken=a&validationToken=b'],
      ['a token longer than 1024 characters', `validationToken=${'a'.repeat(1025)}`],
    ])('refuses to echo %s', (_case, query) => {
      // Act
      const verdict = verifier.verify(validation(query), [CLIENT_STATE], NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, reason: 'malformed_signature' });
    });

    it('echoes a token of exactly 1024 characters', () => {
      // Act
      const verdict = verifier.verify(validation(`validationToken=${'a'.repeat(1024)}`), [], NOW);

      // Assess
      expect(verdict.ok && verdict.handshake?.body).toHaveLength(1024);
    });
  });
});
