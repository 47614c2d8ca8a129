/** Median of a non-empty list (the mean of the middle two for an even count). */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Median over rounds of each round's ratio `numerators[round] / denominators[round]`. Two
 * contestants timed seconds apart in one round share the machine's spell (this machine
 * switches between a fast and a slow speed every few seconds), so the ratio of each pair
 * is steadier than the ratio of two medians.
 */
export function medianRatio(numerators: number[], denominators: number[]): number {
  return median(roundRatios(numerators, denominators));
}

/** Each round's ratio `numerators[round] / denominators[round]`. */
export function roundRatios(numerators: number[], denominators: number[]): number[] {
  if (numerators.length !== denominators.length) throw new Error(`round ratios: ${numerators.length} numerators, ${denominators.length} denominators`);
  return numerators.map((value, round) => value / denominators[round]);
}

/**
 * The median of each round's ratio with their range, "1.04 (0.88-1.21)": on this machine a
 * single round's ratio can land anywhere in that range, so a reader sees how firm it is.
 */
export function formatRoundRatios(ratios: number[]): string {
  const [middle, low, high] = [median(ratios), Math.min(...ratios), Math.max(...ratios)].map((ratio) => ratio.toFixed(2));
  return low === high ? middle : `${middle} (${low}-${high})`;
}
