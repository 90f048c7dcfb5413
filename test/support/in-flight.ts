import type { Exchange } from '../faults/fault-proxy';

/** The header every POST to ONEiO carries: the same value on every copy of one message. */
export const MESSAGE_ID = 'x-relay-message-id';

/** The message id an exchange carried, if any. */
export function messageIdOf(exchange: Exchange): string | undefined {
  const value = exchange.headers[MESSAGE_ID];
  return typeof value === 'string' ? value : undefined;
}

/**
 * Pairs of copies of one message that were in flight at the receiver at the same time: the second started before
 * the first was over for the receiver (answered, dropped, or committed late). The relay must never cause one.
 */
export function overlappingCopies(exchanges: readonly Exchange[]): { messageId: string; at: number }[] {
  const byMessage = new Map<string, Exchange[]>();
  for (const exchange of exchanges) {
    const id = messageIdOf(exchange);
    if (id === undefined) continue;
    byMessage.set(id, [...(byMessage.get(id) ?? []), exchange]);
  }
  const overlaps: { messageId: string; at: number }[] = [];
  for (const [messageId, copies] of byMessage) {
    const sorted = [...copies].sort((a, b) => a.startedAt - b.startedAt);
    for (let i = 1; i < sorted.length; i++) {
      const previous = sorted[i - 1] as Exchange;
      const next = sorted[i] as Exchange;
      if (previous.endedAt === undefined || next.startedAt < previous.endedAt) {
        overlaps.push({ messageId, at: next.startedAt });
      }
    }
  }
  return overlaps;
}
