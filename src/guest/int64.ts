/**
 * 64-bit integer arithmetic on (lo, hi) int32 halves, for the M extension. Results land in
 * `wide` (no allocation). Doubles are exact below 2^53, which the limb products here stay
 * under; only division of operands of 2^53 or more falls back to BigInt (rare, slow path).
 */
export const wide = { lo: 0, hi: 0 };

const TWO_16 = 65536;
const TWO_32 = 4294967296;

/** Unsigned 32 x 32 -> 64-bit product of `a` and `b` (taken as u32) into `wide`. */
export function multiplyU32(a: number, b: number): void {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const middle = a0 * b1 + a1 * b0; // < 2^33
  const low = a0 * b0 + (middle % TWO_16) * TWO_16; // < 2^33
  wide.lo = low | 0;
  wide.hi = (a1 * b1 + Math.floor(middle / TWO_16) + Math.floor(low / TWO_32)) | 0;
}

/** Low 64 bits of a 64 x 64 product. */
export function multiplyLow(al: number, ah: number, bl: number, bh: number): void {
  multiplyU32(al, bl);
  wide.hi = (wide.hi + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
}

/** High 64 bits of the unsigned 128-bit product. */
export function multiplyHighUnsigned(al: number, ah: number, bl: number, bh: number): void {
  multiplyU32(al, bl);
  const p00hi = wide.hi >>> 0;
  multiplyU32(al, bh);
  const p01lo = wide.lo >>> 0;
  const p01hi = wide.hi >>> 0;
  multiplyU32(ah, bl);
  const p10lo = wide.lo >>> 0;
  const p10hi = wide.hi >>> 0;
  multiplyU32(ah, bh);
  const p11lo = wide.lo >>> 0;
  const p11hi = wide.hi >>> 0;
  // Limb 1 (bits 32-63) only matters for its carry into limb 2.
  const limb1 = p00hi + p01lo + p10lo; // < 2^34
  const limb2 = p01hi + p10hi + p11lo + Math.floor(limb1 / TWO_32); // < 2^35
  const limb3 = p11hi + Math.floor(limb2 / TWO_32);
  wide.lo = limb2 % TWO_32 | 0;
  wide.hi = limb3 | 0;
}

/** High 64 bits of the 128-bit product, `a` signed and `b` signed or unsigned. */
export function multiplyHighSigned(al: number, ah: number, bl: number, bh: number, bSigned: boolean): void {
  multiplyHighUnsigned(al, ah, bl, bh);
  let lo = wide.lo;
  let hi = wide.hi;
  // Two's complement correction: a negative operand x contributes -2^64 * y.
  if (ah < 0) [lo, hi] = subtract(lo, hi, bl, bh);
  if (bSigned && bh < 0) [lo, hi] = subtract(lo, hi, al, ah);
  wide.lo = lo;
  wide.hi = hi;
}

function subtract(al: number, ah: number, bl: number, bh: number): [number, number] {
  const lo = (al - bl) | 0;
  const borrow = al >>> 0 < bl >>> 0 ? 1 : 0;
  return [lo, (ah - bh - borrow) | 0];
}

function toUnsignedDouble(lo: number, hi: number): number {
  return (hi >>> 0) * TWO_32 + (lo >>> 0);
}

function toBig(lo: number, hi: number, signed: boolean): bigint {
  const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
  return signed ? BigInt.asIntN(64, value) : value;
}

function setFromBig(value: bigint): void {
  const bits = BigInt.asUintN(64, value);
  wide.lo = Number(bits & 0xffffffffn) | 0;
  wide.hi = Number(bits >> 32n) | 0;
}

function setFromDouble(value: number): void {
  // value is an integer with |value| < 2^53 (or its negation).
  const negative = value < 0;
  const magnitude = negative ? -value : value;
  let lo = magnitude % TWO_32;
  let hi = Math.floor(magnitude / TWO_32);
  if (negative) {
    lo = TWO_32 - lo;
    hi = ~hi + (lo === TWO_32 ? 1 : 0);
    if (lo === TWO_32) lo = 0;
  }
  wide.lo = lo | 0;
  wide.hi = hi | 0;
}

const SAFE = 2 ** 53;

/**
 * RISC-V division or remainder of 64-bit values into `wide`: division by zero gives all
 * ones (quotient) or the dividend (remainder); signed overflow (-2^63 / -1) gives the
 * dividend (quotient) or 0 (remainder), as the spec says.
 */
export function divide64(al: number, ah: number, bl: number, bh: number, signed: boolean, remainder: boolean): void {
  if (bl === 0 && bh === 0) {
    if (remainder) {
      wide.lo = al;
      wide.hi = ah;
    } else {
      wide.lo = -1;
      wide.hi = -1;
    }
    return;
  }
  if (signed && ah === (0x80000000 | 0) && al === 0 && bl === -1 && bh === -1) {
    wide.lo = remainder ? 0 : al;
    wide.hi = remainder ? 0 : ah;
    return;
  }
  const aNegative = signed && ah < 0;
  const bNegative = signed && bh < 0;
  const aMagnitude = aNegative ? -(toUnsignedDouble(~al, ~ah) + 1) : toUnsignedDouble(al, ah);
  const bMagnitude = bNegative ? -(toUnsignedDouble(~bl, ~bh) + 1) : toUnsignedDouble(bl, bh);
  const a = Math.abs(aMagnitude);
  const b = Math.abs(bMagnitude);
  if (a < SAFE && b < SAFE) {
    let quotient = Math.floor(a / b);
    let rest = a - quotient * b;
    if (rest < 0) {
      quotient--;
      rest += b;
    } else if (rest >= b) {
      quotient++;
      rest -= b;
    }
    // Truncating division: the quotient's sign is the operands', the remainder the dividend's.
    if (remainder) setFromDouble(aNegative ? -rest : rest);
    else setFromDouble(aNegative !== bNegative ? -quotient : quotient);
    return;
  }
  const x = toBig(al, ah, signed);
  const y = toBig(bl, bh, signed);
  setFromBig(remainder ? x % y : x / y);
}

/**
 * High half of (aLo, aHi) + (bLo, bHi): the low halves carried if their 32-bit sum wrapped
 * below one of them (a u32 comparison, where a sum above 2^32 would be a float).
 */
export function addHigh(aLo: number, aHi: number, bLo: number, bHi: number): number {
  return (aHi + bHi + (((aLo + bLo) | 0) >>> 0 < aLo >>> 0 ? 1 : 0)) | 0;
}

/** Whether (aLo, aHi) < (bLo, bHi) as signed 64-bit values. */
export function lessSigned(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi < bHi || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** Whether (aLo, aHi) < (bLo, bHi) as unsigned 64-bit values. */
export function lessUnsigned(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 < bLo >>> 0);
}

/** regs[rd], regs[rd + 1] = (valueLo, valueHi) << amount (0-63). */
export function shiftLeftInto(regs: Int32Array, rd: number, valueLo: number, valueHi: number, amount: number): void {
  if (amount === 0) {
    regs[rd] = valueLo;
    regs[rd + 1] = valueHi;
  } else if (amount < 32) {
    regs[rd + 1] = (valueHi << amount) | (valueLo >>> (32 - amount));
    regs[rd] = valueLo << amount;
  } else {
    regs[rd + 1] = valueLo << (amount - 32);
    regs[rd] = 0;
  }
}

/** regs[rd], regs[rd + 1] = (valueLo, valueHi) >> amount (0-63), arithmetic or logical. */
export function shiftRightInto(regs: Int32Array, rd: number, valueLo: number, valueHi: number, amount: number, arithmetic: boolean): void {
  if (amount === 0) {
    regs[rd] = valueLo;
    regs[rd + 1] = valueHi;
  } else if (amount < 32) {
    regs[rd] = (valueLo >>> amount) | (valueHi << (32 - amount));
    regs[rd + 1] = arithmetic ? valueHi >> amount : valueHi >>> amount;
  } else {
    regs[rd] = arithmetic ? valueHi >> (amount - 32) : valueHi >>> (amount - 32);
    regs[rd + 1] = arithmetic ? valueHi >> 31 : 0;
  }
}

/** The 32-bit division or remainder (divw, divuw, remw, remuw: `signed`, `remainder`) of a by b, sign-extended into regs[rd], regs[rd + 1]. */
export function divideWordInto(regs: Int32Array, rd: number, a: number, b: number, signed: boolean, remainder: boolean): void {
  let result: number;
  if (signed) {
    if (b === 0) result = remainder ? a : -1;
    else if (a === (0x80000000 | 0) && b === -1) result = remainder ? 0 : a;
    else result = remainder ? a % b | 0 : Math.trunc(a / b) | 0;
  } else {
    const ua = a >>> 0;
    const ub = b >>> 0;
    if (ub === 0) result = remainder ? a : -1;
    else result = remainder ? ua % ub | 0 : Math.floor(ua / ub) | 0;
  }
  regs[rd] = result;
  regs[rd + 1] = result >> 31;
}
