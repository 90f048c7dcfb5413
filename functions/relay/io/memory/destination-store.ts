import {
  CLEAR_STATE,
  type DestinationState,
  type DestinationStore,
  type Pause,
} from '../../ports/destination-store';

/** In-memory {@link DestinationStore} with the DynamoDB one's conditions, for unit tests. Counts its calls. */
export class InMemoryDestinationStore implements DestinationStore {
  private readonly states = new Map<string, DestinationState>();
  /** Calls per method, for tests that count I/O (a warm delivery must make none). */
  readonly calls: Record<string, number> = {};

  async read(key: string): Promise<DestinationState> {
    this.count('read');
    return this.get(key);
  }

  async extendNotBefore(key: string, until: number): Promise<{ state: DestinationState; extended: boolean }> {
    this.count('extendNotBefore');
    const state = this.get(key);
    if (state.notBefore >= until) return { state, extended: false };
    return { state: this.set(key, { ...state, notBefore: until }), extended: true };
  }

  async recordFailure(
    key: string,
    policy: { now: number; threshold: number; coolDownMs: number },
  ): Promise<{ state: DestinationState; opened: boolean }> {
    this.count('recordFailure');
    const state = this.get(key);
    const failures = state.failures + 1;
    const opened = failures >= policy.threshold && state.breaker === undefined;
    const next: DestinationState = {
      ...state,
      failures,
      ...(opened && { breaker: { openedAt: policy.now, openUntil: policy.now + policy.coolDownMs } }),
    };
    return { state: this.set(key, next), opened };
  }

  async resetFailures(key: string): Promise<DestinationState> {
    this.count('resetFailures');
    const state = this.get(key);
    return state.failures > 0 ? this.set(key, { ...state, failures: 0 }) : state;
  }

  async acquireProbe(key: string, probe: { owner: string; now: number; until: number }): Promise<boolean> {
    this.count('acquireProbe');
    const state = this.get(key);
    const { breaker } = state;
    if (breaker === undefined || breaker.openUntil > probe.now || state.notBefore > probe.now) return false;
    if (breaker.probe !== undefined && breaker.probe.until >= probe.now) return false;
    this.set(key, { ...state, breaker: { ...breaker, probe: { owner: probe.owner, until: probe.until } } });
    return true;
  }

  async endProbe(
    key: string,
    owner: string,
    result: { close: true } | { reopenUntil: number },
  ): Promise<boolean> {
    this.count('endProbe');
    const { breaker, ...rest } = this.get(key);
    if (breaker?.probe?.owner !== owner) return false;
    if ('close' in result) this.set(key, { ...rest, failures: 0 });
    else this.set(key, { ...rest, breaker: { openedAt: breaker.openedAt, openUntil: result.reopenUntil } });
    return true;
  }

  async pause(key: string, pause: Pause): Promise<void> {
    this.count('pause');
    this.set(key, { ...this.get(key), pause });
  }

  async resume(key: string): Promise<Pause | undefined> {
    this.count('resume');
    const { pause, ...rest } = this.get(key);
    this.set(key, rest);
    return pause;
  }

  private get(key: string): DestinationState {
    return this.states.get(key) ?? CLEAR_STATE;
  }

  private set(key: string, state: DestinationState): DestinationState {
    this.states.set(key, state);
    return state;
  }

  private count(method: string): void {
    this.calls[method] = (this.calls[method] ?? 0) + 1;
  }
}
