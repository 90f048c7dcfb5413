import { createHash } from 'node:crypto';

/**
 * The id that makes two requests "the same message": the sender's own delivery id when its scheme has one
 * (`X-GitHub-Delivery`, `webhook-id`, the Stripe event id, the EventBridge event id), else a hash of source and body,
 * so a sender without ids that repeats a request byte for byte is still de-duplicated.
 */
export function deliveryIdFor(source: string, body: string, senderId: string | undefined): string {
  if (senderId !== undefined) return senderId;
  return `sha256:${createHash('sha256').update(source).update('\n').update(body).digest('hex')}`;
}

/** Store key of a de-duplication record. */
export function dedupKey(source: string, deliveryId: string): string {
  return `dedup#${source}#${deliveryId}`;
}
