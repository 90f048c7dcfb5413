import {
  type DeliverDeps,
  type DeliveryOutcome,
  deliver,
  type OutboundMessage,
  type RetryPolicy,
} from './delivery/deliver';
import type { DestinationGate, HoldReason } from './destination/destination-gate';
import { RelayError } from './errors';

export type Undelivered = Exclude<DeliveryOutcome, { status: 'delivered' | 'unconfigured' }>;

/**
 * Where a message goes when it could not be delivered in time: the single seam the durable outbox plugs into.
 * Resolves how it kept the message; rejects when it could not keep it (the caller must then not acknowledge).
 */
export interface UndeliveredSink {
  /**
   * `held`: nothing was attempted because the destination holds (paused, backoff, breaker); the message is due at
   * once, and the sweep sends it as soon as the hold ends, in arrival order.
   */
  keep(
    message: OutboundMessage,
    outcome: Undelivered,
    options?: { held?: boolean },
  ): Promise<'queued' | 'parked'>;
}

/** Thrown by a sink that could not keep a message durably. */
export class NotKeptError extends RelayError {
  override readonly name = 'NotKeptError';
  readonly code = 'NOT_KEPT';
}

/** Until an outbox exists, nothing undelivered can be kept: the sender is told to retry. */
export const NO_OUTBOX: UndeliveredSink = {
  async keep() {
    throw new NotKeptError('No durable outbox is configured');
  },
};

export type RelayResult =
  | { readonly status: 'delivered'; readonly attempts: number }
  /**
   * `inDoubt`: the last attempt's answer never came; ONEiO may have the message already (see `deliver`). `held`:
   * nothing was sent, the destination was paused, backing off or its breaker open; the sweep sends it later.
   */
  | {
      readonly status: 'queued' | 'parked';
      readonly attempts: number;
      readonly lastError: string;
      readonly inDoubt: boolean;
      readonly held?: HoldReason;
    }
  /** Neither delivered nor durably kept: the caller must make the sender (or Lambda) retry. */
  | {
      readonly status: 'failed';
      readonly attempts: number;
      readonly lastError: string;
      readonly inDoubt: boolean;
    };

export interface RelayDeps extends DeliverDeps {
  readonly sink: UndeliveredSink;
  readonly retryPolicy?: RetryPolicy;
  /** ONEiO's backoff, the breaker and the pause; without it every message is attempted. */
  readonly destination?: DestinationGate;
}

/**
 * Delivers a message now or hands it to the sink; never loses track of it silently. While the destination holds
 * (paused, ONEiO's backoff, breaker open) nothing is sent: the message goes straight to the sink. A message whose
 * ONEiO endpoint has no credentials is neither: it fails, so its sender (or Lambda) keeps it.
 */
export async function relay(
  message: OutboundMessage,
  deadline: number,
  deps: RelayDeps,
): Promise<RelayResult> {
  const hold = await deps.destination?.hold();
  if (hold !== undefined) {
    return keep(
      message,
      { status: 'undelivered', attempts: 0, lastError: `not sent: ${hold.description}`, inDoubt: false },
      deps,
      hold.reason,
    );
  }
  const outcome = await deliver(message, deadline, deps, deps.retryPolicy);
  if (outcome.status === 'unconfigured') {
    // The source names a ONEiO endpoint the credentials secret has no pair for: an operator's mistake to surface at
    // once (503, or Lambda's retries for an event), not a message to queue under credentials that do not exist.
    return { status: 'failed', attempts: outcome.attempts, lastError: outcome.lastError, inDoubt: false };
  }
  // What the attempt showed about ONEiO is recorded beside keeping the message, not before: the outbox write must
  // not wait for the destination's writes (`record` never rejects).
  const recorded = deps.destination?.record(outcome);
  if (outcome.status === 'delivered') {
    await recorded;
    return outcome;
  }
  const [kept] = await Promise.all([keep(message, outcome, deps), recorded]);
  return kept;
}

async function keep(
  message: OutboundMessage,
  outcome: Undelivered,
  deps: RelayDeps,
  held?: HoldReason,
): Promise<RelayResult> {
  const inDoubt = outcome.status === 'undelivered' && outcome.inDoubt;
  try {
    const kept = await deps.sink.keep(message, outcome, held === undefined ? undefined : { held: true });
    return {
      status: kept,
      attempts: outcome.attempts,
      lastError: outcome.lastError,
      inDoubt,
      ...(held !== undefined && { held }),
    };
  } catch (error) {
    const why = error instanceof RelayError ? error.message : 'the outbox write failed';
    return {
      status: 'failed',
      attempts: outcome.attempts,
      lastError: `${outcome.lastError}; ${why}`,
      inDoubt,
    };
  }
}
