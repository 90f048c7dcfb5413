import {
  type DeliverDeps,
  type DeliveryOutcome,
  deliver,
  type OutboundMessage,
  type RetryPolicy,
} from './delivery/deliver';
import { RelayError } from './errors';

export type Undelivered = Exclude<DeliveryOutcome, { status: 'delivered' | 'unconfigured' }>;

/**
 * Where a message goes when it could not be delivered in time: the single seam the durable outbox plugs into.
 * Resolves how it kept the message; rejects when it could not keep it (the caller must then not acknowledge).
 */
export interface UndeliveredSink {
  keep(message: OutboundMessage, outcome: Undelivered): Promise<'queued' | 'parked'>;
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
  /** `inDoubt`: the last attempt's answer never came; ONEiO may have the message already (see `deliver`). */
  | {
      readonly status: 'queued' | 'parked';
      readonly attempts: number;
      readonly lastError: string;
      readonly inDoubt: boolean;
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
}

/**
 * Delivers a message now or hands it to the sink; never loses track of it silently. A message whose ONEiO endpoint
 * has no credentials is neither: it fails, so its sender (or Lambda) keeps it.
 */
export async function relay(
  message: OutboundMessage,
  deadline: number,
  deps: RelayDeps,
): Promise<RelayResult> {
  const outcome = await deliver(message, deadline, deps, deps.retryPolicy);
  if (outcome.status === 'delivered') return outcome;
  if (outcome.status === 'unconfigured') {
    // The source names a ONEiO endpoint the credentials secret has no pair for: an operator's mistake to surface at
    // once (503, or Lambda's retries for an event), not a message to queue under credentials that do not exist.
    return { status: 'failed', attempts: outcome.attempts, lastError: outcome.lastError, inDoubt: false };
  }
  const inDoubt = outcome.status === 'undelivered' && outcome.inDoubt;
  try {
    const kept = await deps.sink.keep(message, outcome);
    return { status: kept, attempts: outcome.attempts, lastError: outcome.lastError, inDoubt };
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
