import type { EventBridgeEvent } from 'aws-lambda';

/** An event delivered by an EventBridge rule (asynchronous invocation). */
export function isEventBridgeEvent(event: unknown): event is EventBridgeEvent<string, unknown> {
  const e = event as Partial<EventBridgeEvent<string, unknown>> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.id === 'string' &&
    typeof e.source === 'string' &&
    typeof e['detail-type'] === 'string' &&
    'detail' in e
  );
}
