/**
 * The most of `times` (epoch ms) that fall within any one second (a sliding window, not calendar seconds): what a
 * receiver that limits its callers per second would count at its worst moment.
 */
export function maxInAnySecond(times: readonly number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while ((sorted[i] ?? 0) - (sorted[j] ?? 0) >= 1_000) j++;
    most = Math.max(most, i - j + 1);
  }
  return most;
}
