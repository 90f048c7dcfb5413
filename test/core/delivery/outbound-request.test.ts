import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../../functions/relay/core/delivery/deliver';
import { outboundRequest } from '../../../functions/relay/core/delivery/outbound-request';

const RECEIVER_URL = 'https://rest-receiver-test.service-flow.com/api/v2';
const RECEIVED_AT = Date.parse('2025-03-12T19:04:17.250Z');

function message(overrides: Partial<OutboundMessage> = {}): OutboundMessage {
  return {
    relayId: '3f46d5f7-0d6f-4b8e-9d0a-4f1e2a3b4c5d',
    source: 'github',
    deliveryId: '72d3162e-cc78-11e3-81ab-4c9367dc0958',
    body: '{"action":"opened"}',
    receivedAt: RECEIVED_AT,
    ...overrides,
  };
}

/** The payload part of an envelope, as text: everything between `"payload":` and the closing brace. */
function payloadText(envelope: string): string {
  const start = envelope.indexOf(',"payload":') + ',"payload":'.length;
  return envelope.slice(start, -1);
}

describe('outboundRequest', () => {
  describe('headers', () => {
    it('carries the source, message id, delivery id and received-at of every message', () => {
      // Act
      const request = outboundRequest(message(), RECEIVER_URL);

      // Assess
      expect(request.headers).toEqual({
        'x-relay-source': 'github',
        'x-relay-message-id': '3f46d5f7-0d6f-4b8e-9d0a-4f1e2a3b4c5d',
        'x-relay-delivery-id': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        'x-relay-received-at': '2025-03-12T19:04:17.250Z',
      });
    });

    it('names an EventBridge message by its event source', () => {
      // Act
      const request = outboundRequest(message({ source: 'eventbridge:aws.health' }), RECEIVER_URL);

      // Assess
      expect(request.headers['x-relay-source']).toBe('eventbridge:aws.health');
    });

    it('adds the forwarded sender headers as they came', () => {
      // Act
      const request = outboundRequest(
        message({ forwardedHeaders: { 'x-github-event': 'issues', 'x-github-hook-id': '292430182' } }),
        RECEIVER_URL,
      );

      // Assess
      expect(request.headers).toMatchObject({ 'x-github-event': 'issues', 'x-github-hook-id': '292430182' });
    });

    it.each([
      ['authorization', 'Bearer forged'],
      ['Content-Type', 'text/plain'],
      ['X-Relay-Source', 'forged'],
      ['x-relay-received-at', '1970-01-01T00:00:00.000Z'],
      ['x-relay-anything', 'forged'],
      ['host', 'evil.example'],
      ['x-hub-signature-256', 'sha256=00'],
    ])('never sends a forwarded %s, whatever the message holds', (name, value) => {
      // Act
      const request = outboundRequest(message({ forwardedHeaders: { [name]: value } }), RECEIVER_URL);

      // Assess
      expect(Object.values(request.headers)).not.toContain(value);
      expect(Object.keys(request.headers)).toEqual([
        'x-relay-source',
        'x-relay-message-id',
        'x-relay-delivery-id',
        'x-relay-received-at',
      ]);
    });

    it('leaves out a value no HTTP client may send, rather than failing every attempt of the message', () => {
      // Act
      const request = outboundRequest(
        message({ forwardedHeaders: { 'x-note': 'line\r\nx-injected: 1', 'x-ok': 'fine' } }),
        RECEIVER_URL,
      );

      // Assess
      expect(request.headers).not.toHaveProperty('x-note');
      expect(request.headers['x-ok']).toBe('fine');
    });

    it('sends names in lower case, joining two spellings of one name as a repeated header', () => {
      // Act
      const request = outboundRequest(
        message({ forwardedHeaders: { 'X-Tag': 'a', 'x-tag': 'b' } }),
        RECEIVER_URL,
      );

      // Assess
      expect(request.headers['x-tag']).toBe('a, b');
      expect(request.headers).not.toHaveProperty('X-Tag');
    });
  });

  describe('url', () => {
    it('is the receiver URL when the message has no query', () => {
      expect(outboundRequest(message(), RECEIVER_URL).url).toBe(RECEIVER_URL);
    });

    it('appends the query exactly as the sender encoded it', () => {
      // Act
      const { url } = outboundRequest(message({ query: 'issue.key=ABC-1&note=a%20b+c&flag' }), RECEIVER_URL);

      // Assess
      expect(url).toBe(`${RECEIVER_URL}?issue.key=ABC-1&note=a%20b+c&flag`);
    });

    it('adds to a query the receiver URL already has', () => {
      expect(outboundRequest(message({ query: 'b=2' }), `${RECEIVER_URL}?a=1`).url).toBe(
        `${RECEIVER_URL}?a=1&b=2`,
      );
      expect(outboundRequest(message({ query: 'b=2' }), `${RECEIVER_URL}?`).url).toBe(`${RECEIVER_URL}?b=2`);
    });
  });

  describe('body', () => {
    it('is the message body itself without an envelope', () => {
      const body = '{"b": 1, "a": 12345678901234567890123}';
      expect(outboundRequest(message({ body, query: 'x=1' }), RECEIVER_URL).body).toBe(body);
    });

    it('wraps the body in the envelope, keeping its bytes: big integers, key order, spacing, escapes', () => {
      // Prepare: what a parse and re-serialise would change
      const body =
        '{ "z": 1,\n  "id": 12345678901234567890123, "price": 1.10, "a": "\\u00e9 ✓ \\"q\\"", "list": [ ] }\n';

      // Act
      const request = outboundRequest(
        message({
          body,
          envelope: true,
          forwardedHeaders: { 'x-github-event': 'issues' },
          query: 'issue.key=ABC-1&project.key=OPS',
        }),
        RECEIVER_URL,
      );

      // Assess
      expect(payloadText(request.body)).toBe(body);
      expect(Buffer.from(payloadText(request.body))).toEqual(Buffer.from(body));
      expect(JSON.parse(request.body)).toEqual({
        source: 'github',
        messageId: '3f46d5f7-0d6f-4b8e-9d0a-4f1e2a3b4c5d',
        receivedAt: '2025-03-12T19:04:17.250Z',
        headers: { 'x-github-event': 'issues' },
        query: { 'issue.key': 'ABC-1', 'project.key': 'OPS' },
        payload: JSON.parse(body),
      });
      expect(Object.keys(JSON.parse(request.body))).toEqual([
        'source',
        'messageId',
        'receivedAt',
        'headers',
        'query',
        'payload',
      ]);
    });

    it('wraps an array body too', () => {
      const body = '[1,2,{"x":12345678901234567890123}]';
      expect(payloadText(outboundRequest(message({ body, envelope: true }), RECEIVER_URL).body)).toBe(body);
    });

    it('gives the envelope empty headers and query when the message has none', () => {
      // Act
      const envelope = JSON.parse(outboundRequest(message({ envelope: true }), RECEIVER_URL).body);

      // Assess
      expect(envelope.headers).toEqual({});
      expect(envelope.query).toEqual({});
    });

    it('decodes the query for the envelope as a form is decoded, a repeated parameter as a list', () => {
      // Act
      const envelope = JSON.parse(
        outboundRequest(
          message({
            envelope: true,
            query: 'tag=a&tag=b&note=a%20b+c&empty=&flag&__proto__=x&t%C3%A9=%E2%9C%93',
          }),
          RECEIVER_URL,
        ).body,
      );

      // Assess
      expect(envelope.query).toEqual({
        tag: ['a', 'b'],
        note: 'a b c',
        empty: '',
        flag: '',
        ['__proto__']: 'x',
        té: '✓',
      });
      expect(Object.hasOwn(envelope.query, '__proto__')).toBe(true);
    });

    it('puts only the headers that are sent into the envelope', () => {
      // Act
      const envelope = JSON.parse(
        outboundRequest(
          message({
            envelope: true,
            forwardedHeaders: { 'x-github-event': 'push', authorization: 'Basic x' },
          }),
          RECEIVER_URL,
        ).body,
      );

      // Assess
      expect(envelope.headers).toEqual({ 'x-github-event': 'push' });
    });
  });

  it('is the same for every copy of one message', () => {
    // Prepare
    const kept = message({
      envelope: true,
      forwardedHeaders: { 'x-github-event': 'issues' },
      query: 'a=1',
      oneioEndpoint: 'itsm',
    });

    // Act
    const first = outboundRequest(kept, RECEIVER_URL);
    const retry = outboundRequest(structuredClone(kept), RECEIVER_URL);

    // Assess
    expect(retry).toEqual(first);
  });
});
