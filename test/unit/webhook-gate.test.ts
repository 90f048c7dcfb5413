import { createHmac } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { SecretError } from '../../functions/relay/core/errors';
import { WebhookGate, type WebhookRequest } from '../../functions/relay/core/inbound/accept-webhook';
import type { SourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import type { SigningSecrets } from '../../functions/relay/ports/signing-secrets';

const SOURCES: SourceDeclarations = { demo: { scheme: 'unauthenticated' }, gh: { scheme: 'github' } };
const GH_SECRET = 'gh-signing-secret';
const MAX_BODY_BYTES = 64;
const NOW = Date.parse('2024-03-12T19:00:00Z');
const BODY = '{"action":"opened","number":12345678901234567890123}';
const DELIVERY_ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

function fakeSecrets(bySource: Record<string, readonly string[]> = { gh: [GH_SECRET] }) {
  return {
    forSource: vi.fn(async (source: string): Promise<readonly string[]> => bySource[source] ?? []),
  } satisfies SigningSecrets;
}

function request(
  overrides: Partial<Omit<WebhookRequest, 'body'>> & { body?: Buffer | string } = {},
): WebhookRequest {
  const { body = BODY, ...rest } = overrides;
  return {
    source: 'demo',
    method: 'POST',
    query: '',
    headers: { 'content-type': 'application/json' },
    sourceIp: '203.0.113.7',
    ...rest,
    body: Buffer.isBuffer(body) ? body : Buffer.from(body),
  };
}

function githubSignature(body: string | Buffer, secret = GH_SECRET): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

function githubRequest(headers: Record<string, string>, body: string = BODY): WebhookRequest {
  return request({ source: 'gh', headers: { 'content-type': 'application/json', ...headers }, body });
}

describe('WebhookGate', () => {
  it('accepts a JSON body from an unauthenticated source and hands it over unchanged', async () => {
    // Prepare
    const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(request(), NOW);

    // Assess
    expect(verdict).toEqual({
      ok: true,
      json: BODY,
      parsed: JSON.parse(BODY),
      forwardedHeaders: {},
      forwardedQuery: '',
    });
  });

  it('never reads the signing secrets for an unauthenticated source', async () => {
    // Prepare
    const secrets = fakeSecrets();
    const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);

    // Act
    await gate.check(request(), NOW);

    // Assess
    expect(secrets.forSource).not.toHaveBeenCalled();
  });

  it.each([
    'unknown',
    'constructor',
    '__proto__',
    'toString',
    'hasOwnProperty',
    '..%2Fdemo',
    '../demo',
    'DEMO',
    '',
  ])('answers 404 for the undeclared source %j', async (source) => {
    // Prepare
    const secrets = fakeSecrets();
    const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(request({ source }), NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, status: 404, error: 'Unknown source' });
    expect(secrets.forSource).not.toHaveBeenCalled();
  });

  describe('body size', () => {
    const exactly = (bytes: number) => `{"pad":"${'x'.repeat(bytes - 10)}"}`;

    it('accepts a body of exactly the limit', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);
      const body = exactly(MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(request({ body }), NOW);

      // Assess
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES);
      expect(verdict.ok).toBe(true);
    });

    it('refuses with 413 a form that fits as sent but not once converted to JSON', async () => {
      // Prepare: each %01 (3 bytes) becomes \u0001 (6 bytes) in JSON, so this form grows past the limit
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);
      const form = `q=${'%01'.repeat(20)}`;

      // Act
      const verdict = await gate.check(
        request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form }),
        NOW,
      );

      // Assess
      expect(Buffer.byteLength(form)).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(verdict).toMatchObject({ ok: false, status: 413 });
    });

    it('refuses a body one byte over the limit with 413', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(request({ body: exactly(MAX_BODY_BYTES + 1) }), NOW);

      // Assess
      expect(verdict).toEqual({
        ok: false,
        status: 413,
        error: `Body is larger than ${MAX_BODY_BYTES} bytes`,
      });
    });

    it('counts bytes, not characters', async () => {
      // Prepare: 38 characters, 65 bytes in UTF-8 (each ä takes two)
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);
      const body = `{"pad":"x${'ä'.repeat(27)}"}`;

      // Act
      const verdict = await gate.check(request({ body }), NOW);

      // Assess
      expect(body.length).toBeLessThanOrEqual(MAX_BODY_BYTES);
      expect(Buffer.byteLength(body)).toBe(MAX_BODY_BYTES + 1);
      expect(verdict).toMatchObject({ ok: false, status: 413 });
    });

    it('refuses an oversized body before computing any signature', async () => {
      // Prepare
      const secrets = fakeSecrets();
      const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);
      const body = exactly(MAX_BODY_BYTES + 1);

      // Act
      const verdict = await gate.check(
        githubRequest({ 'x-hub-signature-256': githubSignature(body) }, body),
        NOW,
      );

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 413 });
      expect(secrets.forSource).not.toHaveBeenCalled();
    });
  });

  describe('a GitHub source', () => {
    it('accepts a correctly signed body and takes the delivery id from X-GitHub-Delivery', async () => {
      // Prepare
      const secrets = fakeSecrets();
      const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);
      const headers = { 'x-hub-signature-256': githubSignature(BODY), 'x-github-delivery': DELIVERY_ID };

      // Act
      const verdict = await gate.check(githubRequest(headers), NOW);

      // Assess
      expect(verdict).toEqual({
        ok: true,
        json: BODY,
        parsed: JSON.parse(BODY),
        deliveryId: DELIVERY_ID,
        forwardedHeaders: {},
        forwardedQuery: '',
      });
      expect(secrets.forSource).toHaveBeenCalledWith('gh');
    });

    it('accepts a body signed with either secret during a rotation', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets({ gh: ['new-secret', GH_SECRET] }), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(githubRequest({ 'x-hub-signature-256': githubSignature(BODY) }), NOW);

      // Assess
      expect(verdict.ok).toBe(true);
    });

    it('refuses a request without a signature with an opaque 401', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(githubRequest({}), NOW);

      // Assess
      expect(verdict).toEqual({ ok: false, status: 401, error: 'Unauthorized', reason: 'missing_header' });
    });

    it('refuses a signature made with another secret with an opaque 401', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(
        githubRequest({ 'x-hub-signature-256': githubSignature(BODY, 'guessed') }),
        NOW,
      );

      // Assess
      expect(verdict).toEqual({ ok: false, status: 401, error: 'Unauthorized', reason: 'bad_signature' });
    });

    it('refuses every request while no secret is configured for the source', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets({}), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(githubRequest({ 'x-hub-signature-256': githubSignature(BODY) }), NOW);

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 401, reason: 'no_secret' });
    });

    it('checks the signature before the content type, so an unsigned request learns nothing more', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

      // Act
      const verdict = await gate.check(githubRequest({ 'content-type': 'text/plain' }, 'not json'), NOW);

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 401 });
    });

    it('checks the body syntax only once the signature holds', async () => {
      // Prepare
      const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);
      const body = '{"broken":';

      // Act
      const verdict = await gate.check(
        githubRequest({ 'x-hub-signature-256': githubSignature(body) }, body),
        NOW,
      );

      // Assess
      expect(verdict).toMatchObject({ ok: false, status: 400 });
    });
  });

  it('refuses an unsupported content type with 415', async () => {
    // Prepare
    const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(request({ headers: { 'content-type': 'text/plain' } }), NOW);

    // Assess
    expect(verdict).toMatchObject({ ok: false, status: 415 });
  });

  it('refuses a malformed JSON body with 400', async () => {
    // Prepare
    const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(request({ body: '{"a":' }), NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, status: 400, error: 'Body is not valid JSON' });
  });

  it('turns a form body into a JSON object', async () => {
    // Prepare
    const gate = new WebhookGate(SOURCES, fakeSecrets(), MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(
      request({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=2' }),
      NOW,
    );

    // Assess
    expect(verdict).toMatchObject({ ok: true, json: '{"a":"1","b":"2"}' });
  });

  it('rejects when the signing secrets cannot be read (not the sender’s fault)', async () => {
    // Prepare
    const secrets: SigningSecrets = {
      forSource: async () => {
        throw new SecretError('Secret "relay/signing" could not be read (ThrottlingException)');
      },
    };
    const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);

    // Act
    const checking = gate.check(githubRequest({ 'x-hub-signature-256': githubSignature(BODY) }), NOW);

    // Assess
    await expect(checking).rejects.toThrow(SecretError);
  });

  it('hands over the headers and query string to forward with an accepted message', async () => {
    // Prepare
    const gate = new WebhookGate(
      { ...SOURCES, ghq: { scheme: 'github', forwardHeaders: ['X-Request-Tag'] } },
      fakeSecrets({ ghq: [GH_SECRET] }),
      MAX_BODY_BYTES,
    );

    // Act
    const verdict = await gate.check(
      {
        ...githubRequest({
          'x-hub-signature-256': githubSignature(BODY),
          'x-github-event': 'issues',
          'x-request-tag': 'blue',
          'x-forwarded-for': '140.82.115.1',
        }),
        source: 'ghq',
        query: 'issue.key=ABC-1&project.key=OPS',
      },
      NOW,
    );

    // Assess
    expect(verdict).toMatchObject({
      ok: true,
      forwardedHeaders: { 'x-github-event': 'issues', 'x-request-tag': 'blue' },
      forwardedQuery: 'issue.key=ABC-1&project.key=OPS',
    });
    expect(verdict).not.toHaveProperty('oversizedPaths');
  });

  it("hands over the source's ONEiO endpoint and envelope with an accepted message", async () => {
    // Prepare
    const gate = new WebhookGate(
      { ...SOURCES, itsm: { scheme: 'unauthenticated', oneioEndpoint: 'itsm', envelope: true } },
      fakeSecrets(),
      MAX_BODY_BYTES,
    );

    // Act
    const verdict = await gate.check({ ...request(), source: 'itsm' }, NOW);

    // Assess
    expect(verdict).toMatchObject({ ok: true, oneioEndpoint: 'itsm', envelope: true });
  });

  it('answers 404 to a GET for a source without Okta verification, before reading any secret', async () => {
    // Prepare
    const secrets = fakeSecrets();
    const gate = new WebhookGate(SOURCES, secrets, MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check({ ...githubRequest({}), method: 'GET' }, NOW);

    // Assess
    expect(verdict).toEqual({ ok: false, status: 404, error: 'Not found' });
    expect(secrets.forSource).not.toHaveBeenCalled();
  });

  it('answers a handshake without looking at the content type or parsing the body', async () => {
    // Prepare
    const gate = new WebhookGate({ graph: { scheme: 'msgraph' } }, fakeSecrets(), MAX_BODY_BYTES);

    // Act
    const verdict = await gate.check(
      request({
        source: 'graph',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body: '',
        query: 'validationToken=abc',
      }),
      NOW,
    );

    // Assess
    expect(verdict).toEqual({
      ok: true,
      handshake: { kind: 'msgraph-validation', contentType: 'text/plain', body: 'abc' },
    });
  });
});
