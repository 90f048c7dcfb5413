import { randomUUID } from 'node:crypto';
import type { CredentialsProvider } from '../../ports/credentials-provider';
import type { IssuedToken, TokenEndpoint } from '../../ports/oneio';
import {
  type SharedToken,
  type TokenRecord,
  type TokenStore,
  TokenStoreUnavailableError,
} from '../../ports/token-store';
import { equalJitter, type Random, sleep as realSleep } from '../backoff';
import { TokenEndpointError, TokenUnavailableError } from '../errors';
import { isFresh, isUsable } from './token-policy';
import { TokenRefusals } from './token-refusals';

/** What the manager reports, for logs and metrics. Never receives a token or a secret. */
export interface TokenEvents {
  /** The shared store failed; this instance carries on with a token of its own. */
  storeUnavailable?(error: Error): void;
  /** A new token was obtained from the endpoint; `shared` is false when it could not be published. */
  refreshed?(info: { shared: boolean; expiresInSeconds: number }): void;
  /** The endpoint failed; `fallback` is true when a still-usable token carries on meanwhile. */
  refreshFailed?(error: Error, info: { fallback: boolean }): void;
  /**
   * ONEiO refused `refusedTokens` different tokens in a row: this instance stops invalidating and requesting tokens
   * for `holdSeconds`, and deliveries are queued meanwhile.
   */
  refusalHold?(info: { refusedTokens: number; holdSeconds: number }): void;
}

export interface TokenManagerOptions {
  /** Store key of this token: one per token endpoint, credentials secret and ONEiO endpoint (credential pair). */
  readonly key: string;
  readonly store: TokenStore;
  readonly endpoint: TokenEndpoint;
  readonly credentials: CredentialsProvider;
  readonly events?: TokenEvents;
  /** @default Date.now */
  readonly now?: () => number;
  /** @default setTimeout-based */
  readonly sleep?: (ms: number) => Promise<void>;
  /** @default Math.random */
  readonly random?: Random;
  /** How long a refresher may hold the lease. Longer than a token request can take. @default 10_000 */
  readonly leaseMs?: number;
  /** Timeout of one token request; kept below `leaseMs` so a publish is rarely fenced off. @default 5_000 */
  readonly endpointTimeoutMs?: number;
  /**
   * How long one refresh may take as a whole (store calls, waiting for another instance's lease, the token
   * request), whoever started it. @default `leaseMs`: past its lease a refresher's publish is fenced off anyway.
   */
  readonly refreshTimeoutMs?: number;
  /** Least time between two token requests of this instance after a failure. @default 3_000 */
  readonly failureBackoffMs?: number;
}

/** How soon an instance that lost the lease, but still has a usable token, looks for the new one. */
const LOSER_RECHECK_MS = 1_000;
/** Lease-holder polling schedule for instances that have no usable token (jittered, then capped at the last). */
const POLL_SCHEDULE_MS = [100, 200, 400] as const;
/** `setTimeout` takes at most a signed 32-bit delay; a longer wait needs no timer at all. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Hands out an access token, shared by the whole fleet through a {@link TokenStore}.
 *
 * Lookup order: this instance's memory (no I/O while the token is fresh) → the shared store → the token endpoint.
 *
 * Why a lease: when the shared token nears expiry, every warm instance notices within the same second. Without
 * coordination each would call the token endpoint. The lease is a conditional write that only one instance wins;
 * the winner fetches and publishes, fenced on still holding the lease (a refresher that stalled past its lease must
 * not overwrite a newer token). Losers keep using the current token if it is still usable, else poll the store with
 * consistent reads until the winner publishes or its lease lapses (then one of them takes over).
 *
 * When the store itself is unreachable the instance degrades to a token of its own: deliveries must not fail because
 * the cache is down.
 *
 * A refresh belongs to no caller: it runs on its own timeout and every caller of the instance waits for the same
 * one. A caller short of time stops waiting (its delivery goes to the outbox) while the refresh carries on for the
 * others; otherwise a webhook with half a second left would cut the token request short, fail it for everyone and
 * start the failure backoff.
 *
 * A token ONEiO refused is never handed out again by this instance, whatever the store says (its invalidation may
 * have failed, or raced a reader). When new tokens keep being refused, see {@link TokenRefusals}.
 */
export class TokenManager {
  private readonly owner = randomUUID();
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: Random;
  private readonly leaseMs: number;
  private readonly endpointTimeoutMs: number;
  private readonly failureBackoffMs: number;
  private readonly refreshTimeoutMs: number;
  private readonly refusals = new TokenRefusals();

  private current: SharedToken | undefined;
  /** In the refresh-ahead window, when this instance should look at the store again. */
  private nextCheckAt = 0;
  /** After a failed token request, no new request from this instance before this time. */
  private nextRequestAt = 0;
  /** Why the last token request failed: what a caller turned away during the backoff is told. */
  private lastFailure: unknown;
  /** Concurrent callers of one instance share one refresh. */
  private inflight: Promise<SharedToken> | undefined;

  constructor(private readonly options: TokenManagerOptions) {
    this.now = options.now ?? (() => Date.now());
    this.sleep = options.sleep ?? realSleep;
    this.random = options.random ?? Math.random;
    this.leaseMs = options.leaseMs ?? 10_000;
    this.endpointTimeoutMs = options.endpointTimeoutMs ?? 5_000;
    this.failureBackoffMs = options.failureBackoffMs ?? 3_000;
    this.refreshTimeoutMs = options.refreshTimeoutMs ?? this.leaseMs;
  }

  /**
   * Returns a token usable now (not past its hard cutoff). Rejects with {@link TokenUnavailableError} when none can be
   * had before `deadline` (epoch ms).
   */
  async get(deadline: number): Promise<SharedToken> {
    for (;;) {
      const now = this.now();
      const current = this.current;
      if (current && isFresh(current, now)) return current;
      if (current && isUsable(current, now) && (now < this.nextCheckAt || this.inflight)) return current;

      const token = await this.awaitRefresh(deadline);
      // ONEiO refused it while the refresh that found it was still under way: look again.
      if (!this.refusals.isRefused(token.version)) return token;
    }
  }

  /**
   * The receiver answered 401 with `failed`. Forgets it here for good and marks it expired in the store only if the
   * store still holds that very token, so an instance holding an old token cannot throw away a newer one.
   *
   * Resolves false, without touching the store, when ONEiO keeps refusing new tokens: the endpoint itself refuses,
   * and a new token would only be refused too (see {@link TokenRefusals}).
   */
  async invalidate(failed: SharedToken): Promise<boolean> {
    if (this.current?.version === failed.version) {
      this.current = undefined;
      this.nextCheckAt = 0;
    }
    const now = this.now();
    const verdict = this.refusals.record(failed, now);
    if (verdict.hold) {
      if (verdict.started) {
        this.options.events?.refusalHold?.({
          refusedTokens: verdict.refusedTokens,
          holdSeconds: Math.round((verdict.until - now) / 1000),
        });
      }
      return false;
    }
    try {
      await this.options.store.invalidate(this.options.key, failed.version);
    } catch (error) {
      if (!(error instanceof TokenStoreUnavailableError)) throw error;
      this.options.events?.storeUnavailable?.(error);
    }
    return true;
  }

  /**
   * Joins the refresh under way, or starts one on its own timeout, and waits for it until `deadline` at most. Giving
   * up leaves the refresh running: its result serves the callers still waiting and the next ones.
   */
  private awaitRefresh(deadline: number): Promise<SharedToken> {
    this.inflight ??= this.refresh(this.now() + this.refreshTimeoutMs).finally(() => {
      this.inflight = undefined;
    });
    return waitAtMost(this.inflight, deadline - this.now());
  }

  private async refresh(refreshDeadline: number): Promise<SharedToken> {
    try {
      return await this.refreshShared(refreshDeadline);
    } catch (error) {
      if (!(error instanceof TokenStoreUnavailableError)) throw error;
      this.options.events?.storeUnavailable?.(error);
      return this.refreshLocally(refreshDeadline);
    }
  }

  private async refreshShared(refreshDeadline: number): Promise<SharedToken> {
    const { store, key } = this.options;
    for (let poll = 0; ; poll++) {
      const now = this.now();
      const record = await store.read(key, { consistent: true });
      const stored = this.unrefused(record?.token);
      if (stored && isFresh(stored, now)) return this.adopt(stored);

      const fallback = this.bestUsable(stored, now);
      const held = this.whileHolding(fallback, now);
      if (held) return held;
      if (now < this.nextRequestAt) {
        if (fallback) return this.adopt(fallback, this.nextRequestAt);
        throw new TokenUnavailableError(
          'No usable token: the token endpoint failed recently and is backing off',
          { until: this.nextRequestAt, cause: this.lastFailure },
        );
      }

      if (!leaseHeldByOther(record, this.owner, now)) {
        const lease = { owner: this.owner, until: now + this.leaseMs };
        // Conditioned on the version read: one published since makes this lease attempt fail, and the next look finds
        // the new token instead of requesting another.
        if (await store.tryAcquireLease(key, lease, now, record?.token?.version)) {
          return this.fetchAndPublish(fallback, refreshDeadline);
        }
      }

      // Another instance is refreshing: carry on with the current token. A holder usually publishes within a round
      // trip to the endpoint, so look again after about a second rather than when its lease lapses: the fleet moves
      // to the new token long before the old one's hard cutoff.
      const leaseUntil = record?.lease?.until ?? now + this.leaseMs;
      const recheckAt = Math.min(leaseUntil, now + LOSER_RECHECK_MS) + equalJitter(200, this.random);
      if (fallback) return this.adopt(fallback, recheckAt);

      const delay = equalJitter(
        POLL_SCHEDULE_MS[Math.min(poll, POLL_SCHEDULE_MS.length - 1)] ?? 400,
        this.random,
      );
      if (this.now() + delay >= refreshDeadline) {
        throw new TokenUnavailableError('No usable token in time: another instance holds the refresh lease');
      }
      await this.sleep(delay);
    }
  }

  private async fetchAndPublish(
    fallback: SharedToken | undefined,
    refreshDeadline: number,
  ): Promise<SharedToken> {
    const { store, key, events } = this.options;
    let token: SharedToken;
    try {
      token = await this.fetch(refreshDeadline);
    } catch (error) {
      this.nextRequestAt =
        this.now() + this.failureBackoffMs + equalJitter(this.failureBackoffMs, this.random);
      this.lastFailure = error;
      events?.refreshFailed?.(error as Error, { fallback: fallback !== undefined });
      // Without a usable token, let another instance try at once; with one, the held lease doubles as a fleet-wide
      // backoff so a failing endpoint sees one request per lease period, not one per instance.
      if (!fallback) await store.releaseLease(key, this.owner).catch(() => undefined);
      if (fallback) return this.adopt(fallback, this.nextRequestAt);
      throw error instanceof TokenUnavailableError
        ? error
        : new TokenUnavailableError('No usable token: the token request failed', { cause: error });
    }

    let shared = false;
    try {
      // False when our lease lapsed and someone else took over: our token is still valid, just not the fleet's.
      shared = await store.publish(key, this.owner, token);
    } catch (error) {
      if (!(error instanceof TokenStoreUnavailableError)) throw error;
      events?.storeUnavailable?.(error);
    }
    events?.refreshed?.({ shared, expiresInSeconds: Math.round((token.expiresAt - token.issuedAt) / 1000) });
    return this.adopt(token);
  }

  /** Degraded mode: the store is down, so this instance keeps a token of its own. */
  private async refreshLocally(refreshDeadline: number): Promise<SharedToken> {
    const now = this.now();
    const fallback = this.bestUsable(undefined, now);
    const held = this.whileHolding(fallback, now);
    if (held) return held;
    if (fallback && now < this.nextRequestAt) return fallback;
    try {
      return this.adopt(await this.fetch(refreshDeadline));
    } catch (error) {
      this.nextRequestAt =
        this.now() + this.failureBackoffMs + equalJitter(this.failureBackoffMs, this.random);
      this.lastFailure = error;
      this.options.events?.refreshFailed?.(error as Error, { fallback: fallback !== undefined });
      if (fallback) return fallback;
      throw new TokenUnavailableError('No usable token: the token request failed', { cause: error });
    }
  }

  /** One token request; after `invalid_client` the secret is re-read once, in case it was rotated. */
  private async fetch(refreshDeadline: number): Promise<SharedToken> {
    const { credentials } = this.options;
    const first = await credentials.get();
    const sentAt = this.now();
    try {
      return this.toShared(await this.request(first, refreshDeadline), sentAt);
    } catch (error) {
      if (!(error instanceof TokenEndpointError && error.reason === 'invalid_client')) throw error;
      const reread = await credentials.get({ forceRefresh: true });
      if (reread.clientId === first.clientId && reread.clientSecret === first.clientSecret) throw error;
      const resentAt = this.now();
      return this.toShared(await this.request(reread, refreshDeadline), resentAt);
    }
  }

  private request(
    credentials: Parameters<TokenEndpoint['requestToken']>[0],
    refreshDeadline: number,
  ): Promise<IssuedToken> {
    const timeoutMs = Math.max(1, Math.min(this.endpointTimeoutMs, refreshDeadline - this.now()));
    return this.options.endpoint.requestToken(credentials, { signal: AbortSignal.timeout(timeoutMs) });
  }

  /** `expiresAt` counts from when the request was sent, so network time only ever shortens the lifetime we assume. */
  private toShared(issued: IssuedToken, sentAt: number): SharedToken {
    return {
      accessToken: issued.accessToken,
      issuedAt: sentAt,
      expiresAt: sentAt + issued.expiresInSeconds * 1000,
      version: randomUUID(),
    };
  }

  private bestUsable(stored: SharedToken | undefined, now: number): SharedToken | undefined {
    const candidates = [stored, this.unrefused(this.current)].filter(
      (t): t is SharedToken => t !== undefined && isUsable(t, now),
    );
    return candidates.sort((a, b) => b.expiresAt - a.expiresAt)[0];
  }

  private unrefused(token: SharedToken | undefined): SharedToken | undefined {
    return token && !this.refusals.isRefused(token.version) ? token : undefined;
  }

  /**
   * While holding off after refused tokens no token is requested: a usable token not refused yet (another
   * instance's, say) is still worth a try; without one there is nothing to deliver with. Undefined when not holding.
   */
  private whileHolding(fallback: SharedToken | undefined, now: number): SharedToken | undefined {
    const hold = this.refusals.holding(now);
    if (hold === undefined) return undefined;
    if (fallback) return this.adopt(fallback, hold.until);
    throw new TokenUnavailableError(
      `No usable token: ONEiO keeps refusing new tokens (401); none is requested before ${new Date(hold.until).toISOString()}`,
      { until: hold.until },
    );
  }

  private adopt(token: SharedToken, nextCheckAt = 0): SharedToken {
    // A refresh that read this token before ONEiO refused it hands it to its waiters, who look again; it must not
    // become this instance's token.
    if (this.refusals.isRefused(token.version)) return token;
    this.current = token;
    this.nextCheckAt = nextCheckAt;
    return token;
  }
}

/**
 * `promise`, or a {@link TokenUnavailableError} once `ms` have passed, whichever comes first. The timer is real (the
 * caller's budget is wall-clock time) and cleared as soon as the promise settles. `promise` always gets a rejection
 * handler here, so a refresh that fails after every caller gave up is not an unhandled rejection.
 */
function waitAtMost<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (ms >= MAX_TIMER_MS) return promise;
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(new TokenUnavailableError('No usable token in time: the token refresh is still under way')),
      Math.max(0, ms),
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

function leaseHeldByOther(record: TokenRecord | undefined, owner: string, now: number): boolean {
  const lease = record?.lease;
  return lease !== undefined && lease.owner !== owner && lease.until > now;
}
