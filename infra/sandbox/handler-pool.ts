import type { RelayHandler } from '../../functions/relay/app';

/** One simulated execution environment: its own handler, clients, token memory and keep-alive agent. */
export interface ExecutionEnvironment {
  readonly handler: RelayHandler;
  /** Closes the environment's clients (Lambda would freeze and later discard it). */
  dispose(): Promise<void>;
}

export interface HandlerPoolOptions {
  /** Cold start of environment number `id` (1, 2, …). May throw: the invocation then fails like a failed init. */
  readonly create: (id: number) => ExecutionEnvironment;
  /** Most environments alive at once, like a function's reserved concurrency. */
  readonly maxEnvironments: number;
  /** Told about every cold start, with how many environments exist afterwards. */
  readonly onColdStart?: (id: number, total: number) => void;
}

/**
 * Execution environments as Lambda manages them: each handles one invocation at a time; an idle one is reused
 * (warm start), a new one is created when all are busy, up to the limit; beyond it invocations wait for the first
 * environment to free up (where Lambda would throttle).
 */
export class HandlerPool {
  private readonly idle: Array<{ id: number; environment: ExecutionEnvironment }> = [];
  private readonly all: ExecutionEnvironment[] = [];
  private readonly waiting: Array<(slot: { id: number; environment: ExecutionEnvironment }) => void> = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private closed = false;

  constructor(private readonly options: HandlerPoolOptions) {
    if (!Number.isInteger(options.maxEnvironments) || options.maxEnvironments < 1) {
      throw new Error('maxEnvironments must be a positive integer');
    }
  }

  /** Environments created so far. */
  get size(): number {
    return this.all.length;
  }

  /**
   * Runs `invoke` on an environment of its own for the duration of the call; `environment` says which one, and
   * whether this call is its cold start.
   */
  async invoke<T>(
    invoke: (handler: RelayHandler, environment: { id: number; coldStart: boolean }) => Promise<T>,
  ): Promise<T> {
    if (this.closed) throw new Error('The sandbox is stopping');
    const created = this.all.length;
    const slot = await this.acquire();
    const call = invoke(slot.environment.handler, {
      id: slot.id,
      coldStart: this.all.length > created && slot.id === this.all.length,
    });
    this.inFlight.add(call);
    try {
      return await call;
    } finally {
      this.inFlight.delete(call);
      this.release(slot);
    }
  }

  /** Waits up to `graceMs` for running invocations, then disposes every environment. */
  async close(graceMs: number): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([Promise.allSettled([...this.inFlight]), grace]);
    clearTimeout(timer);
    await Promise.allSettled(this.all.map((environment) => environment.dispose()));
  }

  private async acquire(): Promise<{ id: number; environment: ExecutionEnvironment }> {
    // The most recently used environment first, as Lambda tends to route to the warmest one.
    const warm = this.idle.pop();
    if (warm !== undefined) return warm;
    if (this.all.length < this.options.maxEnvironments) {
      const id = this.all.length + 1;
      const environment = this.options.create(id);
      this.all.push(environment);
      this.options.onColdStart?.(id, this.all.length);
      return { id, environment };
    }
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(slot: { id: number; environment: ExecutionEnvironment }): void {
    const next = this.waiting.shift();
    if (next !== undefined) next(slot);
    else this.idle.push(slot);
  }
}
