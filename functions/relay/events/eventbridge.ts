import type { EventBridgeEvent } from 'aws-lambda';
import { ENDPOINT_ALIAS_PREFIX } from '../contract';
import { ONEIO_ENDPOINT_NAME_PATTERN } from '../core/inbound/source-declaration';

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

/**
 * The ONEiO endpoint an event is for, read from the qualifier the function was invoked through
 * (`arn:…:function:<name>:oneio-endpoint-itsm` → `itsm`). A rule that names an endpoint targets that endpoint's
 * alias, so the event reaches the function exactly as EventBridge built it; a rule that names none invokes the
 * function itself, and so does anything else (undefined: the default pair).
 */
export function oneioEndpointOfInvocation(invokedFunctionArn: string | undefined): string | undefined {
  const qualifier = invokedFunctionArn?.split(':')[7];
  if (qualifier === undefined || !qualifier.startsWith(ENDPOINT_ALIAS_PREFIX)) return undefined;
  const name = qualifier.slice(ENDPOINT_ALIAS_PREFIX.length);
  return ONEIO_ENDPOINT_NAME_PATTERN.test(name) ? name : undefined;
}
