import type { Outbox, OutboxItem, QueuedEntry, QueueSummary } from '../../ports/outbox';

/** In-memory {@link Outbox} with the DynamoDB one's conditional semantics, for unit tests and benchmarks. */
export class InMemoryOutbox implements Outbox {
  private readonly items = new Map<string, OutboxItem>();
  /** Who holds each claimed item. */
  private readonly claims = new Map<string, string>();

  async add(item: OutboxItem): Promise<void> {
    // Already there under this relay id: kept by another copy of the same message.
    if (!this.items.has(item.relayId)) this.items.set(item.relayId, item);
  }

  async due(now: number, limit: number): Promise<QueuedEntry[]> {
    return this.queue('due')
      .filter((i) => i.dueAt <= now)
      .slice(0, limit)
      .map(({ relayId, dueAt, firstSeenAt }) => ({ relayId, dueAt, firstSeenAt }));
  }

  async claim(entry: QueuedEntry, until: number, claimToken: string): Promise<OutboxItem | undefined> {
    const current = this.items.get(entry.relayId);
    if (current?.state !== 'due' || current.dueAt !== entry.dueAt) return undefined;
    const claimed = { ...current, dueAt: until };
    this.items.set(entry.relayId, claimed);
    this.claims.set(entry.relayId, claimToken);
    return claimed;
  }

  async remove(relayId: string, claimToken: string): Promise<boolean> {
    if (!this.items.has(relayId)) return true;
    if (this.claims.get(relayId) !== claimToken) return false;
    this.items.delete(relayId);
    this.claims.delete(relayId);
    return true;
  }

  async reschedule(
    relayId: string,
    claimToken: string,
    update: { attempts: number; retries: number; dueAt: number; lastError: string },
  ): Promise<boolean> {
    return this.transition(relayId, claimToken, { ...update, state: 'due' });
  }

  async park(
    relayId: string,
    claimToken: string,
    update: { attempts: number; parkedAt: number; lastError: string },
  ): Promise<boolean> {
    return this.transition(relayId, claimToken, {
      attempts: update.attempts,
      lastError: update.lastError,
      dueAt: update.parkedAt,
      state: 'parked',
    });
  }

  async get(relayId: string): Promise<OutboxItem | undefined> {
    return this.items.get(relayId);
  }

  async list(state: 'due' | 'parked', limit: number): Promise<OutboxItem[]> {
    return this.queue(state).slice(0, limit);
  }

  async count(state: 'due' | 'parked', max: number): Promise<number> {
    return Math.min(max, this.queue(state).length);
  }

  async summary(state: 'due' | 'parked', max: number): Promise<QueueSummary> {
    const items = this.queue(state).slice(0, max);
    if (items.length === 0) return { items: 0 };
    return {
      items: items.length,
      oldestFirstSeenAt: Math.min(...items.map((i) => i.firstSeenAt)),
      earliestDueAt: Math.min(...items.map((i) => i.dueAt)),
    };
  }

  async redrive(relayId: string, now: number): Promise<boolean> {
    const item = this.items.get(relayId);
    if (item?.state !== 'parked') return false;
    this.items.set(relayId, { ...item, state: 'due', dueAt: now, firstSeenAt: now, retries: 0 });
    return true;
  }

  async purge(relayId: string): Promise<boolean> {
    this.claims.delete(relayId);
    return this.items.delete(relayId);
  }

  private queue(state: 'due' | 'parked'): OutboxItem[] {
    return [...this.items.values()].filter((i) => i.state === state).sort((a, b) => a.dueAt - b.dueAt);
  }

  private transition(relayId: string, claimToken: string, changes: Partial<OutboxItem>): boolean {
    const item = this.items.get(relayId);
    if (!item || this.claims.get(relayId) !== claimToken) return false;
    this.items.set(relayId, { ...item, ...changes });
    this.claims.delete(relayId);
    return true;
  }
}
