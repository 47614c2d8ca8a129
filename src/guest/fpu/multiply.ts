/** fmul. */
import { formatOf, isNaN, Kind, nanResult, outRounded, packInfinity, packZero, roundPack, signalingFlags, unpackOperand, type Rounded } from "./exact.js";
import { inErrorFreeRange, twoProductError } from "./error-free.js";
import { doubleOf, Flag, MIN_NORMAL_SINGLE, outDouble, outSingle, RoundingMode, singleOf } from "./format.js";

export function multiply(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode): number {
  if (mode === RoundingMode.NearestEven) {
    if (double) {
      const a = doubleOf(aLo, aHi);
      const b = doubleOf(bLo, bHi);
      const product = a * b;
      if (product === 0 && (a === 0 || b === 0) && product - product === 0) {
        outDouble(product); // an exact zero (zero times a finite number)
        return 0;
      }
      const magnitude = Math.abs(product);
      if (inErrorFreeRange(magnitude) && inErrorFreeRange(Math.abs(a)) && inErrorFreeRange(Math.abs(b))) {
        outDouble(product);
        return twoProductError(a, b, product) === 0 ? 0 : Flag.Inexact;
      }
    } else {
      // The product of two singles is exact as a double.
      const product = singleOf(aLo) * singleOf(bLo);
      const rounded = Math.fround(product);
      if (rounded - rounded === 0 && (Math.abs(product) >= MIN_NORMAL_SINGLE || product === 0)) {
        outSingle(rounded);
        return rounded === product ? 0 : Flag.Inexact;
      }
    }
  }
  return outRounded(double, multiplySlow(double, aLo, aHi, bLo, bHi, mode));
}

export function multiplySlow(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode): Rounded {
  const format = formatOf(double);
  const a = unpackOperand(double, aLo, aHi);
  const b = unpackOperand(double, bLo, bHi);
  if (isNaN(a) || isNaN(b)) return nanResult(format, signalingFlags(a, b));
  const sign = a.sign ^ b.sign;
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (a.kind === Kind.Zero || b.kind === Kind.Zero) return nanResult(format, Flag.Invalid);
    return { bits: packInfinity(sign, format), flags: 0 };
  }
  if (a.kind === Kind.Zero || b.kind === Kind.Zero) return { bits: packZero(sign, format), flags: 0 };
  return roundPack(sign, a.significand * b.significand, a.exponent + b.exponent, mode, format);
}
