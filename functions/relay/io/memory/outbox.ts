import type { Outbox, OutboxItem } from '../../ports/outbox';

/** In-memory {@link Outbox} with the DynamoDB one's conditional semantics, for unit tests and benchmarks. */
export class InMemoryOutbox implements Outbox {
  private readonly items = new Map<string, OutboxItem>();
  /** Who holds each claimed item. */
  private readonly claims = new Map<string, string>();

  async add(item: OutboxItem): Promise<void> {
    // Already there under this relay id: kept by another copy of the same message.
    if (!this.items.has(item.relayId)) this.items.set(item.relayId, item);
  }

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return this.queue('due')
      .filter((i) => i.dueAt <= now)
      .slice(0, limit);
  }

  async claim(item: OutboxItem, until: number, claimToken: string): Promise<boolean> {
    const current = this.items.get(item.relayId);
    if (current?.state !== 'due' || current.dueAt !== item.dueAt) return false;
    this.items.set(item.relayId, { ...current, dueAt: until });
    this.claims.set(item.relayId, claimToken);
    return true;
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
