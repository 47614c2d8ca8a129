/**
 * Error-free transformations: the rounding error of a double sum or product, itself a
 * double, so the fast paths know exactly whether (and how) a result was rounded.
 */

/** 2^27 + 1: splits a double into two halves of at most 26 significant bits (Veltkamp). */
const SPLITTER = 134217729;

/** Below this magnitude a product's error term may underflow; above SPLIT_LIMIT splitting may overflow. */
export const ERROR_FREE_MIN = 2 ** -960;
export const SPLIT_LIMIT = 2 ** 995;

/** The exact a + b - s for s = a + b rounded to nearest (Knuth's TwoSum); no overflow assumed. */
export function twoSumError(a: number, b: number, s: number): number {
  const bVirtual = s - a;
  const aVirtual = s - bVirtual;
  return a - aVirtual + (b - bVirtual);
}

/**
 * The exact a * b - p for p = a * b rounded to nearest (Dekker's TwoProduct); valid when
 * |a|, |b| < SPLIT_LIMIT and |p| >= ERROR_FREE_MIN (callers check).
 */
export function twoProductError(a: number, b: number, p: number): number {
  let scaled = SPLITTER * a;
  const aHigh = scaled - (scaled - a);
  const aLow = a - aHigh;
  scaled = SPLITTER * b;
  const bHigh = scaled - (scaled - b);
  const bLow = b - bHigh;
  return aHigh * bHigh - p + aHigh * bLow + aLow * bHigh + aLow * bLow;
}

/** Whether a nonzero finite product or quotient operand keeps twoProductError exact. */
export function inErrorFreeRange(magnitude: number): boolean {
  return magnitude >= ERROR_FREE_MIN && magnitude < SPLIT_LIMIT;
}
