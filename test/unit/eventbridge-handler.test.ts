import type { EventBridgeEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { OnceResult } from '../../functions/relay/core/dedup/relay-once';
import type { OutboundMessage } from '../../functions/relay/core/delivery/deliver';
import { isHttpApiEvent } from '../../functions/relay/events/api-gateway';
import { isEventBridgeEvent, oneioEndpointOfInvocation } from '../../functions/relay/events/eventbridge';
import { EventNotRelayedError, handleEventBridge } from '../../functions/relay/events/eventbridge-handler';
import { loadFixture } from '../fixtures/load';
import { captureTelemetry } from './capturing-telemetry';
import { FakeClock } from './fakes';

/** A 60 s function timeout, just invoked. */
const REMAINING_MS = 60_000;

function harness(result: OnceResult) {
  const clock = new FakeClock();
  const captured = captureTelemetry();
  const relay = vi.fn(async (_message: OutboundMessage, _deadline: number): Promise<OnceResult> => {
    clock.advance(250);
    return result;
  });
  const handle = (
    event: EventBridgeEvent<string, unknown>,
    remainingMs = REMAINING_MS,
    oneioEndpoint?: string,
  ) =>
    handleEventBridge(event, remainingMs, {
      relay,
      telemetry: captured.telemetry,
      now: clock.now,
      ...(oneioEndpoint !== undefined && { oneioEndpoint }),
    });
  const sent = (): OutboundMessage => {
    const call = relay.mock.calls[0];
    if (!call) throw new Error('the relay was not called');
    return call[0];
  };
  return { clock, captured, relay, handle, sent };
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('handleEventBridge', () => {
  it('relays the whole event, exactly as EventBridge delivered it', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });

    // Act
    await h.handle(loadFixture('ec2StateChange'));

    // Assess
    expect(JSON.parse(h.sent().body)).toEqual(loadFixture('ec2StateChange'));
  });

  it('uses the event id as relay id and delivery id, and names the event source', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });
    const event = loadFixture('ec2StateChange');

    // Act
    await h.handle(event);

    // Assess
    expect(h.sent()).toMatchObject({
      relayId: '7bf73129-1428-4cd3-a780-95db273d1602',
      deliveryId: '7bf73129-1428-4cd3-a780-95db273d1602',
      source: 'eventbridge:aws.ec2',
    });
  });

  it('records when it received the event, and no ONEiO endpoint unless its rule names one', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });
    const started = h.clock.now();

    // Act
    await h.handle(loadFixture('ec2StateChange'));

    // Assess
    expect(h.sent().receivedAt).toBe(started);
    expect(h.sent()).not.toHaveProperty('oneioEndpoint');
    expect(h.sent()).not.toHaveProperty('envelope');
  });

  it("relays through the rule's ONEiO endpoint, and names it in the log line", async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });

    // Act
    await h.handle(loadFixture('ec2StateChange'), REMAINING_MS, 'itsm');

    // Assess
    expect(h.sent().oneioEndpoint).toBe('itsm');
    expect(h.captured.logs().find((l) => l.message === 'Event handled')).toMatchObject({
      oneioEndpoint: 'itsm',
    });
  });

  it('throws, naming the endpoint, when its credentials are not in the secret, so Lambda retries it', async () => {
    // Prepare: what relayOnce answers for a message whose endpoint has no credential pair
    const lastError = 'Secret "s" holds no credentials for ONEiO endpoint "itsm"';
    const h = harness({ status: 'failed', attempts: 0, lastError, inDoubt: false });

    // Act
    const handling = h.handle(loadFixture('ec2StateChange'), REMAINING_MS, 'itsm');

    // Assess
    await expect(handling).rejects.toThrow(EventNotRelayedError);
    await expect(handling).rejects.toThrow(lastError);
  });

  it('relays an event with an empty detail, such as a scheduled event, as a whole too', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });

    // Act
    await h.handle(loadFixture('scheduled'));

    // Assess
    expect(JSON.parse(h.sent().body)).toEqual(loadFixture('scheduled'));
  });

  it('keeps three seconds of the remaining time back for the outbox write and the log', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });
    const started = h.clock.now();

    // Act
    await h.handle(loadFixture('ec2StateChange'), REMAINING_MS);

    // Assess
    expect(h.relay.mock.calls[0]?.[1]).toBe(started + REMAINING_MS - 3_000);
  });

  it('never hands the relay a deadline in the past', async () => {
    // Prepare
    const h = harness({ status: 'delivered', attempts: 1 });
    const started = h.clock.now();

    // Act
    await h.handle(loadFixture('ec2StateChange'), 1_000);

    // Assess
    expect(h.relay.mock.calls[0]?.[1]).toBe(started);
  });

  it.each([
    ['delivered', { status: 'delivered', attempts: 1 }],
    ['queued', { status: 'queued', attempts: 5, lastError: 'ONEiO receiver answered 503', inDoubt: false }],
    ['parked', { status: 'parked', attempts: 1, lastError: 'ONEiO receiver answered 400', inDoubt: false }],
  ] as const)('completes normally when the event was %s', async (_label, result) => {
    // Prepare
    const h = harness(result);

    // Act
    const handling = h.handle(loadFixture('ec2StateChange'));

    // Assess
    await expect(handling).resolves.toBeUndefined();
  });

  it('throws when the event could be neither delivered nor kept, so Lambda retries it', async () => {
    // Prepare
    const h = harness({
      status: 'failed',
      attempts: 3,
      lastError: 'ONEiO receiver answered 503; outbox down',
      inDoubt: false,
    });

    // Act
    const handling = h.handle(loadFixture('ec2StateChange'));

    // Assess
    await expect(handling).rejects.toThrow(EventNotRelayedError);
    await expect(handling).rejects.toThrow(/7bf73129-1428-4cd3-a780-95db273d1602/);
  });

  it.each(['delivered', 'queued'] as const)(
    'completes normally for a copy of an event already %s (nothing is sent again)',
    async (state) => {
      // Prepare
      const h = harness({ status: 'duplicate', state, relayId: 'first-copy', attempts: 0 });

      // Act
      const handling = h.handle(loadFixture('ec2StateChange'));

      // Assess
      await expect(handling).resolves.toBeUndefined();
    },
  );

  it('throws for a copy of an event another invocation is relaying right now, so Lambda retries it', async () => {
    // Prepare: the other copy may still fail without being kept; dropping this one could lose the event
    const h = harness({ status: 'duplicate', state: 'in_progress', relayId: 'first-copy', attempts: 0 });

    // Act
    const handling = h.handle(loadFixture('ec2StateChange'));

    // Assess
    await expect(handling).rejects.toThrow(EventNotRelayedError);
    expect(h.captured.logs()).toEqual([
      expect.objectContaining({ level: 'WARN', outcome: 'duplicate-of-in_progress' }),
    ]);
  });

  it('logs one line with the event id, detail type, outcome and latency', async () => {
    // Prepare
    const h = harness({
      status: 'queued',
      attempts: 2,
      lastError: 'ONEiO receiver answered 503',
      inDoubt: false,
    });

    // Act
    await h.handle(loadFixture('ec2StateChange'));

    // Assess
    expect(h.captured.logs()).toEqual([
      expect.objectContaining({
        level: 'INFO',
        relayId: '7bf73129-1428-4cd3-a780-95db273d1602',
        source: 'eventbridge:aws.ec2',
        detailType: 'EC2 Instance State-change Notification',
        outcome: 'queued',
        attempts: 2,
        latencyMs: 250,
        lastError: 'ONEiO receiver answered 503',
      }),
    ]);
  });

  it('logs a failure at error level without the event detail', async () => {
    // Prepare
    const h = harness({ status: 'failed', attempts: 1, lastError: 'no outbox', inDoubt: false });

    // Act
    await h.handle(loadFixture('ec2StateChange')).catch(() => undefined);

    // Assess
    expect(h.captured.logs()).toEqual([expect.objectContaining({ level: 'ERROR', outcome: 'failed' })]);
    expect(h.captured.output()).not.toContain('i-0abcd1111efgh2222');
  });
});

describe('oneioEndpointOfInvocation', () => {
  const ARN = 'arn:aws:lambda:eu-west-1:123456789012:function:OneioRelay-qa-RelayFunction1A2B3C';

  it.each([
    [`${ARN}:oneio-endpoint-itsm`, 'itsm'],
    [`${ARN}:oneio-endpoint-hr-2`, 'hr-2'],
    [ARN, undefined],
    [`${ARN}:$LATEST`, undefined],
    [`${ARN}:outbox-sweep`, undefined],
    [`${ARN}:7`, undefined],
    [`${ARN}:oneio-endpoint-`, undefined],
    [`${ARN}:oneio-endpoint-Not_A_Name`, undefined],
    [undefined, undefined],
  ])('reads %s as endpoint %s', (arn, endpoint) => {
    expect(oneioEndpointOfInvocation(arn)).toBe(endpoint);
  });
});

describe('event shapes', () => {
  it.each(['ec2StateChange', 'scheduled'] as const)(
    'recognises the %s fixture as an EventBridge event',
    (name) => {
      // Act
      const event = loadFixture(name);

      // Assess
      expect(isEventBridgeEvent(event)).toBe(true);
      expect(isHttpApiEvent(event)).toBe(false);
    },
  );

  it.each(['webhookJson', 'webhookFormBase64'] as const)(
    'recognises the %s fixture as an HTTP API event',
    (name) => {
      // Act
      const event = loadFixture(name);

      // Assess
      expect(isHttpApiEvent(event)).toBe(true);
      expect(isEventBridgeEvent(event)).toBe(false);
    },
  );

  it.each([
    null,
    undefined,
    'text',
    42,
    {},
    { version: '2.0' },
    { id: 'x', source: 'y', 'detail-type': 'z' },
  ])('recognises nothing in %j', (event) => {
    expect([isHttpApiEvent(event), isEventBridgeEvent(event)]).toEqual([false, false]);
  });
});
