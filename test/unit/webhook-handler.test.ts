import { createHmac } from 'node:crypto';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OnceResult } from '../../functions/relay/core/dedup/relay-once';
import type { OutboundMessage } from '../../functions/relay/core/delivery/deliver';
import { SecretError } from '../../functions/relay/core/errors';
import { WebhookGate } from '../../functions/relay/core/inbound/accept-webhook';
import type { SourceDeclarations } from '../../functions/relay/core/inbound/source-declaration';
import { handleWebhook, WEBHOOK_BUDGET_MS } from '../../functions/relay/events/webhook-handler';
import type { SigningSecrets } from '../../functions/relay/ports/signing-secrets';
import { loadFixture, webhookEvent } from '../fixtures/load';
import { type CapturedTelemetry, captureTelemetry } from './capturing-telemetry';
import { FakeClock } from './fakes';

const SOURCES: SourceDeclarations = { demo: { scheme: 'unauthenticated' }, gh: { scheme: 'github' } };
const GH_SECRET = 'gh-signing-secret-never-logged';
const MAX_BODY_BYTES = 1_024;
/** Plenty: the webhook budget, not the Lambda timeout, bounds the delivery. */
const REMAINING_MS = 29_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const DELIVERY_ID = '72d3162e-cc78-11e3-81ab-4c9367dc0958';

interface Harness {
  readonly relay: ReturnType<
    typeof vi.fn<(message: OutboundMessage, deadline: number) => Promise<OnceResult>>
  >;
  readonly clock: FakeClock;
  readonly captured: CapturedTelemetry;
  readonly handle: (event: APIGatewayProxyEventV2, remainingMs?: number) => Promise<Answer>;
}

interface Answer {
  readonly statusCode: number | undefined;
  readonly headers: APIGatewayProxyStructuredResultV2['headers'];
  readonly json: Record<string, unknown>;
}

function harness(
  options: {
    result?: OnceResult;
    secrets?: SigningSecrets;
    relayTakesMs?: number;
    maxBodyBytes?: number;
    sources?: SourceDeclarations;
  } = {},
): Harness {
  const clock = new FakeClock();
  const captured = captureTelemetry();
  const secrets: SigningSecrets = options.secrets ?? {
    forSource: async (source) => (source === 'gh' ? [GH_SECRET] : []),
  };
  const relay = vi.fn(async (_message: OutboundMessage, _deadline: number): Promise<OnceResult> => {
    clock.advance(options.relayTakesMs ?? 0);
    return options.result ?? { status: 'delivered', attempts: 1 };
  });
  const gate = new WebhookGate(options.sources ?? SOURCES, secrets, options.maxBodyBytes ?? MAX_BODY_BYTES);
  return {
    relay,
    clock,
    captured,
    handle: async (event, remainingMs = REMAINING_MS) => {
      const response = await handleWebhook(event, remainingMs, {
        gate,
        relay,
        telemetry: captured.telemetry,
        now: clock.now,
      });
      return {
        statusCode: response.statusCode,
        headers: response.headers,
        json: JSON.parse(response.body ?? 'null') as Record<string, unknown>,
      };
    },
  };
}

function signedGithubEvent(body: string, secret = GH_SECRET): APIGatewayProxyEventV2 {
  const signature = `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
  return webhookEvent({
    source: 'gh',
    body,
    headers: {
      'x-hub-signature-256': signature,
      'x-github-delivery': DELIVERY_ID,
      'x-github-event': 'issues',
    },
  });
}

function sentMessage(h: Harness): OutboundMessage {
  const call = h.relay.mock.calls[0];
  if (!call) throw new Error('the relay was not called');
  return call[0];
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('handleWebhook', () => {
  describe('a message the relay takes', () => {
    it('answers 200 with the relay id when the message is delivered', async () => {
      // Prepare
      const h = harness({ result: { status: 'delivered', attempts: 1 } });

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.json).toEqual({ relayId: sentMessage(h).relayId, status: 'delivered' });
      expect(sentMessage(h).relayId).toMatch(UUID);
      expect(answer.headers).toMatchObject({
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
    });

    it('forwards the JSON body exactly as API Gateway delivered it', async () => {
      // Prepare
      const h = harness();
      const event = loadFixture('webhookJson');

      // Act
      await h.handle(event);

      // Assess
      expect(sentMessage(h).body).toBe(event.body);
      expect(sentMessage(h).body).toContain('12345678901234567890123');
      expect(sentMessage(h).source).toBe('demo');
    });

    it('decodes a base64 body and forwards a form as a JSON object of its fields', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(loadFixture('webhookFormBase64'));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(JSON.parse(sentMessage(h).body)).toEqual({
        ticket_id: '12345678901234567890123',
        title: 'Päivitys ✓',
        tag: ['urgent', 'network'],
      });
    });

    it('decodes a base64 JSON body and forwards it byte for byte', async () => {
      // Prepare
      const h = harness();
      const body = '{"b": 2, "a": 12345678901234567890123, "text": "ä ✓"}';

      // Act
      await h.handle(webhookEvent({ body, base64: true }));

      // Assess
      expect(sentMessage(h).body).toBe(body);
    });

    it('gives each message its own relay id', async () => {
      // Prepare
      const h = harness();

      // Act
      await h.handle(loadFixture('webhookJson'));
      await h.handle(loadFixture('webhookJson'));

      // Assess
      const [first, second] = h.relay.mock.calls.map(([message]) => message.relayId);
      expect(first).not.toBe(second);
    });

    it('passes the GitHub delivery id on for de-duplication', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(signedGithubEvent('{"action":"opened"}'));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sentMessage(h)).toMatchObject({
        source: 'gh',
        deliveryId: DELIVERY_ID,
        body: '{"action":"opened"}',
      });
    });

    it('verifies a GitHub signature over the decoded bytes of a base64 body', async () => {
      // Prepare
      const body = '{"action":"opened","issue":{"title":"ä ✓"}}';
      const signature = `sha256=${createHmac('sha256', GH_SECRET).update(body).digest('hex')}`;
      const h = harness();

      // Act
      const answer = await h.handle(
        webhookEvent({ source: 'gh', body, base64: true, headers: { 'x-hub-signature-256': signature } }),
      );

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sentMessage(h).body).toBe(body);
    });

    it('gives the relay the webhook budget when Lambda has more time left', async () => {
      // Prepare
      const h = harness();
      const started = h.clock.now();

      // Act
      await h.handle(loadFixture('webhookJson'), REMAINING_MS);

      // Assess
      expect(h.relay.mock.calls[0]?.[1]).toBe(started + WEBHOOK_BUDGET_MS);
    });

    it('keeps a second back for answering when Lambda has less time left than the budget', async () => {
      // Prepare
      const h = harness();
      const started = h.clock.now();

      // Act
      await h.handle(loadFixture('webhookJson'), 5_000);

      // Assess
      expect(h.relay.mock.calls[0]?.[1]).toBe(started + 4_000);
    });

    it.each([
      ['queued', { status: 'queued', attempts: 3, lastError: 'ONEiO receiver answered 503', inDoubt: false }],
      ['parked', { status: 'parked', attempts: 1, lastError: 'ONEiO receiver answered 400', inDoubt: false }],
    ] as const)('answers 202 when the message was %s', async (_label, result) => {
      // Prepare
      const h = harness({ result });

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(202);
      expect(answer.json).toEqual({ relayId: sentMessage(h).relayId, status: 'queued' });
    });

    it.each([
      ['delivered', 200],
      ['queued', 202],
    ] as const)('answers a duplicate of a %s message %i with the first relay id', async (state, status) => {
      // Prepare
      const h = harness({ result: { status: 'duplicate', state, relayId: 'first-relay-id', attempts: 0 } });

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(status);
      expect(answer.json).toEqual({ relayId: 'first-relay-id', status: 'duplicate' });
    });

    it('answers a duplicate of a message still in flight 409 with Retry-After, so the sender retries', async () => {
      // Prepare
      const h = harness({
        result: { status: 'duplicate', state: 'in_progress', relayId: 'first-relay-id', attempts: 0 },
      });

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(409);
      expect(answer.headers).toMatchObject({ 'retry-after': '10' });
      expect(answer.json).toMatchObject({ relayId: 'first-relay-id' });
    });

    it('hands the relay what ONEiO is to receive besides the body: headers, query, received-at, endpoint, envelope', async () => {
      // Prepare
      const h = harness({
        sources: {
          gh: { scheme: 'github', oneioEndpoint: 'itsm', envelope: true, forwardHeaders: ['X-Request-Tag'] },
        },
      });
      const event = signedGithubEvent('{"action":"opened"}');
      event.rawQueryString = 'issue.key=ABC-1&project.key=OPS';
      event.headers = { ...event.headers, 'x-request-tag': 'blue' };
      const received = h.clock.now();

      // Act
      await h.handle(event);

      // Assess
      expect(sentMessage(h)).toEqual({
        relayId: expect.stringMatching(UUID),
        source: 'gh',
        deliveryId: DELIVERY_ID,
        body: '{"action":"opened"}',
        receivedAt: received,
        forwardedHeaders: { 'x-github-event': 'issues', 'x-request-tag': 'blue' },
        query: 'issue.key=ABC-1&project.key=OPS',
        oneioEndpoint: 'itsm',
        envelope: true,
      });
    });

    it('leaves the optional fields out for a plain source', async () => {
      // Act
      const h = harness();
      await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(Object.keys(sentMessage(h)).sort()).toEqual([
        'body',
        'deliveryId',
        'receivedAt',
        'relayId',
        'source',
      ]);
    });

    it("answers 503 and logs the missing pair when the source's ONEiO endpoint has no credentials", async () => {
      // Prepare: what relayOnce answers for a message whose endpoint has no credential pair in the secret
      const lastError = 'Secret "oneio-relay/qa" holds no credentials for ONEiO endpoint "itsm"';
      const h = harness({
        sources: { gh: { scheme: 'github', oneioEndpoint: 'itsm' } },
        result: { status: 'failed', attempts: 0, lastError, inDoubt: false },
      });

      // Act
      const answer = await h.handle(signedGithubEvent('{"action":"opened"}'));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(h.captured.logs().find((l) => l.message === 'Webhook handled')).toMatchObject({
        level: 'ERROR',
        statusCode: 503,
        outcome: 'failed',
        oneioEndpoint: 'itsm',
        lastError,
      });
    });

    it('answers 503 with the relay id when the message could be neither delivered nor kept', async () => {
      // Prepare
      const h = harness({
        result: {
          status: 'failed',
          attempts: 4,
          lastError: 'ONEiO receiver answered 503; outbox down',
          inDoubt: false,
        },
      });

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(answer.json).toEqual({
        error: 'The relay could not accept the message right now; retry later',
        relayId: sentMessage(h).relayId,
      });
    });

    it('answers 503 without detail when the relay fails unexpectedly', async () => {
      // Prepare
      const h = harness();
      h.relay.mockRejectedValueOnce(new Error('at Object.<anonymous> (/var/task/index.js:1:2)'));

      // Act
      const answer = await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(JSON.stringify(answer.json)).not.toContain('/var/task');
    });
  });

  describe('a refused request', () => {
    it.each(['unknown', 'constructor', '__proto__', '..%2Fdemo', '..%2F..%2Fadmin'])(
      'answers 404 for the undeclared source %j and never relays',
      async (source) => {
        // Prepare
        const h = harness();

        // Act
        const answer = await h.handle(webhookEvent({ source }));

        // Assess
        expect(answer.statusCode).toBe(404);
        expect(answer.json).toEqual({ error: 'Unknown source' });
        expect(h.relay).not.toHaveBeenCalled();
      },
    );

    it.each(['GET', 'PUT', 'DELETE', 'HEAD'])(
      'answers 404 to a %s for a source that does not declare Okta verification',
      async (method) => {
        // Prepare
        const h = harness();
        const event = loadFixture('webhookJson');
        event.requestContext.http.method = method;

        // Act
        const answer = await h.handle(event);

        // Assess
        expect(answer.statusCode).toBe(404);
        expect(h.relay).not.toHaveBeenCalled();
      },
    );

    it('accepts a body of exactly the limit', async () => {
      // Prepare
      const event = loadFixture('webhookJson');
      const h = harness({ maxBodyBytes: Buffer.byteLength(event.body ?? '') });

      // Act
      const answer = await h.handle(event);

      // Assess
      expect(answer.statusCode).toBe(200);
    });

    it('answers 413 to a body one byte over the limit and never relays', async () => {
      // Prepare
      const event = loadFixture('webhookJson');
      const h = harness({ maxBodyBytes: Buffer.byteLength(event.body ?? '') - 1 });

      // Act
      const answer = await h.handle(event);

      // Assess
      expect(answer.statusCode).toBe(413);
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('measures the limit on the decoded bytes of a base64 body', async () => {
      // Prepare: the decoded body fits exactly, its base64 text (a third longer) would not
      const body = '{"ticket": {"id": 12345678901234567890123, "title": "Päivitys ✓"}}';
      const event = webhookEvent({ body, base64: true });
      const h = harness({ maxBodyBytes: Buffer.byteLength(body) });

      // Act
      const answer = await h.handle(event);

      // Assess
      expect((event.body ?? '').length).toBeGreaterThan(Buffer.byteLength(body));
      expect(answer.statusCode).toBe(200);
      expect(sentMessage(h).body).toBe(body);
    });

    it('answers 401 with an opaque body to a GitHub request without a signature', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(webhookEvent({ source: 'gh', body: '{"action":"opened"}' }));

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(answer.json).toEqual({ error: 'Unauthorized' });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('answers 401 with an opaque body to a GitHub request signed with another secret', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(signedGithubEvent('{"action":"opened"}', 'not-the-secret'));

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(answer.json).toEqual({ error: 'Unauthorized' });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('answers 415 to an unsupported content type and never relays', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(webhookEvent({ headers: { 'content-type': 'text/plain' } }));

      // Assess
      expect(answer.statusCode).toBe(415);
      expect(answer.json.error).toEqual(expect.stringContaining('application/json'));
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('answers 400 to a malformed JSON body and never relays', async () => {
      // Prepare
      const h = harness();

      // Act
      const answer = await h.handle(webhookEvent({ body: '{"ticket": 42,' }));

      // Assess
      expect(answer.statusCode).toBe(400);
      expect(answer.json).toEqual({ error: 'Body is not valid JSON' });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('answers 400 to a body that is not valid base64 and never relays', async () => {
      // Prepare
      const h = harness();
      const event = loadFixture('webhookFormBase64');
      event.body = 'this is not base64!';

      // Act
      const answer = await h.handle(event);

      // Assess
      expect(answer.statusCode).toBe(400);
      expect(answer.json).toEqual({ error: 'Body is not valid base64' });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('answers 503 and relays nothing when the signing secrets cannot be read', async () => {
      // Prepare
      const h = harness({
        secrets: {
          forSource: async () => {
            throw new SecretError('Secret "relay/qa/signing" could not be read (AccessDeniedException)');
          },
        },
      });

      // Act
      const answer = await h.handle(signedGithubEvent('{"action":"opened"}'));

      // Assess
      expect(answer.statusCode).toBe(503);
      expect(answer.json).toEqual({ error: 'The relay could not accept the message right now; retry later' });
      expect(h.relay).not.toHaveBeenCalled();
    });
  });

  describe('a handshake', () => {
    const OKTA_TOKEN = 'okta-hook-authorization-value';
    const GRAPH_TOKEN = 'Validation: Testing client application reachability for subscription Request-Id: 1';
    const handshakeSources: SourceDeclarations = {
      okta: { scheme: 'token', header: 'Authorization', oktaVerification: true },
      graph: { scheme: 'msgraph' },
      gh: { scheme: 'github' },
    };
    const handshakeHarness = () =>
      harness({
        sources: handshakeSources,
        secrets: { forSource: async (source) => (source === 'okta' ? [OKTA_TOKEN] : ['client-state']) },
      });

    function oktaGet(authorization: string) {
      const event = webhookEvent({
        source: 'okta',
        body: '',
        headers: { authorization, 'x-okta-verification-challenge': 'Xb9LT8sV7bM2ahs4iQ0a' },
      });
      event.requestContext.http.method = 'GET';
      event.routeKey = 'GET /webhooks/{source}';
      delete event.body;
      return event;
    }

    it("answers Okta's verification GET with the JSON Okta documents, relaying nothing", async () => {
      // Prepare
      const h = handshakeHarness();

      // Act
      const answer = await h.handle(oktaGet(OKTA_TOKEN));

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(answer.headers).toMatchObject({
        'content-type': 'application/json',
        'cache-control': 'no-store',
      });
      expect(answer.json).toEqual({ verification: 'Xb9LT8sV7bM2ahs4iQ0a' });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it("refuses Okta's verification GET with a wrong authorization value, opaquely", async () => {
      // Prepare
      const h = handshakeHarness();

      // Act
      const answer = await h.handle(oktaGet('guess'));

      // Assess
      expect(answer.statusCode).toBe(401);
      expect(answer.json).toEqual({ error: 'Unauthorized' });
    });

    it("echoes Graph's validationToken as text/plain with 200, before any content-type check", async () => {
      // Prepare
      const h = handshakeHarness();
      const event = webhookEvent({
        source: 'graph',
        body: '',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
      });
      event.rawQueryString = `validationToken=${encodeURIComponent(GRAPH_TOKEN)}`;

      // Act
      const response = await handleWebhook(event, REMAINING_MS, {
        gate: new WebhookGate(handshakeSources, { forSource: async () => [] }, MAX_BODY_BYTES),
        relay: h.relay,
        telemetry: h.captured.telemetry,
        now: h.clock.now,
      });

      // Assess
      expect(response).toEqual({
        statusCode: 200,
        headers: {
          'content-type': 'text/plain',
          'cache-control': 'no-store',
          'x-content-type-options': 'nosniff',
        },
        body: GRAPH_TOKEN,
      });
      expect(h.relay).not.toHaveBeenCalled();
    });

    it('logs and counts a handshake without its value', async () => {
      // Prepare
      const h = handshakeHarness();
      const event = oktaGet(OKTA_TOKEN);

      // Act
      await h.handle(event);

      // Assess
      expect(h.captured.logs()).toEqual([
        expect.objectContaining({
          apiRequestId: event.requestContext.requestId,
          source: 'okta',
          outcome: 'handshake',
          handshake: 'okta-verification',
          statusCode: 200,
        }),
      ]);
      expect(h.captured.metricNames()).toEqual(['WebhookHandshake']);
      expect(h.captured.output()).not.toContain('Xb9LT8sV7bM2ahs4iQ0a');
      expect(h.captured.output()).not.toContain(OKTA_TOKEN);
    });

    it('answers 404 to a GET for a source of the same deployment that does not declare it', async () => {
      // Prepare
      const h = handshakeHarness();
      const event = oktaGet(OKTA_TOKEN);
      event.pathParameters = { source: 'gh' };

      // Act
      const answer = await h.handle(event);

      // Assess
      expect(answer.statusCode).toBe(404);
      expect(h.captured.metricNames()).toEqual(['WebhookRefused']);
    });
  });

  describe('a value longer than ONEiO keeps', () => {
    it('still relays the message, and logs and counts the path of the value, never the value', async () => {
      // Prepare
      const h = harness({ maxBodyBytes: 380 * 1024 });
      const long = `LONG-VALUE-MARKER${'x'.repeat(300_000)}`;
      const event = webhookEvent({ body: JSON.stringify({ ticket: { id: 7, description: long } }) });

      // Act
      const answer = await h.handle(event);

      // Assess
      expect(answer.statusCode).toBe(200);
      expect(sentMessage(h).body).toBe(event.body);
      const warning = h.captured.logs().find((line) => line.level === 'WARN');
      expect(warning).toMatchObject({
        message: 'Message has values longer than ONEiO keeps; ONEiO will cut them',
        relayId: sentMessage(h).relayId,
        source: 'demo',
        paths: ['$.ticket.description'],
        limit: 300_000,
      });
      expect(h.captured.metricNames()).toContain('OversizedAttribute');
      expect(h.captured.output()).not.toContain('LONG-VALUE-MARKER');
    });

    it('neither warns nor counts for an ordinary message', async () => {
      // Prepare
      const h = harness();

      // Act
      await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(h.captured.logs().filter((line) => line.level === 'WARN')).toEqual([]);
      expect(h.captured.metricNames()).not.toContain('OversizedAttribute');
    });
  });

  describe('logs and metrics', () => {
    it('logs one line per delivered request with the request id, source, outcome, status and latency', async () => {
      // Prepare
      const h = harness({ relayTakesMs: 120 });
      const event = loadFixture('webhookJson');

      // Act
      await h.handle(event);

      // Assess
      const logs = h.captured.logs();
      expect(logs).toHaveLength(1);
      expect(logs[0]).toMatchObject({
        level: 'INFO',
        message: 'Webhook handled',
        apiRequestId: event.requestContext.requestId,
        source: 'demo',
        relayId: sentMessage(h).relayId,
        outcome: 'delivered',
        statusCode: 200,
        attempts: 1,
        latencyMs: 120,
      });
    });

    it('logs a refusal with its reason, and counts it as unauthorized', async () => {
      // Prepare
      const h = harness();
      const event = signedGithubEvent('{"action":"opened"}', 'not-the-secret');

      // Act
      await h.handle(event);

      // Assess
      expect(h.captured.logs()).toEqual([
        expect.objectContaining({
          apiRequestId: event.requestContext.requestId,
          source: 'gh',
          outcome: 'refused',
          reason: 'bad_signature',
          statusCode: 401,
          latencyMs: 0,
        }),
      ]);
      expect(h.captured.metricNames()).toEqual(['WebhookUnauthorized']);
      expect(h.captured.metricDimensions()).toEqual([
        expect.objectContaining({ reason: expect.any(String) }),
      ]);
    });

    it('logs and counts a body that is not valid base64 like any other refusal', async () => {
      // Prepare
      const h = harness();
      const event = loadFixture('webhookFormBase64');
      event.body = 'this is not base64!';

      // Act
      await h.handle(event);

      // Assess
      expect(h.captured.logs()).toEqual([
        expect.objectContaining({
          apiRequestId: event.requestContext.requestId,
          source: 'demo',
          outcome: 'refused',
          statusCode: 400,
          latencyMs: 0,
        }),
      ]);
      expect(h.captured.metricNames()).toEqual(['WebhookRefused']);
    });

    it('counts other refusals as refused', async () => {
      // Prepare
      const h = harness();

      // Act
      await h.handle(webhookEvent({ headers: { 'content-type': 'text/plain' } }));

      // Assess
      expect(h.captured.metricNames()).toEqual(['WebhookRefused']);
    });

    it('logs a failed request at error level', async () => {
      // Prepare
      const h = harness({
        result: { status: 'failed', attempts: 2, lastError: 'no outbox', inDoubt: false },
      });

      // Act
      await h.handle(loadFixture('webhookJson'));

      // Assess
      expect(h.captured.logs()).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          outcome: 'failed',
          statusCode: 503,
          lastError: 'no outbox',
        }),
      ]);
    });

    it('logs the reason when the signing secrets cannot be read, at error level', async () => {
      // Prepare
      const h = harness({
        secrets: {
          forSource: async () => {
            throw new SecretError('Secret "relay/qa/signing" could not be read (AccessDeniedException)');
          },
        },
      });

      // Act
      await h.handle(signedGithubEvent('{"action":"opened"}'));

      // Assess
      expect(h.captured.logs()).toEqual([
        expect.objectContaining({
          level: 'ERROR',
          source: 'gh',
          outcome: 'error',
          statusCode: 503,
          error: expect.stringContaining('AccessDeniedException'),
        }),
      ]);
    });

    it.each([
      ['delivered', () => signedGithubEvent('{"secretField":"hunter2-body-marker"}')],
      ['unauthorized', () => signedGithubEvent('{"secretField":"hunter2-body-marker"}', 'wrong')],
      ['malformed', () => signedGithubEvent('{"secretField":"hunter2-body-marker",')],
      [
        'form',
        () =>
          webhookEvent({
            body: 'secretField=hunter2-body-marker',
            base64: true,
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          }),
      ],
      [
        'unsupported',
        () => webhookEvent({ body: 'hunter2-body-marker', headers: { 'content-type': 'text/plain' } }),
      ],
    ])('never logs the body or the signing secret (%s)', async (_label, event) => {
      // Prepare
      const h = harness();

      const request = event();

      // Act
      await h.handle(request);

      // Assess
      const output = h.captured.output();
      expect(output).not.toBe('');
      expect(output).not.toContain('hunter2-body-marker');
      expect(output).not.toContain(request.body);
      expect(output).not.toContain(GH_SECRET);
    });
  });
});
