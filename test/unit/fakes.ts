import { vi } from 'vitest';
import type { OutboundMessage, TokenSource, TokenSources } from '../../functions/relay/core/delivery/deliver';
import { ReceiverNetworkError } from '../../functions/relay/core/errors';
import type { Receiver, ReceiverResponse } from '../../functions/relay/ports/oneio';
import type { SharedToken } from '../../functions/relay/ports/token-store';

/** A clock that moves only when told to; `sleep` advances it instead of waiting. */
export class FakeClock {
  /** Every sleep asked for, in order. */
  readonly sleeps: number[] = [];

  constructor(private current = Date.parse('2024-03-12T19:00:00Z')) {}

  readonly now = (): number => this.current;

  readonly sleep = async (ms: number): Promise<void> => {
    this.sleeps.push(ms);
    this.current += ms;
  };

  advance(ms: number): void {
    this.current += ms;
  }
}

/**
 * Hands out `token-1`, then after an invalidation of the current token `token-2`, and so on. Records every call.
 * `failGets` makes the next calls of `get` throw. Serves every ONEiO endpoint itself, recording which were asked for
 * (`undefined` for the default pair).
 */
export class FakeTokenSource implements TokenSource, TokenSources {
  readonly gets: number[] = [];
  readonly endpoints: (string | undefined)[] = [];
  readonly invalidated: SharedToken[] = [];
  private serial = 1;
  private current = FakeTokenSource.token(1);
  private failure: Error | undefined;
  private failuresLeft = 0;

  /** `clock` and `latencyMs`: each `get` takes that long on the fake clock (a refresh, a lease wait). */
  constructor(
    private readonly clock?: FakeClock,
    private readonly latencyMs = 0,
  ) {}

  static token(serial: number): SharedToken {
    return {
      accessToken: `token-${serial}`,
      issuedAt: 0,
      expiresAt: Number.MAX_SAFE_INTEGER,
      version: `v${serial}`,
    };
  }

  /** The next `count` calls of `get` reject with `error` (every call when `count` is Infinity). */
  failGets(error: Error, count = Number.POSITIVE_INFINITY): this {
    this.failure = error;
    this.failuresLeft = count;
    return this;
  }

  forEndpoint(endpoint: string | undefined): TokenSource {
    this.endpoints.push(endpoint);
    return this;
  }

  async get(deadline: number): Promise<SharedToken> {
    this.gets.push(deadline);
    this.clock?.advance(this.latencyMs);
    if (this.failure && this.failuresLeft > 0) {
      this.failuresLeft--;
      throw this.failure;
    }
    return this.current;
  }

  async invalidate(failed: SharedToken): Promise<boolean> {
    this.invalidated.push(failed);
    if (failed.version === this.current.version) this.current = FakeTokenSource.token(++this.serial);
    return true;
  }
}

export interface SentRequest {
  readonly message: OutboundMessage;
  readonly body: string;
  readonly accessToken: string;
  readonly signal: AbortSignal | undefined;
  /** The fake clock's time when the request started. */
  readonly at: number;
}

/** One scripted answer: an HTTP answer, or an error to throw instead (a network failure). */
export type Scripted = ReceiverResponse | Error;

/**
 * A receiver that answers from a script, one entry per request. The last entry repeats once the script is used up,
 * so "always 503" is `[{ status: 503 }]`. Each request takes `latencyMs` on the fake clock.
 *
 * `honourTimeouts`: a request whose `AbortSignal.timeout(ms)` is shorter than `latencyMs` takes `ms` and fails as a
 * timeout does (in doubt), as undici does on a real clock. It replaces `AbortSignal.timeout` with a signal that
 * remembers its `ms` (restore with `vi.restoreAllMocks()`).
 */
export class ScriptedReceiver implements Receiver {
  readonly requests: SentRequest[] = [];
  private readonly timeouts = new WeakMap<AbortSignal, number>();

  constructor(
    private readonly script: readonly Scripted[],
    private readonly clock: FakeClock,
    private readonly latencyMs = 0,
    options: { honourTimeouts?: boolean } = {},
  ) {
    if (script.length === 0) throw new Error('A receiver script needs at least one answer');
    if (options.honourTimeouts) {
      vi.spyOn(AbortSignal, 'timeout').mockImplementation((ms) => {
        const signal = new AbortController().signal;
        this.timeouts.set(signal, ms);
        return signal;
      });
    }
  }

  async send(
    message: OutboundMessage,
    accessToken: string,
    options: { signal?: AbortSignal },
  ): Promise<ReceiverResponse> {
    this.requests.push({
      message,
      body: message.body,
      accessToken,
      signal: options.signal,
      at: this.clock.now(),
    });
    const answer = this.script[Math.min(this.requests.length, this.script.length) - 1];
    const timeout = options.signal === undefined ? undefined : this.timeouts.get(options.signal);
    if (timeout !== undefined && timeout < this.latencyMs) {
      this.clock.advance(timeout);
      throw new ReceiverNetworkError('ONEiO receiver unreachable (TimeoutError)', true);
    }
    this.clock.advance(this.latencyMs);
    if (answer instanceof Error) throw answer;
    if (answer === undefined) throw new Error('unreachable: the script is not empty');
    return answer;
  }
}
