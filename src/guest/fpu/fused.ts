/** fmadd, fmsub, fnmsub, fnmadd: a * b + c with one rounding. */
import { addExact, formatOf, isNaN, Kind, nanResult, outRounded, packInfinity, signalingFlags, unpackOperand, type Rounded, type Unpacked } from "./exact.js";
import { inErrorFreeRange, twoProductError, twoSumError } from "./error-free.js";
import { Flag, MIN_NORMAL_DOUBLE, MIN_NORMAL_SINGLE, outDouble, outSingle, RoundingMode, valueOf } from "./format.js";

/**
 * (-1)^negateProduct * a * b + (-1)^negateAddend * c, rounded once: fmadd (neither),
 * fmsub (addend), fnmsub (product), fnmadd (both).
 */
export function fusedMultiplyAdd(
  double: boolean,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
  mode: RoundingMode,
  negateProduct: boolean,
  negateAddend: boolean,
): number {
  if (mode === RoundingMode.NearestEven) {
    const a = negateProduct ? -valueOf(double, aLo, aHi) : valueOf(double, aLo, aHi);
    const b = valueOf(double, bLo, bHi);
    const c = negateAddend ? -valueOf(double, cLo, cHi) : valueOf(double, cLo, cHi);
    const product = a * b;
    if (!double) {
      // The product of singles is exact; so is the sum when its rounding error is zero.
      const sum = product + c;
      if (sum - sum === 0 && twoSumError(product, c, sum) === 0) {
        const rounded = Math.fround(sum);
        if (rounded - rounded === 0 && (Math.abs(sum) >= MIN_NORMAL_SINGLE || sum === 0)) {
          outSingle(rounded);
          return rounded === sum ? 0 : Flag.Inexact;
        }
      }
    } else if (product === 0 && (a === 0 || b === 0)) {
      // An exact zero product: the result is c + (+-0), rounded once.
      const sum = product + c;
      if (sum - sum === 0) {
        outDouble(sum);
        return 0;
      }
    } else if (inErrorFreeRange(Math.abs(product)) && inErrorFreeRange(Math.abs(a)) && inErrorFreeRange(Math.abs(b)) && c - c === 0) {
      const productError = twoProductError(a, b, product);
      const sum = product + c;
      const sumError = twoSumError(product, c, sum);
      // The exact result is sum + sumError + productError; fold the two errors when exact.
      const tail = sumError + productError;
      if (sum - sum === 0 && twoSumError(sumError, productError, tail) === 0) {
        const result = sum + tail;
        const error = twoSumError(sum, tail, result);
        if (result - result === 0 && error - error === 0 && (error === 0 || Math.abs(result) >= MIN_NORMAL_DOUBLE)) {
          outDouble(result);
          return error === 0 ? 0 : Flag.Inexact;
        }
      }
    }
  }
  return outRounded(double, fusedMultiplyAddSlow(double, aLo, aHi, bLo, bHi, cLo, cHi, mode, negateProduct, negateAddend));
}

export function fusedMultiplyAddSlow(
  double: boolean,
  aLo: number,
  aHi: number,
  bLo: number,
  bHi: number,
  cLo: number,
  cHi: number,
  mode: RoundingMode,
  negateProduct: boolean,
  negateAddend: boolean,
): Rounded {
  const format = formatOf(double);
  const a = unpackOperand(double, aLo, aHi);
  const b = unpackOperand(double, bLo, bHi);
  const c = unpackOperand(double, cLo, cHi);
  const productSign = a.sign ^ b.sign ^ (negateProduct ? 1 : 0);
  if (negateAddend) c.sign ^= 1;
  // Infinity times zero is invalid even when the addend is a quiet NaN (ISA manual, F extension).
  const infinityTimesZero =
    (a.kind === Kind.Infinity && b.kind === Kind.Zero) || (a.kind === Kind.Zero && b.kind === Kind.Infinity);
  if (isNaN(a) || isNaN(b) || isNaN(c)) return nanResult(format, signalingFlags(a, b, c) | (infinityTimesZero ? Flag.Invalid : 0));
  if (infinityTimesZero) return nanResult(format, Flag.Invalid);
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (c.kind === Kind.Infinity && c.sign !== productSign) return nanResult(format, Flag.Invalid);
    return { bits: packInfinity(productSign, format), flags: 0 };
  }
  if (c.kind === Kind.Infinity) return { bits: packInfinity(c.sign, format), flags: 0 };
  const product: Unpacked =
    a.kind === Kind.Zero || b.kind === Kind.Zero
      ? { kind: Kind.Zero, sign: productSign, significand: 0n, exponent: 0 }
      : { kind: Kind.Finite, sign: productSign, significand: a.significand * b.significand, exponent: a.exponent + b.exponent };
  return addExact(product, c, mode, format);
}
