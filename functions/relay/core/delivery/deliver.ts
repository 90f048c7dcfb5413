import type { Receiver, ReceiverResponse } from '../../ports/oneio';
import type { SharedToken } from '../../ports/token-store';
import { fullJitter, type Random, sleep as realSleep } from '../backoff';
import {
  OneioEndpointUnconfiguredError,
  ReceiverNetworkError,
  RelayError,
  TokenUnavailableError,
} from '../errors';
import { classifyStatus, retryAfterMs } from './classify-response';

/** A message ready for ONEiO: the JSON text exactly as it will be sent. */
export interface OutboundMessage {
  /**
   * Our id for this message, returned to the sender, written to every log line about it and sent to ONEiO as
   * `X-Relay-Message-Id` on every attempt (the same on retries, outbox retries and redrives), so copies of one
   * message can be told apart from different messages.
   */
  readonly relayId: string;
  readonly source: string;
  /** The sender's id for the message, or a hash of source and body when it has none (for de-duplication). */
  readonly deliveryId: string;
  /** The JSON text as accepted: the sender's body byte for byte, or the whole EventBridge event. */
  readonly body: string;
  /** When the relay first received the message, epoch ms: sent as `X-Relay-Received-At`, the same on every copy. */
  readonly receivedAt: number;
  /** Sender headers ONEiO receives as they came (lower-case names); see `core/inbound/forwarded-headers.ts`. */
  readonly forwardedHeaders?: Readonly<Record<string, string>>;
  /** Query string appended to the receiver URL (without `?`); see `core/inbound/forwarded-query.ts`. */
  readonly query?: string;
  /** The named ONEiO endpoint (credential pair, and so token) to deliver with; absent: the default pair. */
  readonly oneioEndpoint?: string;
  /** ONEiO receives the body wrapped in the relay's envelope (`core/delivery/outbound-request.ts`). */
  readonly envelope?: boolean;
}

export type DeliveryOutcome =
  | { readonly status: 'delivered'; readonly attempts: number }
  /**
   * Still failing when the budget ran out; worth trying again later. `inDoubt`: the last attempt's answer never
   * came (timeout, reset), so ONEiO may have taken the message and may still be working on it. `notBefore`: ONEiO
   * asked (`Retry-After`) not to be sent anything before this time, epoch ms. `credentialsRefused`: ONEiO's receiver
   * answered `401` to a fresh token: it is up, but refuses this credential pair (see the token refusals hold).
   */
  | {
      readonly status: 'undelivered';
      readonly attempts: number;
      readonly lastError: string;
      readonly inDoubt: boolean;
      readonly notBefore?: number;
      readonly credentialsRefused?: true;
    }
  /** ONEiO refused this message (a 4xx other than 401): trying it again unchanged will not help. */
  | {
      readonly status: 'rejected';
      readonly attempts: number;
      readonly lastError: string;
      readonly httpStatus: number;
    }
  /**
   * The message's ONEiO endpoint has no credential pair in the secret: nothing was sent, and nothing can be until an
   * operator adds the pair. Not in doubt.
   */
  | {
      readonly status: 'unconfigured';
      readonly attempts: number;
      readonly lastError: string;
      readonly inDoubt: false;
    };

/** The part of the token lifecycle a delivery needs. */
export interface TokenSource {
  get(deadline: number): Promise<SharedToken>;
  /**
   * ONEiO answered 401 to `failed`. Resolves true when a retry with a fresh token is worth it, false when the relay
   * holds off (401s keep coming with fresh tokens: the ONEiO endpoint itself refuses, not the token).
   */
  invalidate(failed: SharedToken): Promise<boolean>;
}

/** The token of each ONEiO endpoint: every credential pair has a token of its own. */
export interface TokenSources {
  /** The token source of the named endpoint; `undefined` names the default pair. */
  forEndpoint(endpoint: string | undefined): TokenSource;
}

export interface DeliverDeps {
  /** Picked by the message's `oneioEndpoint`. */
  readonly tokens: TokenSources;
  readonly receiver: Receiver;
  /** @default Date.now */
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: Random;
}

export interface RetryPolicy {
  /** First backoff ceiling; doubles per attempt. */
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /**
   * Longest a single POST may take. By default an attempt may use the rest of the budget: cutting a slow ONEiO off
   * early would only put the message in doubt sooner.
   */
  readonly requestTimeoutMs?: number;
  /** Don't start an attempt with less time than this left before the deadline. */
  readonly minAttemptMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 200,
  maxDelayMs: 2_000,
  minAttemptMs: 500,
};

/**
 * Delivers one message, retrying transient failures with exponential backoff and full jitter until `deadline`
 * (epoch ms). A 401 invalidates the token and retries once with a fresh one; it never loops.
 *
 * A POST whose answer never came is *in doubt*: ONEiO may have taken it and may still be committing it. No second
 * copy is started in this call then (two copies in flight at once could both be taken); the outcome says so, and
 * the caller leaves the next attempt to the outbox, a minute or more later.
 */
export async function deliver(
  message: OutboundMessage,
  deadline: number,
  deps: DeliverDeps,
  policy: RetryPolicy = DEFAULT_RETRY_POLICY,
): Promise<DeliveryOutcome> {
  const now = deps.now ?? (() => Date.now());
  const sleep = deps.sleep ?? realSleep;
  const tokens = deps.tokens.forEndpoint(message.oneioEndpoint);
  let attempts = 0;
  let retriedUnauthorized = false;
  let lastError = 'no attempt fitted in the time budget';
  /** The latest time ONEiO asked to wait until. */
  let askedUntil = 0;
  const undelivered = (why = lastError, credentialsRefused = false) =>
    ({
      status: 'undelivered',
      attempts,
      lastError: why,
      inDoubt: false,
      ...(askedUntil > now() && { notBefore: askedUntil }),
      ...(credentialsRefused && { credentialsRefused: true as const }),
    }) as const;

  for (let retry = 0; ; retry++) {
    if (deadline - now() < policy.minAttemptMs) return undelivered();

    let waitAtLeastMs = 0;
    try {
      const token = await tokens.get(deadline);
      // Waiting for a token may have used the budget up: an attempt cut short could still reach ONEiO and then be
      // sent again from the outbox.
      if (deadline - now() < policy.minAttemptMs) return undelivered('no time left after getting a token');
      attempts++;
      const timeoutMs = Math.max(
        1,
        Math.min(policy.requestTimeoutMs ?? Number.POSITIVE_INFINITY, deadline - now()),
      );
      const response = await deps.receiver.send(message, token.accessToken, {
        signal: AbortSignal.timeout(timeoutMs),
      });
      const verdict = classifyStatus(response.status);
      if (verdict === 'delivered') return { status: 'delivered', attempts };
      lastError = describe(response);
      if (verdict === 'permanent') {
        return { status: 'rejected', attempts, lastError, httpStatus: response.status };
      }
      if (verdict === 'unauthorized') {
        // A second 401 with a fresh token is not a token problem this call can fix: leave it to a later retry. The
        // token source still hears of it, so this token is not handed out again and repeated refusals are noticed.
        if (retriedUnauthorized) {
          await tokens.invalidate(token);
          return undelivered(`${lastError} after a token refresh`, true);
        }
        retriedUnauthorized = true;
        if (await tokens.invalidate(token)) continue;
        return undelivered(`${lastError}; not retried: ONEiO keeps refusing fresh tokens`, true);
      }
      const asked = retryAfterMs(response.retryAfter, now());
      if (asked !== undefined) {
        askedUntil = Math.max(askedUntil, now() + asked);
        // A wait that does not fit the budget is left to a later, scheduled retry.
        if (now() + asked > deadline - policy.minAttemptMs) return undelivered();
        waitAtLeastMs = asked;
      }
    } catch (error) {
      if (!(error instanceof RelayError)) throw error;
      const unconfigured = causeOfType(error, OneioEndpointUnconfiguredError);
      if (unconfigured) {
        return { status: 'unconfigured', attempts, lastError: unconfigured.message, inDoubt: false };
      }
      lastError = error.message;
      if (error instanceof ReceiverNetworkError && error.inDoubt) {
        return { status: 'undelivered', attempts, lastError: `${lastError}; in doubt`, inDoubt: true };
      }
      // No token before the deadline (a hold after refused tokens, a backoff): waiting here only delays the answer.
      if (error instanceof TokenUnavailableError && (error.until ?? 0) > deadline - policy.minAttemptMs) {
        return undelivered();
      }
    }

    const delay = Math.max(
      waitAtLeastMs,
      fullJitter(retry, policy.baseDelayMs, policy.maxDelayMs, deps.random),
    );
    if (now() + delay > deadline - policy.minAttemptMs) return undelivered();
    await sleep(delay);
  }
}

function describe(response: ReceiverResponse): string {
  return `ONEiO receiver answered ${response.status}`;
}

/** `error` or one of its causes (a token error wraps what made the refresh fail) when it is a `type`. */
function causeOfType<T extends Error>(
  error: unknown,
  type: abstract new (...args: never[]) => T,
): T | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && current instanceof Error; depth++) {
    if (current instanceof type) return current;
    current = current.cause;
  }
  return undefined;
}
