/**
 * The exact path: operands unpacked to sign, integer significand and exponent (bigint), an
 * exact result rounded once by `roundPack`. It handles every rounding mode, every special
 * operand and every flag; the fast paths (plain double arithmetic) only take the common
 * round-to-nearest-even cases they can prove exact. BigInt is confined to this rare path.
 */
import { Flag, RoundingMode, type Format } from "./format.js";

export const enum Kind {
  Zero,
  Finite,
  Infinity,
  QuietNaN,
  SignalingNaN,
}

/** A finite value is (-1)^sign * significand * 2^exponent. */
export interface Unpacked {
  kind: Kind;
  sign: number;
  significand: bigint;
  exponent: number;
}

export function unpack(bits: bigint, format: Format): Unpacked {
  const fractionBits = format.precision - 1;
  const sign = bits & format.signBit ? 1 : 0;
  const biased = Number((bits >> BigInt(fractionBits)) & BigInt(format.exponentMask));
  const fraction = bits & format.fractionMask;
  if (biased === format.exponentMask) {
    if (fraction === 0n) return { kind: Kind.Infinity, sign, significand: 0n, exponent: 0 };
    return { kind: fraction & format.quietBit ? Kind.QuietNaN : Kind.SignalingNaN, sign, significand: 0n, exponent: 0 };
  }
  if (biased === 0) {
    if (fraction === 0n) return { kind: Kind.Zero, sign, significand: 0n, exponent: 0 };
    return { kind: Kind.Finite, sign, significand: fraction, exponent: format.minExponent - fractionBits };
  }
  return { kind: Kind.Finite, sign, significand: fraction | (1n << BigInt(fractionBits)), exponent: biased - format.bias - fractionBits };
}

export function isNaN(value: Unpacked): boolean {
  return value.kind === Kind.QuietNaN || value.kind === Kind.SignalingNaN;
}

/** Invalid if any operand is a signaling NaN. */
export function signalingFlags(...values: Unpacked[]): number {
  return values.some((value) => value.kind === Kind.SignalingNaN) ? Flag.Invalid : 0;
}

export interface Rounded {
  bits: bigint;
  flags: number;
}

export function packInfinity(sign: number, format: Format): bigint {
  return (sign ? format.signBit : 0n) | (BigInt(format.exponentMask) << BigInt(format.precision - 1));
}

export function packZero(sign: number, format: Format): bigint {
  return sign ? format.signBit : 0n;
}

function bitLength(value: bigint): number {
  return value.toString(2).length;
}

/** Whether dropping `remainder` (out of 2 * `half`) rounds the magnitude `kept` up. */
function roundsUp(mode: RoundingMode, sign: number, kept: bigint, remainder: bigint, half: bigint): boolean {
  if (remainder === 0n) return false;
  switch (mode) {
    case RoundingMode.NearestEven:
      return remainder > half || (remainder === half && (kept & 1n) === 1n);
    case RoundingMode.NearestMaxMagnitude:
      return remainder >= half;
    case RoundingMode.Down:
      return sign === 1;
    case RoundingMode.Up:
      return sign === 0;
    default:
      return false;
  }
}

/** `significand` rounded to a multiple of 2^quantum: [rounded significand at that quantum, inexact]. */
function roundAt(sign: number, significand: bigint, exponent: number, quantum: number, mode: RoundingMode): [bigint, boolean] {
  const shift = quantum - exponent;
  if (shift <= 0) return [significand << BigInt(-shift), false];
  const kept = significand >> BigInt(shift);
  const remainder = significand & ((1n << BigInt(shift)) - 1n);
  const half = 1n << BigInt(shift - 1);
  return [roundsUp(mode, sign, kept, remainder, half) ? kept + 1n : kept, remainder !== 0n];
}

/**
 * Rounds the nonzero exact value (-1)^sign * significand * 2^exponent to `format` once, with
 * IEEE 754 flags; tininess is detected after rounding, as RISC-V specifies.
 */
export function roundPack(sign: number, significand: bigint, exponent: number, mode: RoundingMode, format: Format): Rounded {
  const precision = format.precision;
  const top = exponent + bitLength(significand) - 1;
  // Tiny: rounded to `precision` bits with an unbounded exponent range, still below the smallest normal.
  const [unbounded] = roundAt(sign, significand, exponent, top - precision + 1, mode);
  const unboundedTop = top + (bitLength(unbounded) > precision ? 1 : 0);
  const tiny = unboundedTop < format.minExponent;
  const quantum = Math.max(top, format.minExponent) - precision + 1;
  let [rounded, inexact] = roundAt(sign, significand, exponent, quantum, mode);
  let flags = inexact ? Flag.Inexact : 0;
  if (tiny && inexact) flags |= Flag.Underflow;
  let roundedQuantum = quantum;
  if (bitLength(rounded) > precision) {
    rounded >>= 1n;
    roundedQuantum++;
  }
  const fractionBits = BigInt(precision - 1);
  const signBits = sign ? format.signBit : 0n;
  if (rounded >> fractionBits === 0n) return { bits: signBits | rounded, flags }; // subnormal (or zero)
  const resultExponent = roundedQuantum + precision - 1;
  if (resultExponent > format.maxExponent) {
    flags |= Flag.Overflow | Flag.Inexact;
    const toInfinity =
      mode === RoundingMode.NearestEven ||
      mode === RoundingMode.NearestMaxMagnitude ||
      (mode === RoundingMode.Up && sign === 0) ||
      (mode === RoundingMode.Down && sign === 1);
    const largest = ((BigInt(format.exponentMask - 1) << fractionBits) | format.fractionMask) | signBits;
    return { bits: toInfinity ? packInfinity(sign, format) : largest, flags };
  }
  const biased = BigInt(resultExponent + format.bias);
  return { bits: signBits | (biased << fractionBits) | (rounded & format.fractionMask), flags };
}

/** The sign of an exact zero sum of opposite-signed terms: -0 only when rounding down. */
export function cancellationSign(mode: RoundingMode): number {
  return mode === RoundingMode.Down ? 1 : 0;
}

/**
 * Exact sum of two finite values (either may be zero) as a rounded result; zero results
 * follow IEEE 754 6.3.
 */
export function addExact(a: Unpacked, b: Unpacked, mode: RoundingMode, format: Format): Rounded {
  if (a.kind === Kind.Zero && b.kind === Kind.Zero) {
    return { bits: packZero(a.sign === b.sign ? a.sign : cancellationSign(mode), format), flags: 0 };
  }
  if (a.kind === Kind.Zero) return roundPack(b.sign, b.significand, b.exponent, mode, format);
  if (b.kind === Kind.Zero) return roundPack(a.sign, a.significand, a.exponent, mode, format);
  const exponent = Math.min(a.exponent, b.exponent);
  const aScaled = (a.sign ? -a.significand : a.significand) << BigInt(a.exponent - exponent);
  const bScaled = (b.sign ? -b.significand : b.significand) << BigInt(b.exponent - exponent);
  const sum = aScaled + bScaled;
  if (sum === 0n) return { bits: packZero(cancellationSign(mode), format), flags: 0 };
  return sum < 0n ? roundPack(1, -sum, exponent, mode, format) : roundPack(0, sum, exponent, mode, format);
}
