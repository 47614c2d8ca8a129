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
  if (numerators.length !== denominators.length) throw new Error(`medianRatio: ${numerators.length} numerators, ${denominators.length} denominators`);
  return median(numerators.map((value, round) => value / denominators[round]));
}
