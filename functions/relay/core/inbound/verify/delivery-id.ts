const MAX_LENGTH = 256;
/** Visible ASCII only: the id becomes part of a DynamoDB key and of log lines. */
const VISIBLE_ASCII = /^[\x21-\x7e]+$/;

/**
 * Returns `value` when it is usable as a de-duplication id, otherwise `undefined` so that the caller falls back
 * to a hash of the body. Senders' ids (UUIDs, `msg_…`, `evt_…`) are short printable strings; anything else is
 * not worth trusting as a key.
 */
export function deliveryIdFrom(value: unknown): string | undefined {
  return typeof value === 'string' && value.length <= MAX_LENGTH && VISIBLE_ASCII.test(value)
    ? value
    : undefined;
}
