import type { Outbox } from '../../ports/outbox';
import type { Random } from '../backoff';
import type { OutboundMessage } from '../delivery/deliver';
import { NotKeptError, type Undelivered, type UndeliveredSink } from '../relay';
import { outboxRetryDelay } from './retry-schedule';

/**
 * An attempt in doubt may still be in ONEiO's hands: its next copy waits at least this long, so two copies of one
 * message are never in flight at once.
 */
export const IN_DOUBT_RETRY_AFTER_MS = 60_000;

/**
 * Keeps what could not be delivered in the call: transient failures become due for the sweep, refusals by ONEiO
 * are parked at once for an operator (retrying an unchanged message that was refused cannot help).
 */
export class OutboxSink implements UndeliveredSink {
  constructor(
    private readonly outbox: Outbox,
    private readonly now: () => number = () => Date.now(),
    private readonly random: Random = Math.random,
  ) {}

  async keep(
    message: OutboundMessage,
    outcome: Undelivered,
    options: { held?: boolean } = {},
  ): Promise<'queued' | 'parked'> {
    const now = this.now();
    const parked = outcome.status === 'rejected';
    // Never sent: no retry step to wait out; the sweep itself waits for the hold to end.
    const dueAt = parked || options.held ? now : now + this.firstRetryDelay(outcome);
    try {
      await this.outbox.add({
        ...message,
        state: parked ? 'parked' : 'due',
        attempts: outcome.attempts,
        retries: 0,
        firstSeenAt: now,
        dueAt,
        lastError: outcome.lastError,
      });
    } catch (error) {
      throw new NotKeptError('The outbox write failed', { cause: error });
    }
    return parked ? 'parked' : 'queued';
  }

  private firstRetryDelay(outcome: Undelivered): number {
    const delay = outboxRetryDelay(0, this.random);
    return outcome.status === 'undelivered' && outcome.inDoubt
      ? Math.max(IN_DOUBT_RETRY_AFTER_MS, delay)
      : delay;
  }
}
