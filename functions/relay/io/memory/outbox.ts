import type { Outbox, OutboxItem } from '../../ports/outbox';

/** In-memory {@link Outbox} with the DynamoDB one's conditional semantics, for unit tests and benchmarks. */
export class InMemoryOutbox implements Outbox {
  private readonly items = new Map<string, OutboxItem>();

  async add(item: OutboxItem): Promise<void> {
    if (this.items.has(item.relayId)) throw new Error(`Outbox item ${item.relayId} exists`);
    this.items.set(item.relayId, item);
  }

  async due(now: number, limit: number): Promise<OutboxItem[]> {
    return this.queue('due')
      .filter((i) => i.dueAt <= now)
      .slice(0, limit);
  }

  async claim(item: OutboxItem, until: number): Promise<boolean> {
    const current = this.items.get(item.relayId);
    if (current?.state !== 'due' || current.dueAt !== item.dueAt) return false;
    this.items.set(item.relayId, { ...current, dueAt: until });
    return true;
  }

  async remove(relayId: string): Promise<void> {
    this.items.delete(relayId);
  }

  async reschedule(
    relayId: string,
    update: { attempts: number; retries: number; dueAt: number; lastError: string },
  ): Promise<void> {
    this.update(relayId, { ...update, state: 'due' });
  }

  async park(
    relayId: string,
    update: { attempts: number; parkedAt: number; lastError: string },
  ): Promise<void> {
    this.update(relayId, {
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
    return this.items.delete(relayId);
  }

  private queue(state: 'due' | 'parked'): OutboxItem[] {
    return [...this.items.values()].filter((i) => i.state === state).sort((a, b) => a.dueAt - b.dueAt);
  }

  private update(relayId: string, changes: Partial<OutboxItem>): void {
    const item = this.items.get(relayId);
    if (!item) throw new Error(`Outbox item ${relayId} does not exist`);
    this.items.set(relayId, { ...item, ...changes });
  }
}
