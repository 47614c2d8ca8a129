/** fdiv and fsqrt. */
import { bitLength, formatOf, isNaN, Kind, nanResult, outRounded, packInfinity, packZero, roundPack, signalingFlags, unpackOperand, type Rounded } from "./exact.js";
import { inErrorFreeRange, twoProductError } from "./error-free.js";
import { doubleOf, Flag, MIN_NORMAL_SINGLE, outDouble, outSingle, RoundingMode, singleOf, valueOf } from "./format.js";

/** Guard bits beyond the precision an exact quotient or root is computed to, plus a sticky bit. */
const GUARD_BITS = 2;

export function divide(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode): number {
  if (mode === RoundingMode.NearestEven) {
    if (double) {
      const a = doubleOf(aLo, aHi);
      const b = doubleOf(bLo, bHi);
      const quotient = a / b;
      if (quotient === 0 && a === 0) {
        outDouble(quotient); // zero over a nonzero number (NaN quotients fail the test)
        return 0;
      }
      const absB = Math.abs(b);
      if (inErrorFreeRange(Math.abs(quotient)) && inErrorFreeRange(Math.abs(a)) && inErrorFreeRange(absB)) {
        // Exact iff quotient * b is exactly a.
        outDouble(quotient);
        const product = quotient * b;
        return product === a && twoProductError(quotient, b, product) === 0 ? 0 : Flag.Inexact;
      }
    } else {
      const a = singleOf(aLo);
      const b = singleOf(bLo);
      // The double quotient rounds to the right single (53 >= 2 * 24 + 2).
      const quotient = a / b;
      const rounded = Math.fround(quotient);
      if (quotient === 0 && a === 0) {
        outSingle(rounded);
        return 0;
      }
      if (rounded - rounded === 0 && Math.abs(quotient) >= MIN_NORMAL_SINGLE) {
        outSingle(rounded);
        // rounded * b is exact in a double: the quotient was exact iff it gives a back.
        return rounded * b === a ? 0 : Flag.Inexact;
      }
    }
  }
  return outRounded(double, divideSlow(double, aLo, aHi, bLo, bHi, mode));
}

export function divideSlow(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode): Rounded {
  const format = formatOf(double);
  const a = unpackOperand(double, aLo, aHi);
  const b = unpackOperand(double, bLo, bHi);
  if (isNaN(a) || isNaN(b)) return nanResult(format, signalingFlags(a, b));
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Infinity) {
    return b.kind === Kind.Infinity ? nanResult(format, Flag.Invalid) : { bits: packInfinity(sign, format), flags: 0 };
  }
  if (b.kind === Kind.Infinity) return { bits: packZero(sign, format), flags: 0 };
  if (b.kind === Kind.Zero) {
    return a.kind === Kind.Zero ? nanResult(format, Flag.Invalid) : { bits: packInfinity(sign, format), flags: Flag.DivideByZero };
  }
  if (a.kind === Kind.Zero) return { bits: packZero(sign, format), flags: 0 };
  // Enough quotient bits for rounding, then the remainder as a sticky bit.
  const shift = Math.max(0, format.precision + GUARD_BITS + bitLength(b.significand) - bitLength(a.significand));
  const dividend = a.significand << BigInt(shift);
  const quotient = dividend / b.significand;
  const sticky = dividend % b.significand === 0n ? 0n : 1n;
  return roundPack(sign, (quotient << 1n) | sticky, a.exponent - b.exponent - shift - 1, mode, format);
}

export function squareRoot(double: boolean, aLo: number, aHi: number, mode: RoundingMode): number {
  if (mode === RoundingMode.NearestEven) {
    const a = valueOf(double, aLo, aHi);
    if (a === 0) {
      outSingleOrDouble(double, a); // sqrt(-0) is -0
      return 0;
    }
    if (double) {
      if (a > 0 && inErrorFreeRange(a)) {
        const root = Math.sqrt(a);
        outDouble(root);
        const square = root * root;
        return square === a && twoProductError(root, root, square) === 0 ? 0 : Flag.Inexact;
      }
    } else if (a > 0 && a - a === 0) {
      // The double root rounds to the right single; its square is exact in a double.
      const root = Math.fround(Math.sqrt(a));
      outSingle(root);
      return root * root === a ? 0 : Flag.Inexact;
    }
  }
  return outRounded(double, squareRootSlow(double, aLo, aHi, mode));
}

function outSingleOrDouble(double: boolean, value: number): void {
  if (double) outDouble(value);
  else outSingle(value);
}

function integerSquareRoot(value: bigint): bigint {
  if (value < 2n) return value;
  let root = 1n << BigInt((bitLength(value) >> 1) + 1);
  for (;;) {
    const next = (root + value / root) >> 1n;
    if (next >= root) return root;
    root = next;
  }
}

export function squareRootSlow(double: boolean, aLo: number, aHi: number, mode: RoundingMode): Rounded {
  const format = formatOf(double);
  const a = unpackOperand(double, aLo, aHi);
  if (isNaN(a)) return nanResult(format, signalingFlags(a));
  if (a.kind === Kind.Zero) return { bits: packZero(a.sign, format), flags: 0 };
  if (a.sign === 1) return nanResult(format, Flag.Invalid);
  if (a.kind === Kind.Infinity) return { bits: packInfinity(0, format), flags: 0 };
  // An even exponent and at least 2 * (precision + guard) significand bits.
  let shift = Math.max(0, 2 * (format.precision + GUARD_BITS) - bitLength(a.significand));
  if ((a.exponent - shift) % 2 !== 0) shift++;
  const radicand = a.significand << BigInt(shift);
  const root = integerSquareRoot(radicand);
  const sticky = root * root === radicand ? 0n : 1n;
  return roundPack(0, (root << 1n) | sticky, (a.exponent - shift) / 2 - 1, mode, format);
}
