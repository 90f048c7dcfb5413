import { OUTBOX_SHARDS } from '../../contract';

/** Most shards a reader may be asked to query; every sweep round queries each of them. */
export const MAX_OUTBOX_SHARDS = 64;

/**
 * The shard (0 to `shards` − 1) of an outbox item: 32-bit FNV-1a of its relay id. Deterministic across instances
 * and releases, so every writer of one item puts it in the same shard; relay ids are random UUIDs or EventBridge
 * event ids, which FNV spreads evenly.
 */
export function outboxShard(relayId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < relayId.length; i++) {
    hash ^= relayId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

/** The index partition of one queue's shard: `due#3`, `parked#0`. */
export function shardPartition(state: 'due' | 'parked', shard: number): string {
  return `${state}#${shard}`;
}

/** Checks a shard count before any item is written with it. */
export function checkShardCount(shards: number = OUTBOX_SHARDS): number {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_OUTBOX_SHARDS) {
    throw new RangeError(
      `The outbox shard count must be an integer from 1 to ${MAX_OUTBOX_SHARDS} (got ${shards})`,
    );
  }
  return shards;
}
