import { describe, expect, it } from 'vitest';
import { equalJitter, fullJitter } from '../../functions/relay/core/backoff';

const LOWEST = () => 0;
const HIGHEST = () => 0.999;

describe('fullJitter', () => {
  it('may retry at once: the lowest draw is zero', () => {
    expect(fullJitter(3, 200, 2_000, LOWEST)).toBe(0);
  });

  it.each([
    [0, 200],
    [1, 400],
    [2, 800],
    [3, 1_600],
  ])('stays below base · 2^attempt (attempt %i, ceiling %i ms)', (attempt, ceiling) => {
    // Act
    const delay = fullJitter(attempt, 200, 2_000, HIGHEST);

    // Assess
    expect(delay).toBeLessThan(ceiling);
    expect(delay).toBe(Math.floor(0.999 * ceiling));
  });

  it('never exceeds the cap, however many attempts came before', () => {
    // Act
    const delays = [4, 10, 50, 2_000].map((attempt) => fullJitter(attempt, 200, 2_000, HIGHEST));

    // Assess
    expect(delays).toEqual([1_998, 1_998, 1_998, 1_998]);
  });

  it('treats a negative attempt as the first', () => {
    expect(fullJitter(-1, 200, 2_000, HIGHEST)).toBe(199);
  });

  it('returns whole milliseconds', () => {
    expect(Number.isInteger(fullJitter(1, 333, 2_000, () => 0.123456))).toBe(true);
  });

  it('draws from Math.random when no random source is given', () => {
    // Act
    const delays = Array.from({ length: 200 }, () => fullJitter(2, 100, 2_000));

    // Assess
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...delays)).toBeLessThan(400);
    expect(new Set(delays).size).toBeGreaterThan(1);
  });
});

describe('equalJitter', () => {
  it('keeps at least half of the delay', () => {
    expect(equalJitter(400, LOWEST)).toBe(200);
  });

  it('stays below the full delay', () => {
    expect(equalJitter(400, HIGHEST)).toBe(399);
  });

  it.each([100, 200, 400])('spreads a %i ms poll over [delay/2, delay)', (delay) => {
    // Act
    const low = equalJitter(delay, LOWEST);
    const high = equalJitter(delay, HIGHEST);

    // Assess
    expect(low).toBe(delay / 2);
    expect(high).toBeLessThan(delay);
    expect(high).toBeGreaterThan(low);
  });
});
