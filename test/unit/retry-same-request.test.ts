import { describe, expect, it } from 'vitest';
import type { OutboundMessage } from '../../functions/relay/core/delivery/deliver';
import { outboundRequest } from '../../functions/relay/core/delivery/outbound-request';
import { OneioEndpointUnconfiguredError, TokenUnavailableError } from '../../functions/relay/core/errors';
import { OutboxSink } from '../../functions/relay/core/outbox/outbox-sink';
import { sweepOutbox } from '../../functions/relay/core/outbox/sweep';
import { relay } from '../../functions/relay/core/relay';
import { InMemoryOutbox } from '../../functions/relay/io/memory/outbox';
import { FakeClock, FakeTokenSource, type Scripted, ScriptedReceiver } from './fakes';

/**
 * A message queued after its first attempt is sent again by the sweep, and again after an operator's redrive: every
 * copy must reach ONEiO at the same URL, with the same headers and body, through the same credential pair.
 */

const RECEIVER_URL = 'https://rest-receiver-test.service-flow.com/api/v2';
const DAY_MS = 24 * 3600_000;

const MESSAGE: OutboundMessage = {
  relayId: 'relay-7c1e',
  source: 'github',
  deliveryId: 'gh-delivery-42',
  body: '{"z":1,"id":12345678901234567890123}',
  receivedAt: Date.parse('2024-03-12T18:59:58.125Z'),
  forwardedHeaders: { 'x-github-event': 'issues', 'x-github-hook-id': '292430182' },
  query: 'issue.key=ABC-1&project.key=OPS',
  oneioEndpoint: 'itsm',
  envelope: true,
};

/** ONEiO answering `answer` until told otherwise; records every request as the scripted receiver does. */
class SwitchReceiver extends ScriptedReceiver {
  answer: Scripted;

  constructor(answer: Scripted, clock: FakeClock) {
    super([answer], clock, 10);
    this.answer = answer;
  }

  override async send(...args: Parameters<ScriptedReceiver['send']>) {
    await super.send(...args);
    if (this.answer instanceof Error) throw this.answer;
    return this.answer;
  }
}

function world(answer: Scripted) {
  const clock = new FakeClock();
  const outbox = new InMemoryOutbox();
  const tokens = new FakeTokenSource();
  const receiver = new SwitchReceiver(answer, clock);
  const common = { tokens, receiver, now: clock.now, sleep: clock.sleep, random: () => 0.5 };
  return {
    clock,
    outbox,
    tokens,
    receiver,
    relay: () => relay(MESSAGE, clock.now() + 8_000, { ...common, sink: new OutboxSink(outbox, clock.now) }),
    sweep: () => sweepOutbox(clock.now() + 20_000, { ...common, outbox, maxAgeMs: DAY_MS }),
    /** What went over the wire for each attempt. */
    requests: () => receiver.requests.map((r) => outboundRequest(r.message, RECEIVER_URL)),
  };
}

describe('a retried message', () => {
  it('is sent by the sweep exactly as in the call, through the same ONEiO endpoint', async () => {
    // Prepare: ONEiO fails the call's attempts, then takes the sweep's
    const w = world({ status: 503 });
    const result = await w.relay();
    expect(result.status).toBe('queued');
    const callAttempts = w.receiver.requests.length;

    // Act
    w.receiver.answer = { status: 200 };
    w.clock.advance(10 * 60_000);
    const report = await w.sweep();

    // Assess
    expect(report.delivered).toBe(1);
    const [first, ...later] = w.requests();
    expect(later).toHaveLength(w.receiver.requests.length - 1);
    for (const copy of later) expect(copy).toEqual(first);
    expect(first?.url).toBe(`${RECEIVER_URL}?issue.key=ABC-1&project.key=OPS`);
    expect(first?.headers['x-relay-received-at']).toBe('2024-03-12T18:59:58.125Z');
    expect(first?.body.endsWith(`,"payload":${MESSAGE.body}}`)).toBe(true);
    // One token look-up per delivery: the call's and the sweep's, both for the message's endpoint.
    expect(w.tokens.endpoints).toEqual(['itsm', 'itsm']);
    expect(callAttempts).toBeGreaterThan(1);
  });

  it('is sent after a redrive exactly as it was first sent', async () => {
    // Prepare: ONEiO refuses the message (parked at once), the operator redrives it later
    const w = world({ status: 422 });
    expect((await w.relay()).status).toBe('parked');
    w.receiver.answer = { status: 200 };
    w.clock.advance(3600_000);
    expect(await w.outbox.redrive(MESSAGE.relayId, w.clock.now())).toBe(true);

    // Act
    await w.sweep();

    // Assess
    const [first, redriven] = w.requests();
    expect(w.requests()).toHaveLength(2);
    expect(redriven).toEqual(first);
    expect(await w.outbox.get(MESSAGE.relayId)).toBeUndefined();
  });

  it('whose ONEiO endpoint lost its credentials is retried later, not parked', async () => {
    // Prepare: queued, then the pair is taken out of the secret
    const w = world({ status: 503 });
    await w.relay();
    w.tokens.failGets(
      new TokenUnavailableError('No usable token: the token request failed', {
        cause: new OneioEndpointUnconfiguredError(
          'Secret "s" holds no credentials for ONEiO endpoint "itsm"',
          'itsm',
        ),
      }),
    );
    w.clock.advance(10 * 60_000);
    const posts = w.receiver.requests.length;

    // Act
    const report = await w.sweep();

    // Assess
    expect(report).toMatchObject({ rescheduled: 1, parked: 0 });
    expect(w.receiver.requests).toHaveLength(posts);
    expect(await w.outbox.get(MESSAGE.relayId)).toMatchObject({
      state: 'due',
      lastError: 'Secret "s" holds no credentials for ONEiO endpoint "itsm"',
      oneioEndpoint: 'itsm',
    });
  });
});
