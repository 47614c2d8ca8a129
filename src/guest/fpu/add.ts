/** fadd and fsub. */
import { addExact, formatOf, isNaN, Kind, nanResult, outRounded, packInfinity, signalingFlags, unpackOperand, type Rounded } from "./exact.js";
import { twoSumError } from "./error-free.js";
import { Flag, outDouble, outSingle, RoundingMode, valueOf } from "./format.js";

/** a + b, or a - b when `subtract`; returns the flags, the result is in fpOut. */
export function add(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode, subtract: boolean): number {
  if (mode === RoundingMode.NearestEven) {
    const a = valueOf(double, aLo, aHi);
    const b = subtract ? -valueOf(double, bLo, bHi) : valueOf(double, bLo, bHi);
    const sum = a + b;
    // A finite sum had finite operands. A sum that is tiny is exact, so never underflows.
    if (sum - sum === 0) {
      const error = twoSumError(a, b, sum);
      if (double) {
        if (error - error === 0) {
          outDouble(sum);
          return error === 0 ? 0 : Flag.Inexact;
        }
      } else {
        // The double sum of two singles rounds to the right single (53 >= 2 * 24 + 2).
        const rounded = Math.fround(sum);
        if (rounded - rounded === 0) {
          outSingle(rounded);
          return error === 0 && rounded === sum ? 0 : Flag.Inexact;
        }
      }
    }
  }
  return outRounded(double, addSlow(double, aLo, aHi, bLo, bHi, mode, subtract));
}

/** The exact path of `add`, for any rounding mode and operands. */
export function addSlow(double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode, subtract: boolean): Rounded {
  const format = formatOf(double);
  const a = unpackOperand(double, aLo, aHi);
  const b = unpackOperand(double, bLo, bHi);
  if (subtract) b.sign ^= 1;
  if (isNaN(a) || isNaN(b)) return nanResult(format, signalingFlags(a, b));
  if (a.kind === Kind.Infinity || b.kind === Kind.Infinity) {
    if (a.kind === Kind.Infinity && b.kind === Kind.Infinity && a.sign !== b.sign) return nanResult(format, Flag.Invalid);
    return { bits: packInfinity(a.kind === Kind.Infinity ? a.sign : b.sign, format), flags: 0 };
  }
  return addExact(a, b, mode, format);
}
