/** Comparisons, fmin/fmax (IEEE 754-2019 minimumNumber/maximumNumber, as ISA 2.2) and fclass. */
import { BOXED_HIGH, doubleOf, Flag, fpOut, outCanonicalNaN, singleOf } from "./format.js";
import { isNaNBits, isSignalingBits } from "./special.js";

function valueOf(double: boolean, lo: number, hi: number): number {
  return double ? doubleOf(lo, hi) : singleOf(lo);
}

function signalingFlag(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number): number {
  return isSignalingBits(double, aLo, aHi) || isSignalingBits(double, bLo, bHi) ? Flag.Invalid : 0;
}

function outOperand(double: boolean, lo: number, hi: number): void {
  fpOut.lo = lo;
  fpOut.hi = double ? hi : BOXED_HIGH;
}

/**
 * fmin (max = false) or fmax: a single NaN operand yields the other, two yield the canonical
 * NaN, -0 orders below +0; a signaling NaN operand raises invalid.
 */
export function minMax(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, max: boolean): number {
  const flags = signalingFlag(double, aLo, aHi, bLo, bHi);
  const aNaN = isNaNBits(double, aLo, aHi);
  const bNaN = isNaNBits(double, bLo, bHi);
  if (aNaN && bNaN) outCanonicalNaN(double);
  else if (aNaN) outOperand(double, bLo, bHi);
  else if (bNaN) outOperand(double, aLo, aHi);
  else {
    const a = valueOf(double, aLo, aHi);
    const b = valueOf(double, bLo, bHi);
    // Equal values differ only as zeros: the sign bit then decides.
    const aNegative = (double ? aHi : aLo) < 0;
    const pickA = a === b ? aNegative !== max : max ? a > b : a < b;
    if (pickA) outOperand(double, aLo, aHi);
    else outOperand(double, bLo, bHi);
  }
  return flags;
}

export const enum Comparison {
  Equal,
  Less,
  LessEqual,
}

/**
 * feq (quiet: invalid only for a signaling NaN), flt and fle (signaling: invalid for any
 * NaN); the 0/1 result goes to fpOut as an integer.
 */
export function compare(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, kind: Comparison): number {
  fpOut.lo = 0;
  fpOut.hi = 0;
  if (isNaNBits(double, aLo, aHi) || isNaNBits(double, bLo, bHi)) {
    return kind === Comparison.Equal ? signalingFlag(double, aLo, aHi, bLo, bHi) : Flag.Invalid;
  }
  const a = valueOf(double, aLo, aHi);
  const b = valueOf(double, bLo, bHi);
  const holds = kind === Comparison.Equal ? a === b : kind === Comparison.Less ? a < b : a <= b;
  fpOut.lo = holds ? 1 : 0;
  return 0;
}

/** fclass: one of ten bits (-inf, -normal, -subnormal, -0, +0, +subnormal, +normal, +inf, sNaN, qNaN). */
export function classify(double: boolean, lo: number, hi: number): void {
  const signWord = double ? hi : lo;
  const negative = signWord < 0;
  const exponent = double ? (hi >>> 20) & 0x7ff : (lo >>> 23) & 0xff;
  const maxExponent = double ? 0x7ff : 0xff;
  const fractionZero = double ? (hi & 0xfffff) === 0 && lo === 0 : (lo & 0x7fffff) === 0;
  let bit: number;
  if (exponent === maxExponent) {
    if (fractionZero) bit = negative ? 0 : 7;
    else bit = isSignalingBits(double, lo, hi) ? 8 : 9;
  } else if (exponent === 0) {
    if (fractionZero) bit = negative ? 3 : 4;
    else bit = negative ? 2 : 5;
  } else bit = negative ? 1 : 6;
  fpOut.lo = 1 << bit;
  fpOut.hi = 0;
}
