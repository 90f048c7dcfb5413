import { deliveryIdFor } from '../dedup/delivery-key';
import type { OutboundMessage } from '../delivery/deliver';
import type { AcceptedWebhook } from './accept-webhook';

/**
 * The message the relay delivers for an accepted webhook: its body, and everything ONEiO is to receive with it
 * (forwarded headers, query string, received-at, the source's ONEiO endpoint and envelope). Decided once, here,
 * and kept with the message, so every copy of it is sent the same way.
 */
export function webhookMessage(
  accepted: AcceptedWebhook,
  ids: { readonly relayId: string; readonly source: string; readonly receivedAt: number },
): OutboundMessage {
  return {
    relayId: ids.relayId,
    source: ids.source,
    deliveryId: deliveryIdFor(ids.source, accepted.json, accepted.deliveryId),
    body: accepted.json,
    receivedAt: ids.receivedAt,
    ...(Object.keys(accepted.forwardedHeaders).length > 0 && { forwardedHeaders: accepted.forwardedHeaders }),
    ...(accepted.forwardedQuery !== '' && { query: accepted.forwardedQuery }),
    ...(accepted.oneioEndpoint !== undefined && { oneioEndpoint: accepted.oneioEndpoint }),
    ...(accepted.envelope === true && { envelope: true }),
  };
}
