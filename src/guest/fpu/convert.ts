/** fcvt between formats, and between FP and 32/64-bit signed/unsigned integers. */
import { DOUBLE, doubleOf, Flag, fpOut, MIN_NORMAL_SINGLE, outBits, outCanonicalNaN, outDouble, outSingle, RoundingMode, SINGLE, singleOf } from "./format.js";
import { Kind, outRounded, packInfinity, packZero, roundPack, unpackOperand } from "./exact.js";
import { isNaNBits, isSignalingBits } from "./special.js";

/** The integer formats of fcvt, as the instruction's rs2 field encodes them. */
export const enum IntegerKind {
  Word = 0,
  WordUnsigned = 1,
  Long = 2,
  LongUnsigned = 3,
}

const TWO_32 = 2 ** 32;
const TWO_53 = 2 ** 53;
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

/** fcvt.d.s (toDouble) or fcvt.s.d: the source is in the other format. */
export function convertFormat(toDouble: boolean, lo: number, hi: number, mode: RoundingMode): number {
  const sourceDouble = !toDouble;
  if (isNaNBits(sourceDouble, lo, hi)) {
    outCanonicalNaN(toDouble);
    return isSignalingBits(sourceDouble, lo, hi) ? Flag.Invalid : 0;
  }
  if (toDouble) {
    outDouble(singleOf(lo)); // exact
    return 0;
  }
  const value = doubleOf(lo, hi);
  if (mode === RoundingMode.NearestEven) {
    const rounded = Math.fround(value);
    if (rounded - rounded === 0 && (Math.abs(value) >= MIN_NORMAL_SINGLE || value === 0)) {
      outSingle(rounded);
      return rounded === value ? 0 : Flag.Inexact;
    }
  }
  const source = unpackOperand(true, lo, hi);
  if (source.kind === Kind.Infinity) outBits(false, packInfinity(source.sign, SINGLE));
  else if (source.kind === Kind.Zero) outBits(false, packZero(source.sign, SINGLE));
  else return outRounded(false, roundPack(source.sign, source.significand, source.exponent, mode, SINGLE));
  return 0;
}

/** `value` rounded to an integer (a double; exact, as every step below is). */
function roundToIntegral(value: number, mode: RoundingMode): number {
  switch (mode) {
    case RoundingMode.TowardZero:
      return Math.trunc(value);
    case RoundingMode.Down:
      return Math.floor(value);
    case RoundingMode.Up:
      return Math.ceil(value);
    case RoundingMode.NearestMaxMagnitude: {
      const truncated = Math.trunc(value);
      return Math.abs(value - truncated) >= 0.5 ? truncated + Math.sign(value) : truncated;
    }
    default: {
      const floor = Math.floor(value);
      const fraction = value - floor;
      if (fraction !== 0.5) return fraction > 0.5 ? floor + 1 : floor;
      return floor % 2 === 0 ? floor : floor + 1;
    }
  }
}

function outInteger(value: number, kind: IntegerKind): void {
  if (kind === IntegerKind.Word || kind === IntegerKind.WordUnsigned) {
    // 32-bit results are sign-extended, unsigned ones too.
    fpOut.lo = value | 0;
    fpOut.hi = fpOut.lo >> 31;
    return;
  }
  const high = Math.floor(value / TWO_32);
  fpOut.lo = (value - high * TWO_32) | 0;
  fpOut.hi = high | 0;
}

/**
 * fcvt.{w,wu,l,lu}.{s,d}: rounds by `mode`; NaN and out-of-range values saturate with only
 * the invalid flag (NaN as the largest value); otherwise inexact if rounding changed it.
 */
export function toInteger(double: boolean, lo: number, hi: number, kind: IntegerKind, mode: RoundingMode): number {
  const unsigned = kind === IntegerKind.WordUnsigned || kind === IntegerKind.LongUnsigned;
  const long = kind === IntegerKind.Long || kind === IntegerKind.LongUnsigned;
  // Bounds as exclusive upper and inclusive lower limits of the rounded value.
  const limit = long ? (unsigned ? TWO_64 : TWO_63) : unsigned ? TWO_32 : TWO_32 / 2;
  const minimum = unsigned ? 0 : -limit;
  if (isNaNBits(double, lo, hi)) {
    saturate(kind, true);
    return Flag.Invalid;
  }
  const value = double ? doubleOf(lo, hi) : singleOf(lo);
  const rounded = roundToIntegral(value, mode);
  if (rounded >= limit || rounded < minimum) {
    saturate(kind, rounded > 0);
    return Flag.Invalid;
  }
  outInteger(rounded === 0 ? 0 : rounded, kind);
  return rounded === value ? 0 : Flag.Inexact;
}

function saturate(kind: IntegerKind, high: boolean): void {
  switch (kind) {
    case IntegerKind.Word:
      fpOut.lo = high ? 0x7fffffff : 0x80000000 | 0;
      fpOut.hi = high ? 0 : -1;
      return;
    case IntegerKind.WordUnsigned:
      // 2^32 - 1 sign-extended is all ones.
      fpOut.lo = high ? -1 : 0;
      fpOut.hi = high ? -1 : 0;
      return;
    case IntegerKind.Long:
      fpOut.lo = high ? -1 : 0;
      fpOut.hi = high ? 0x7fffffff : 0x80000000 | 0;
      return;
    default:
      fpOut.lo = high ? -1 : 0;
      fpOut.hi = high ? -1 : 0;
  }
}

/** fcvt.{s,d}.{w,wu,l,lu}: the integer register's value rounded by `mode`. */
export function fromInteger(double: boolean, lo: number, hi: number, kind: IntegerKind, mode: RoundingMode): number {
  let value: number;
  switch (kind) {
    case IntegerKind.Word:
      value = lo | 0;
      break;
    case IntegerKind.WordUnsigned:
      value = lo >>> 0;
      break;
    case IntegerKind.Long:
      value = (hi | 0) * TWO_32 + (lo >>> 0);
      break;
    default:
      value = (hi >>> 0) * TWO_32 + (lo >>> 0);
  }
  // Below 2^53 the value (computed exactly above) converts to a double exactly.
  if (Math.abs(value) < TWO_53) {
    if (double) {
      outDouble(value);
      return 0;
    }
    const rounded = Math.fround(value);
    if (rounded === value || mode === RoundingMode.NearestEven) {
      outSingle(rounded);
      return rounded === value ? 0 : Flag.Inexact;
    }
  }
  const bits = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  const integer = kind === IntegerKind.Long ? BigInt.asIntN(64, bits) : kind === IntegerKind.LongUnsigned ? bits : BigInt(value);
  const sign = integer < 0n ? 1 : 0;
  return outRounded(double, roundPack(sign, sign ? -integer : integer, 0, mode, double ? DOUBLE : SINGLE));
}
