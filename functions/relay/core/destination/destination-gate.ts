import { randomUUID } from 'node:crypto';
import { CLEAR_STATE, type DestinationState, type DestinationStore } from '../../ports/destination-store';
import type { DeliveryOutcome } from '../delivery/deliver';

/** Why nothing may be sent to ONEiO right now. */
export type HoldReason = 'paused' | 'backoff' | 'breaker';

export interface Hold {
  readonly reason: HoldReason;
  /** When it ends by itself (the breaker: when a sweep may probe), epoch ms; absent for a pause without end. */
  readonly until?: number;
  /** One secret-free line for logs and an outbox item's last error. */
  readonly description: string;
}

export interface DestinationPolicy {
  /** Consecutive failed deliveries, fleet-wide, that open the breaker. */
  readonly threshold: number;
  /** How long the breaker stays open before a sweep probes with one message. */
  readonly coolDownMs: number;
  /** Age of the cached state beyond which the live path reads it again. @default 5_000 */
  readonly maxStateAgeMs?: number;
  /** How long one sweep may hold the half-open probe. @default 60_000 */
  readonly probeLeaseMs?: number;
  /** Longest backoff a `Retry-After` can ask for; a longer one (a broken header) is cut to it. @default 3_600_000 */
  readonly maxBackoffMs?: number;
}

/** State changes of the destination, for logs and metrics. Each fires in the one instance that made the change. */
export interface DestinationEvents {
  /** The state could not be read or written; deliveries go on as the last known state says. */
  stateUnavailable?(error: Error): void;
  /** ONEiO asked to wait (`Retry-After`) and this instance moved the fleet's `notBefore` to `until`. */
  backoffStarted?(info: { until: number }): void;
  breakerOpened?(info: { failures: number; openUntil: number }): void;
  /** A probe went through: deliveries resume. */
  breakerClosed?(info: { openForMs: number }): void;
  /** A probe failed: open again until `openUntil`. */
  breakerReopened?(info: { openUntil: number; openForMs: number }): void;
}

export interface DestinationGateOptions {
  readonly store: DestinationStore;
  /** Store key of this destination. */
  readonly key: string;
  readonly policy: DestinationPolicy;
  readonly now: () => number;
  readonly events?: DestinationEvents;
}

/** What a sweep does: deliver, probe with one message (the breaker is half-open), or hold. */
export type SweepPlan =
  | { readonly kind: 'deliver' }
  | { readonly kind: 'probe' }
  | { readonly kind: 'hold'; readonly hold: Hold };

const DEFAULT_MAX_STATE_AGE_MS = 5_000;
const DEFAULT_PROBE_LEASE_MS = 60_000;
const DEFAULT_MAX_BACKOFF_MS = 3_600_000;

/** Why deliveries must wait at `now` according to `state`: a pause first, then the breaker, then ONEiO's backoff. */
export function holdOf(state: DestinationState, now: number): Hold | undefined {
  const { pause, breaker } = state;
  if (pause !== undefined && (pause.until === undefined || pause.until > now)) {
    return {
      reason: 'paused',
      ...(pause.until !== undefined && { until: pause.until }),
      description:
        `deliveries paused by ${pause.by}${pause.until === undefined ? '' : ` until ${iso(pause.until)}`}` +
        `${pause.reason === undefined ? '' : ` (${pause.reason})`}`,
    };
  }
  if (breaker !== undefined) {
    return {
      reason: 'breaker',
      until: breaker.openUntil,
      description: `circuit breaker open since ${iso(breaker.openedAt)} (ONEiO kept failing)`,
    };
  }
  if (state.notBefore > now) {
    return {
      reason: 'backoff',
      until: state.notBefore,
      description: `ONEiO asked to wait until ${iso(state.notBefore)}`,
    };
  }
  return undefined;
}

/**
 * The fleet-wide view of one destination (ONEiO's receiver): ONEiO's backoff (`Retry-After`), the circuit breaker
 * and an operator's pause, kept in one stored record and cached per instance.
 *
 * Why a cache: a warm delivery must cost no extra DynamoDB call, so the live path reads the record at most every
 * few seconds (`maxStateAgeMs`) and a pause or an open breaker reaches every instance within that time. Writes are
 * made only on a change this instance sees: a `Retry-After` later than the known `notBefore` (one write per
 * instance per change, extend-only, not one per message), a failed delivery (counted towards the breaker), the
 * first success after failures it knows of (no write on the warm success path). Each write returns the stored
 * record, so the writer's view is fresh at once.
 *
 * The breaker: `threshold` failures in a row, fleet-wide, open it for `coolDownMs`; live deliveries then go
 * straight to the outbox. After the cool-down it is half-open: one sweep takes the probe lease and sends one
 * message; delivered (or refused by ONEiO, which answered) closes it, anything else opens it for another cool-down.
 *
 * Every failure to read or write the record is reported and swallowed: deliveries go on as the last known state
 * says, never fail because the state is unavailable.
 */
export class DestinationGate {
  private readonly owner = randomUUID();
  private readonly maxStateAgeMs: number;
  private readonly probeLeaseMs: number;
  private readonly maxBackoffMs: number;
  private state: DestinationState = CLEAR_STATE;
  private readAt = Number.NEGATIVE_INFINITY;
  /** Concurrent callers of one instance share one read. */
  private reading: Promise<DestinationState> | undefined;

  constructor(private readonly options: DestinationGateOptions) {
    this.maxStateAgeMs = options.policy.maxStateAgeMs ?? DEFAULT_MAX_STATE_AGE_MS;
    this.probeLeaseMs = options.policy.probeLeaseMs ?? DEFAULT_PROBE_LEASE_MS;
    this.maxBackoffMs = options.policy.maxBackoffMs ?? DEFAULT_MAX_BACKOFF_MS;
  }

  /**
   * The live path's check: why nothing may be sent now, from state at most `maxStateAgeMs` old. A half-open breaker
   * holds too: only a sweep probes.
   */
  async hold(): Promise<Hold | undefined> {
    const now = this.options.now();
    const state = now - this.readAt < this.maxStateAgeMs ? this.state : await this.read();
    return holdOf(state, this.options.now());
  }

  /**
   * The sweep's check, on a fresh read: deliver, probe (the breaker's cool-down is over, and so is any wait ONEiO
   * asked for: a `Retry-After` longer than the cool-down outranks it), or hold.
   */
  async planSweep(): Promise<SweepPlan> {
    const state = await this.read();
    const now = this.options.now();
    const hold = holdOf(state, now);
    if (
      hold?.reason === 'breaker' &&
      state.breaker !== undefined &&
      now >= state.breaker.openUntil &&
      now >= state.notBefore
    ) {
      const probing = state.breaker.probe;
      if (probing === undefined || probing.until < now) return { kind: 'probe' };
    }
    return hold === undefined ? { kind: 'deliver' } : { kind: 'hold', hold };
  }

  /** The last state this instance read or wrote (for gauges); not a read. */
  get known(): DestinationState {
    return this.state;
  }

  /** Records what a delivery attempt showed about ONEiO. Never rejects. */
  async record(outcome: DeliveryOutcome): Promise<void> {
    // No pair for the message's ONEiO endpoint: nothing was sent, and ONEiO's health is neither better nor worse.
    if (outcome.status === 'unconfigured') return;
    try {
      if (outcome.status === 'undelivered' && outcome.credentialsRefused !== true) {
        if (outcome.notBefore !== undefined) await this.backOff(outcome.notBefore);
        // No attempt reached ONEiO (no token, no time): it tells nothing about the receiver.
        if (outcome.attempts > 0) await this.failed();
      } else if (this.state.failures > 0) {
        // ONEiO answered (accepted, refused this one message, or refused one credential pair with a 401, which the
        // token refusals hold deals with): the run of failures is over. One disabled ONEiO endpoint must not open
        // the breaker for the messages of every other endpoint.
        this.remember(await this.options.store.resetFailures(this.options.key));
      }
    } catch (error) {
      this.unavailable(error);
    }
  }

  /** Takes the half-open probe lease for this instance; false when another sweep has it or nothing to probe. */
  async tryProbe(): Promise<boolean> {
    const now = this.options.now();
    try {
      return await this.options.store.acquireProbe(this.options.key, {
        owner: this.owner,
        now,
        until: now + this.probeLeaseMs,
      });
    } catch (error) {
      this.unavailable(error);
      return false;
    }
  }

  /**
   * Gives the probe lease back without a probe (nothing could be sent, or what was sent never reached ONEiO): the
   * breaker stays open, past its cool-down, so the next sweep probes at once instead of after the lease. Never
   * rejects.
   */
  async releaseProbe(): Promise<void> {
    try {
      await this.options.store.endProbe(this.options.key, this.owner, { reopenUntil: this.options.now() });
      await this.read();
    } catch (error) {
      this.unavailable(error);
    }
  }

  /**
   * Ends this instance's probe with the probe message's outcome: ONEiO answered → closed; otherwise open for another
   * cool-down (or until ONEiO's `Retry-After`, if later). `lost`: the lease had lapsed, or the probe message has
   * no credential pair and never reached ONEiO: the breaker stays open and the next sweep probes with another one.
   */
  async endProbe(outcome: DeliveryOutcome): Promise<'closed' | 'reopened' | 'lost'> {
    const now = this.options.now();
    const openForMs = now - (this.state.breaker?.openedAt ?? now);
    try {
      if (outcome.status === 'unconfigured') {
        await this.releaseProbe();
        return 'lost';
      }
      if (outcome.status !== 'undelivered' || outcome.credentialsRefused === true) {
        const closed = await this.options.store.endProbe(this.options.key, this.owner, { close: true });
        await this.read();
        if (!closed) return 'lost';
        this.options.events?.breakerClosed?.({ openForMs });
        return 'closed';
      }
      if (outcome.notBefore !== undefined) await this.backOff(outcome.notBefore);
      const openUntil = Math.max(now + this.options.policy.coolDownMs, this.state.notBefore);
      const reopened = await this.options.store.endProbe(this.options.key, this.owner, {
        reopenUntil: openUntil,
      });
      await this.read();
      if (!reopened) return 'lost';
      this.options.events?.breakerReopened?.({ openUntil, openForMs });
      return 'reopened';
    } catch (error) {
      this.unavailable(error);
      return 'lost';
    }
  }

  private async backOff(asked: number): Promise<void> {
    const until = Math.min(asked, this.options.now() + this.maxBackoffMs);
    if (until <= this.state.notBefore) return;
    const { state, extended } = await this.options.store.extendNotBefore(this.options.key, until);
    this.remember(state);
    if (extended) this.options.events?.backoffStarted?.({ until });
  }

  private async failed(): Promise<void> {
    const { threshold, coolDownMs } = this.options.policy;
    const { state, opened } = await this.options.store.recordFailure(this.options.key, {
      now: this.options.now(),
      threshold,
      coolDownMs,
    });
    this.remember(state);
    if (opened && state.breaker !== undefined) {
      this.options.events?.breakerOpened?.({ failures: state.failures, openUntil: state.breaker.openUntil });
    }
  }

  private read(): Promise<DestinationState> {
    this.reading ??= this.options.store
      .read(this.options.key)
      .then(
        (state) => this.remember(state),
        (error: unknown) => {
          // Tried again after the usual age, not on every delivery: a DynamoDB that is down answers slowly.
          this.readAt = this.options.now();
          this.unavailable(error);
          return this.state;
        },
      )
      .finally(() => {
        this.reading = undefined;
      });
    return this.reading;
  }

  private remember(state: DestinationState): DestinationState {
    this.state = state;
    this.readAt = this.options.now();
    return state;
  }

  private unavailable(error: unknown): void {
    this.options.events?.stateUnavailable?.(error instanceof Error ? error : new Error(String(error)));
  }
}

function iso(epochMs: number): string {
  return new Date(epochMs).toISOString();
}
