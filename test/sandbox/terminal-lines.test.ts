import { describe, expect, it } from 'vitest';
import type { ActivityEntry, OneioAttempt } from '../../infra/sandbox/activity';
import { describeMessage } from '../../infra/sandbox/sandbox';
import { terminalLine } from '../../infra/sandbox/terminal-lines';

const AT = new Date(2025, 4, 2, 14, 3, 11).getTime();

/** The headers the relay sends ONEiO, as the emulator records them (the token masked, as the sandbox keeps it). */
const SENT: Array<[string, string]> = [
  ['x-github-event', 'issues'],
  ['x-github-hook-id', '292430182'],
  ['x-relay-source', 'github'],
  ['x-relay-message-id', '246c0a1e-5f0e-4a55-9f55-2b1c1a6e3f10'],
  ['x-relay-delivery-id', '72d3162e-cc78-11e3-81ab-4c9367dc0958'],
  ['x-relay-received-at', '2025-05-02T12:03:10.905Z'],
  ['authorization', 'Bearer ••••••'],
  ['content-type', 'application/json'],
  ['host', '127.0.0.1:41234'],
  ['content-length', '19'],
];

function attempt(url: string, headers = SENT): OneioAttempt {
  return {
    emulatorId: 1,
    at: AT,
    url,
    headers,
    body: '{"action":"opened"}',
    bytes: 19,
    status: 200,
    byteIdentical: true,
    by: 'call',
  };
}

function entry(overrides: Partial<ActivityEntry> = {}): ActivityEntry {
  return {
    id: 'req-1',
    kind: 'webhook',
    at: AT,
    method: 'POST',
    path: '/webhooks/github?issue.key=ABC-1',
    source: 'github',
    request: { headers: [], body: '{"action":"opened"}', bytes: 19 },
    answer: { status: 200, body: '{}' },
    latencyMs: 312,
    relayId: '246c0a1e-5f0e-4a55-9f55-2b1c1a6e3f10',
    outcome: 'delivered',
    tokenRefreshed: true,
    coldStart: false,
    notes: [],
    oneio: [],
    ...overrides,
  };
}

describe('terminalLine', () => {
  it('shows where the message went in ONEiO, with its query, and the sender headers it carried', () => {
    // Act
    const line = terminalLine(
      { kind: 'entry', entry: entry({ oneio: [attempt('/api/v2?issue.key=ABC-1')] }) },
      false,
      AT,
    );

    // Assess
    expect(line).toBe(
      '14:03:11  POST /webhooks/github?issue.key=ABC-1  200 delivered  relay 246c0a1e…  312 ms  ' +
        '→ ONEiO /api/v2?issue.key=ABC-1 [x-github-event: issues; x-github-hook-id: 292430182]  (token refreshed)',
    );
  });

  it('shows the URL alone for a message without forwarded headers, such as an event', () => {
    // Act
    const line = terminalLine(
      {
        kind: 'entry',
        entry: entry({
          kind: 'event',
          source: 'eventbridge:my.app',
          detailType: 'Order Placed',
          tokenRefreshed: false,
          oneio: [
            attempt(
              '/api/v2',
              SENT.filter(([name]) => !name.startsWith('x-github')),
            ),
          ],
        }),
      },
      false,
      AT,
    );

    // Assess
    expect(line).toBe(
      '14:03:11  EVENT my.app "Order Placed"  200 delivered  relay 246c0a1e…  312 ms  → ONEiO /api/v2',
    );
  });

  it('leaves ONEiO out when nothing was sent there', () => {
    const line = terminalLine(
      {
        kind: 'entry',
        entry: entry({ answer: { status: 401, body: '{}' }, outcome: 'refused', tokenRefreshed: false }),
      },
      false,
      AT,
    );
    expect(line).not.toContain('ONEiO');
  });

  it('shows the last attempt when there were several', () => {
    const line = terminalLine(
      {
        kind: 'entry',
        entry: entry({ oneio: [attempt('/api/v2?first=1'), attempt('/api/v2?issue.key=ABC-1')] }),
      },
      false,
      AT,
    );
    expect(line).toContain('→ ONEiO /api/v2?issue.key=ABC-1 [');
  });
});

describe('describeMessage', () => {
  it("prints the URL with its query, the relay's and the forwarded headers, and the body — never the token", () => {
    // Act
    const text = describeMessage(3, {
      body: '{"action":"opened"}',
      request: {
        id: 3,
        url: '/api/v2?issue.key=ABC-1',
        headers: [...SENT.slice(0, 6), ['authorization', 'Bearer secret-token-value']],
        rawBody: Buffer.from('{"action":"opened"}'),
        receivedAt: AT,
      },
    });

    // Assess
    expect(text).toBe(
      [
        '[oneio] message 3 received (19 bytes): POST /api/v2?issue.key=ABC-1',
        '         x-relay-source: github; x-relay-message-id: 246c0a1e-5f0e-4a55-9f55-2b1c1a6e3f10; ' +
          'x-relay-delivery-id: 72d3162e-cc78-11e3-81ab-4c9367dc0958; x-relay-received-at: 2025-05-02T12:03:10.905Z; ' +
          'x-github-event: issues; x-github-hook-id: 292430182',
        '         {"action":"opened"}',
      ].join('\n'),
    );
    expect(text).not.toContain('secret-token-value');
  });
});
