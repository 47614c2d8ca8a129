/**
 * The F and D formats, exception flags, rounding modes, and the bit views shared by the
 * soft-float operations. Operands and results travel as raw bits (int32 halves), never as
 * JavaScript numbers, so NaN payloads and NaN-boxing survive exactly.
 */

/** fflags bits. */
export const enum Flag {
  Inexact = 1,
  Underflow = 2,
  Overflow = 4,
  DivideByZero = 8,
  Invalid = 16,
}

/** The frm / rm encodings (5 and 6 are reserved; 7 means "use frm"). */
export const enum RoundingMode {
  NearestEven = 0,
  TowardZero = 1,
  Down = 2,
  Up = 3,
  NearestMaxMagnitude = 4,
  Dynamic = 7,
}

/** One binary interchange format, with its parameters also as bigints for the exact path. */
export interface Format {
  /** Significand bits including the implicit one. */
  readonly precision: number;
  readonly exponentBits: number;
  readonly bias: number;
  /** Exponent of the smallest normal number. */
  readonly minExponent: number;
  readonly maxExponent: number;
  readonly fractionMask: bigint;
  readonly exponentMask: number;
  readonly quietBit: bigint;
  readonly canonicalNaN: bigint;
  readonly signBit: bigint;
}

function format(precision: number, exponentBits: number): Format {
  const bias = (1 << (exponentBits - 1)) - 1;
  const fractionBits = BigInt(precision - 1);
  return {
    precision,
    exponentBits,
    bias,
    minExponent: 1 - bias,
    maxExponent: bias,
    fractionMask: (1n << fractionBits) - 1n,
    exponentMask: (1 << exponentBits) - 1,
    quietBit: 1n << (fractionBits - 1n),
    canonicalNaN: (BigInt((1 << exponentBits) - 1) << fractionBits) | (1n << (fractionBits - 1n)),
    signBit: 1n << BigInt(precision - 1 + exponentBits),
  };
}

export const SINGLE = format(24, 8);
export const DOUBLE = format(53, 11);

export const CANONICAL_NAN_SINGLE = 0x7fc00000;
/** High half of the canonical double NaN 0x7ff8000000000000 (its low half is zero). */
export const CANONICAL_NAN_DOUBLE_HIGH = 0x7ff80000;
/** The high half of a NaN-boxed single: all ones. */
export const BOXED_HIGH = -1;

/**
 * An operation's result bits: a double's two halves, a NaN-boxed single (hi = BOXED_HIGH),
 * or a 64-bit integer for instructions that write an integer register. Operations return
 * their exception flags and leave the value here, so nothing is allocated per instruction.
 */
export const fpOut = { lo: 0, hi: 0 };

const doubleView = new Float64Array(1);
const doubleHalves = new Int32Array(doubleView.buffer);
const singleView = new Float32Array(1);
const singleBits = new Int32Array(singleView.buffer);

/** The double with these bits (little-endian halves, as on every host Node.js runs on). */
export function doubleOf(lo: number, hi: number): number {
  doubleHalves[0] = lo;
  doubleHalves[1] = hi;
  return doubleView[0];
}

export function singleOf(bits: number): number {
  singleBits[0] = bits;
  return singleView[0];
}

/** Writes a non-NaN double result (a NaN could lose its payload through a number). */
export function outDouble(value: number): void {
  doubleView[0] = value;
  fpOut.lo = doubleHalves[0];
  fpOut.hi = doubleHalves[1];
}

/** Writes a non-NaN single result, NaN-boxed. */
export function outSingle(value: number): void {
  singleView[0] = value;
  fpOut.lo = singleBits[0];
  fpOut.hi = BOXED_HIGH;
}

export function outCanonicalNaN(double: boolean): void {
  fpOut.lo = double ? 0 : CANONICAL_NAN_SINGLE;
  fpOut.hi = double ? CANONICAL_NAN_DOUBLE_HIGH : BOXED_HIGH;
}

/** The operand's bits as an unsigned bigint (a single's are in `lo`). */
export function bitsOf(double: boolean, lo: number, hi: number): bigint {
  return double ? (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0) : BigInt(lo >>> 0);
}

/** Writes result bits given as a bigint, NaN-boxing a single. */
export function outBits(double: boolean, bits: bigint): void {
  fpOut.lo = Number(bits & 0xffffffffn) | 0;
  fpOut.hi = double ? Number(bits >> 32n) | 0 : BOXED_HIGH;
}

/** Smallest positive normal numbers: below them a result may be tiny. */
export const MIN_NORMAL_SINGLE = 2 ** -126;
export const MIN_NORMAL_DOUBLE = 2 ** -1022;
