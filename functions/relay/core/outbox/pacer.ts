/**
 * Starts are spaced this much wider than `1 / ratePerSecond`: the way to ONEiO adds a few milliseconds that vary
 * from request to request, and the margin keeps that from ever putting one more than the rate into a second as
 * ONEiO counts them (1.05 s for `rate` starts leaves 50 ms for it).
 */
export const PACING_MARGIN = 0.05;

/**
 * Spaces the starts of deliveries at least `(1 + PACING_MARGIN) / ratePerSecond` apart, so no second ever sees more
 * than `ratePerSecond` of them. Callers take turns in the order they ask; each turn's spacing is measured from the
 * previous start as it happened (a timer that fired late never lets the next one start early, nor one that fired
 * a millisecond early start this one too soon).
 */
export class Pacer {
  private readonly intervalMs: number;
  /** When the last granted turn actually started. */
  private lastStart: number | undefined;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    ratePerSecond: number,
    private readonly now: () => number,
    private readonly sleep: (ms: number) => Promise<void>,
  ) {
    if (!(ratePerSecond > 0)) throw new RangeError(`A drain rate must be above 0 (got ${ratePerSecond})`);
    this.intervalMs = (1000 * (1 + PACING_MARGIN)) / ratePerSecond;
  }

  /** How many turns could still start by `latest` (epoch ms) if asked for now; Infinity without a limit. */
  turnsUntil(latest: number): number {
    if (!Number.isFinite(this.intervalMs) || this.intervalMs === 0) return Number.POSITIVE_INFINITY;
    const first = this.nextStart();
    return latest < first ? 0 : Math.floor((latest - first) / this.intervalMs) + 1;
  }

  /** Waits for this caller's turn; resolves false at once, taking no turn, when it would start after `latest`. */
  take(latest: number): Promise<boolean> {
    const turn = this.queue.then(async () => {
      const start = this.nextStart();
      if (start > latest) return false;
      for (let wait = start - this.now(); wait > 0; wait = start - this.now()) await this.sleep(wait);
      this.lastStart = this.now();
      return true;
    });
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  private nextStart(): number {
    const now = this.now();
    return this.lastStart === undefined ? now : Math.max(now, this.lastStart + this.intervalMs);
  }
}
