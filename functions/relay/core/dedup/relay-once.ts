import { randomUUID } from 'node:crypto';
import type { DedupState, DedupStore } from '../../ports/dedup-store';
import type { OutboundMessage } from '../delivery/deliver';
import type { RelayResult } from '../relay';
import { dedupKey } from './delivery-key';

export type OnceResult =
  | RelayResult
  /** Seen before: nothing was sent; `relayId` is the first copy's. */
  | {
      readonly status: 'duplicate';
      readonly state: DedupState;
      readonly relayId: string;
      readonly attempts: 0;
    };

export interface RelayOnceDeps {
  readonly dedup: DedupStore;
  readonly relay: (message: OutboundMessage, deadline: number) => Promise<RelayResult>;
  readonly now: () => number;
  /** How long a delivery id is remembered. */
  readonly ttlSeconds: number;
  /** The store failed; the message is relayed without de-duplication (at least once beats at most once). */
  readonly onStoreError?: (error: unknown) => void;
}

/**
 * Relays a message unless its (source, delivery id) was seen: the first copy claims the id with a conditional
 * write, later copies get the first copy's relay id and state. The claim lapses at `lapseAt` (the end of this
 * invocation), so a crashed attempt never blocks the sender's retry.
 */
export async function relayOnce(
  message: OutboundMessage,
  deadline: number,
  lapseAt: number,
  deps: RelayOnceDeps,
): Promise<OnceResult> {
  const key = dedupKey(message.source, message.deliveryId);
  // This attempt's own token: copies of one EventBridge event share their relay id, so it cannot tell them apart.
  const claimToken = randomUUID();
  let claimed = false;
  try {
    const claim = await deps.dedup.claim(key, {
      relayId: message.relayId,
      claimToken,
      now: deps.now(),
      lapseAt,
      ttlSeconds: deps.ttlSeconds,
    });
    if (claim.status === 'duplicate') return { ...claim, attempts: 0 };
    claimed = true;
  } catch (error) {
    deps.onStoreError?.(error);
  }

  const result = await deps.relay(message, deadline);
  if (!claimed) return result;
  try {
    if (result.status === 'failed') await deps.dedup.release(key, claimToken);
    else await deps.dedup.complete(key, claimToken, result.status === 'delivered' ? 'delivered' : 'queued');
  } catch (error) {
    // The claim lapses by itself; a late duplicate is then relayed again rather than refused.
    deps.onStoreError?.(error);
  }
  return result;
}
