/**
 * Strict parsing of numbers typed on a command line. Only plain decimal digits are taken,
 * with `_` allowed between digit groups (`117_000_007`): `Number()` would also take "" (as
 * 0), "1e3", "0x10" and " 12 ", which on a command line are more likely slips than intent.
 */

const DECIMAL_INTEGER = /^[0-9]+(?:_[0-9]+)*$/;
const DECIMAL_NUMBER = /^[0-9]+(?:_[0-9]+)*(?:\.[0-9]+)?$/;

/** A non-negative decimal integer up to 2^53 - 1, or null if `text` is not one. */
export function parseDecimalInteger(text: string): number | null {
  if (!DECIMAL_INTEGER.test(text)) return null;
  const value = Number(text.replace(/_/g, ""));
  return Number.isSafeInteger(value) ? value : null;
}

/** A non-negative decimal number with an optional fraction (`0.5`, `30`), or null. */
export function parseDecimalNumber(text: string): number | null {
  if (!DECIMAL_NUMBER.test(text)) return null;
  const value = Number(text.replace(/_/g, ""));
  return Number.isFinite(value) ? value : null;
}
