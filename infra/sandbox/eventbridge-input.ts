import { randomUUID } from 'node:crypto';
import type { EventBridgeEvent } from 'aws-lambda';

export class EventInputError extends Error {
  override readonly name = 'EventInputError';
}

/**
 * Completes what a caller gives (`source`, `detail-type` or `detailType`, `detail`, optionally any other event
 * field) into an event as an EventBridge rule delivers it to Lambda: `version`, a fresh `id`, `time`, `account`,
 * `region`, `resources`. Throws {@link EventInputError} naming the missing or wrong field.
 */
export function toEventBridgeEvent(
  input: unknown,
  defaults: { account: string; region: string },
  now = Date.now(),
): EventBridgeEvent<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new EventInputError('The event must be a JSON object with source, detail-type and detail');
  }
  const fields = input as Record<string, unknown>;
  const detailType = fields['detail-type'] ?? fields.detailType;
  const source = fields.source;
  const detail = fields.detail ?? {};
  if (typeof source !== 'string' || source.trim() === '')
    throw new EventInputError('"source" must be a non-empty string');
  if (typeof detailType !== 'string' || detailType.trim() === '') {
    throw new EventInputError('"detail-type" must be a non-empty string');
  }
  // EventBridge only accepts a JSON object as detail.
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) {
    throw new EventInputError('"detail" must be a JSON object');
  }
  const { detailType: _camel, ...rest } = fields;
  return {
    version: '0',
    id: randomUUID(),
    account: defaults.account,
    time: new Date(now).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: defaults.region,
    resources: [],
    ...rest,
    source,
    'detail-type': detailType,
    detail,
  } as EventBridgeEvent<string, unknown>;
}
