import type { EventBridgeEvent } from 'aws-lambda';
import type { OnceResult } from '../core/dedup/relay-once';
import type { OutboundMessage } from '../core/delivery/deliver';
import type { Telemetry } from './telemetry';

export interface EventBridgeDeps {
  readonly relay: (message: OutboundMessage, deadline: number, lapseAt: number) => Promise<OnceResult>;
  readonly telemetry: Telemetry;
  readonly now: () => number;
  /** The ONEiO endpoint of the rule that sent the event (see `oneioEndpointOfInvocation`); absent: the default. */
  readonly oneioEndpoint?: string;
}

/** Time kept back from the function timeout for writing to the outbox and logging. */
const RESERVE_MS = 3_000;

/** Thrown so Lambda's asynchronous retries and the on-failure destination keep the event. */
export class EventNotRelayedError extends Error {
  override readonly name = 'EventNotRelayedError';
}

/**
 * An event from an EventBridge rule: ONEiO receives the whole event (`id`, `source`, `detail-type`, `detail`, …),
 * with `X-Relay-Source: eventbridge:<source>`, through the rule's ONEiO endpoint. When it can be neither delivered
 * nor kept (or its endpoint has no credentials), the handler throws: the event is then Lambda's to retry.
 */
export async function handleEventBridge(
  event: EventBridgeEvent<string, unknown>,
  remainingMs: number,
  deps: EventBridgeDeps,
): Promise<void> {
  const started = deps.now();
  const message: OutboundMessage = {
    relayId: event.id,
    source: `eventbridge:${event.source}`,
    deliveryId: event.id,
    body: JSON.stringify(event),
    receivedAt: started,
    ...(deps.oneioEndpoint !== undefined && { oneioEndpoint: deps.oneioEndpoint }),
  };
  const result = await deps.relay(
    message,
    started + Math.max(0, remainingMs - RESERVE_MS),
    started + remainingMs,
  );
  const fields = {
    relayId: message.relayId,
    source: message.source,
    detailType: event['detail-type'],
    ...(deps.oneioEndpoint !== undefined && { oneioEndpoint: deps.oneioEndpoint }),
    outcome: result.status === 'duplicate' ? `duplicate-of-${result.state}` : result.status,
    attempts: result.attempts,
    latencyMs: deps.now() - started,
    ...('lastError' in result && { lastError: result.lastError }),
    ...('held' in result && result.held !== undefined && { held: result.held }),
  };
  if (result.status === 'failed') {
    deps.telemetry.logger.error('Event not relayed; leaving it to Lambda retries', fields);
    throw new EventNotRelayedError(
      `Event ${event.id} could be neither delivered nor kept: ${result.lastError}`,
    );
  }
  if (result.status === 'duplicate' && result.state === 'in_progress') {
    // Another copy of this event (EventBridge delivers at least once) is being relayed right now and may still fail
    // without being kept: Lambda's retry, a minute later, finds it delivered or queued, or takes it over.
    deps.telemetry.logger.warn(
      'Event in flight in another invocation; leaving this copy to Lambda retries',
      fields,
    );
    throw new EventNotRelayedError(`Event ${event.id} is being relayed by another invocation; retry later`);
  }
  deps.telemetry.logger.info('Event handled', fields);
}
