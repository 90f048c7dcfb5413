import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, EventBridgeEvent } from 'aws-lambda';
import { request } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { toWebhookRequest } from '../../functions/relay/events/api-gateway';
import { createGatewayServer, type Invoke } from '../../infra/sandbox/gateway-server';
import { isTextBody } from '../../infra/sandbox/http-gateway';

/**
 * The sandbox's endpoint turns HTTP requests into the events API Gateway and EventBridge deliver, and the
 * function's answer back into HTTP. The function here is a stub that records what it was given.
 */
describe('sandbox HTTP endpoint', () => {
  let server: Server;
  let baseUrl: string;
  let events: unknown[];
  let answer: (event: unknown) => Promise<unknown>;
  let ready: boolean;
  const lines: string[] = [];

  beforeAll(async () => {
    const invoke: Invoke = (event) => {
      events.push(event);
      return answer(event);
    };
    server = createGatewayServer({
      identity: { apiId: 'sandbox', accountId: '000000000000' },
      region: 'us-east-1',
      invoker: () => (ready ? invoke : undefined),
      log: (line) => lines.push(line),
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    server.close();
  });

  beforeEach(() => {
    events = [];
    ready = true;
    answer = async () => ({
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      body: '{"relayId":"r-1","status":"delivered"}',
    });
  });

  async function post(
    path: string,
    body: string | Buffer | undefined,
    headers: Record<string, string | string[]> = {},
  ) {
    const response = await request(`${baseUrl}${path}`, {
      method: 'POST',
      headers,
      ...(body !== undefined && { body }),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  }

  it('delivers a JSON webhook as an HTTP API 2.0 event with the body as text', async () => {
    const body = '{"b":2,"a":1,"big":12345678901234567890123}';

    const response = await post('/webhooks/github?x=1&x=2', body, {
      'content-type': 'application/json',
      'X-Hub-Signature-256': 'sha256=abc',
      'x-multi': ['one', 'two'],
      cookie: 'a=1; b=2',
    });

    expect(response.status).toBe(200);
    expect(response.text).toBe('{"relayId":"r-1","status":"delivered"}');
    const event = events[0] as APIGatewayProxyEventV2;
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: 'POST /webhooks/{source}',
      rawPath: '/webhooks/github',
      rawQueryString: 'x=1&x=2',
      queryStringParameters: { x: '1,2' },
      cookies: ['a=1', 'b=2'],
      pathParameters: { source: 'github' },
      body,
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000',
        apiId: 'sandbox',
        routeKey: 'POST /webhooks/{source}',
        stage: '$default',
        http: { method: 'POST', path: '/webhooks/github', protocol: 'HTTP/1.1', sourceIp: '127.0.0.1' },
      },
    });
    expect(event.headers['x-hub-signature-256']).toBe('sha256=abc');
    expect(event.headers['x-multi']).toBe('one,two');
    expect(event.headers.cookie).toBeUndefined();
    expect(event.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(event.requestContext.time).toMatch(/^\d\d\/[A-Z][a-z]{2}\/\d{4}:\d\d:\d\d:\d\d \+0000$/);
    expect(lines.at(-1)).toMatch(
      /^\[http\] POST \/webhooks\/github\?x=1&x=2 → 200 \{"relayId":"r-1","status":"delivered"\} \(\d+ ms\)$/,
    );
  });

  it('base64-encodes bodies API Gateway does not pass as text, and the relay reads the same bytes back', async () => {
    const form = 'title=P%C3%A4ivitys+%E2%9C%93&id=12345678901234567890123';

    await post('/webhooks/demo', form, { 'content-type': 'application/x-www-form-urlencoded' });
    await post('/webhooks/demo', Buffer.from([0, 255, 1]), { 'content-type': 'application/octet-stream' });
    await post('/webhooks/demo', undefined);

    const [formEvent, binaryEvent, emptyEvent] = events as APIGatewayProxyEventV2[];
    expect(formEvent?.isBase64Encoded).toBe(true);
    expect(formEvent?.body).toBe(Buffer.from(form).toString('base64'));
    const parsed = formEvent && toWebhookRequest(formEvent);
    expect(parsed?.ok && parsed.request.body.toString('utf8')).toBe(form);
    expect(binaryEvent?.body).toBe('AP8B');
    expect(emptyEvent?.body).toBeUndefined();
    expect(emptyEvent?.isBase64Encoded).toBe(false);
  });

  it('knows the text media types', () => {
    for (const type of [
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/cloudevents+json',
      'application/xml',
    ]) {
      expect(isTextBody(type)).toBe(true);
    }
    for (const type of [
      undefined,
      '',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'multipart/form-data',
    ]) {
      expect(isTextBody(type)).toBe(false);
    }
  });

  it('answers what API Gateway answers for other routes, a failed function, or before the start', async () => {
    const wrongMethod = await request(`${baseUrl}/webhooks/github`);
    const wrongPath = await post('/webhooks/github/extra', '{}', { 'content-type': 'application/json' });
    answer = async () => {
      throw new Error('boom');
    };
    const failed = await post('/webhooks/github', '{}', { 'content-type': 'application/json' });
    ready = false;
    const early = await post('/webhooks/github', '{}', { 'content-type': 'application/json' });

    expect(wrongMethod.statusCode).toBe(404);
    expect(await wrongMethod.body.json()).toEqual({ message: 'Not Found' });
    expect(wrongPath.status).toBe(404);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.text)).toEqual({ message: 'Internal Server Error' });
    expect(lines).toContain('[lambda] invocation failed: boom');
    expect(early.status).toBe(503);
  });

  it('completes a posted event into what an EventBridge rule delivers', async () => {
    answer = async () => undefined;

    const response = await post(
      '/events',
      JSON.stringify({ source: 'my.app', 'detail-type': 'Order Placed', detail: { orderId: 42 } }),
      {
        'content-type': 'application/json',
      },
    );

    expect(response.status).toBe(200);
    const event = events[0] as EventBridgeEvent<string, unknown>;
    expect(JSON.parse(response.text)).toEqual({ id: event.id, status: 'handled' });
    expect(event).toMatchObject({
      version: '0',
      source: 'my.app',
      'detail-type': 'Order Placed',
      detail: { orderId: 42 },
      account: '000000000000',
      region: 'us-east-1',
      resources: [],
    });
    expect(event.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  });

  it('refuses an incomplete event, and reports a failed invocation as Lambda would retry it', async () => {
    const incomplete = await post('/events', JSON.stringify({ source: 'my.app' }));
    const notJson = await post('/events', 'nope');
    answer = async () => {
      throw new Error('Event could be neither delivered nor kept');
    };
    const failed = await post('/events', JSON.stringify({ source: 'my.app', detailType: 'X', detail: {} }));

    expect(incomplete.status).toBe(400);
    expect(JSON.parse(incomplete.text)).toEqual({ error: '"detail-type" must be a non-empty string' });
    expect(notJson.status).toBe(400);
    expect(failed.status).toBe(500);
    expect(JSON.parse(failed.text)).toMatchObject({
      status: 'failed',
      error: 'Event could be neither delivered nor kept',
    });
  });
});
