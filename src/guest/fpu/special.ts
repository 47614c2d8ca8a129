/** NaN tests on raw bits, shared by every operation. */
import { CANONICAL_NAN_SINGLE } from "./format.js";

export function isNaNBits(double: boolean, lo: number, hi: number): boolean {
  if (double) return (hi & 0x7ff00000) === 0x7ff00000 && ((hi & 0xfffff) !== 0 || lo !== 0);
  return (lo & 0x7f800000) === 0x7f800000 && (lo & 0x7fffff) !== 0;
}

export function isSignalingBits(double: boolean, lo: number, hi: number): boolean {
  return isNaNBits(double, lo, hi) && (double ? hi & 0x80000 : lo & 0x400000) === 0;
}

/**
 * The single a register holds: its low half when NaN-boxed (high half all ones), else the
 * canonical NaN, as the spec requires of an improperly boxed value.
 */
export function unboxSingle(lo: number, hi: number): number {
  return hi === -1 ? lo : CANONICAL_NAN_SINGLE;
}
