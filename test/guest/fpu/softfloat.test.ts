import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { add, addSlow } from "../../../src/guest/fpu/add.js";
import { classify, compare, Comparison, minMax } from "../../../src/guest/fpu/compare.js";
import { convertFormat, fromInteger, IntegerKind, toInteger } from "../../../src/guest/fpu/convert.js";
import { divide, divideSlow, squareRoot, squareRootSlow } from "../../../src/guest/fpu/divide.js";
import { fusedMultiplyAdd, fusedMultiplyAddSlow } from "../../../src/guest/fpu/fused.js";
import { Flag, fpOut, RoundingMode } from "../../../src/guest/fpu/format.js";
import { multiply, multiplySlow } from "../../../src/guest/fpu/multiply.js";
import type { Rounded } from "../../../src/guest/fpu/exact.js";
import { doubleBits, singleBits } from "../../../bench/fpu/differential.js";

const NX = Flag.Inexact;
const UF = Flag.Underflow;
const OF = Flag.Overflow;
const DZ = Flag.DivideByZero;
const NV = Flag.Invalid;
const RNE = RoundingMode.NearestEven;
const RTZ = RoundingMode.TowardZero;
const RDN = RoundingMode.Down;
const RUP = RoundingMode.Up;
const RMM = RoundingMode.NearestMaxMagnitude;

/** A double's bits from its value (non-NaN), or the bits themselves. */
const d = (value: number | bigint): bigint => (typeof value === "bigint" ? value : doubleBits(value));
const s = (value: number): bigint => singleBits(value);

const lo = (bits: bigint): number => Number(bits & 0xffffffffn) | 0;
const hi = (bits: bigint): number => Number((bits >> 32n) & 0xffffffffn) | 0;

/** The result in fpOut: all 64 bits for a double or an integer, the low 32 (checked boxed) for a single. */
function out(double: boolean): bigint {
  const bits = (BigInt(fpOut.hi >>> 0) << 32n) | BigInt(fpOut.lo >>> 0);
  if (double) return bits;
  assert.equal(fpOut.hi, -1, "a single result is NaN-boxed");
  return bits & 0xffffffffn;
}

const DMAX = d(Number.MAX_VALUE);
const DINF = 0x7ff0000000000000n;
const DNAN = 0x7ff8000000000000n;
const SNAN_D = 0x7ff0000000000001n;
const SNAN_NAN = 0x7fc00000n;

describe("soft-float: hand-checked cases", () => {
  const binary = (
    op: (double: boolean, aLo: number, aHi: number, bLo: number, bHi: number, mode: RoundingMode) => number,
    double: boolean,
    a: bigint,
    b: bigint,
    mode: RoundingMode,
  ): [bigint, number] => {
    const flags = op(double, lo(a), hi(a), lo(b), hi(b), mode);
    return [out(double), flags];
  };
  const addD = (a: bigint, b: bigint, mode: RoundingMode) => binary((...args) => add(...args, false), true, a, b, mode);

  it("add: rounding modes on 1 + 2^-53 (a tie) and 1 + 3 * 2^-54", () => {
    assert.deepEqual(addD(d(1), d(2 ** -53), RNE), [d(1), NX]);
    assert.deepEqual(addD(d(1), d(2 ** -53), RMM), [d(1 + 2 ** -52), NX]);
    assert.deepEqual(addD(d(1), d(2 ** -53), RUP), [d(1 + 2 ** -52), NX]);
    assert.deepEqual(addD(d(1), d(2 ** -53), RTZ), [d(1), NX]);
    assert.deepEqual(addD(d(-1), d(-(2 ** -53)), RDN), [d(-1 - 2 ** -52), NX]);
    assert.deepEqual(addD(d(1), d(3 * 2 ** -54), RNE), [d(1 + 2 ** -52), NX]);
    assert.deepEqual(addD(d(1), d(2 ** -52), RNE), [d(1 + 2 ** -52), 0]);
  });

  it("add: overflow by mode, exact zero signs, invalid infinities, NaNs canonical", () => {
    assert.deepEqual(addD(DMAX, DMAX, RNE), [DINF, OF | NX]);
    assert.deepEqual(addD(DMAX, DMAX, RTZ), [DMAX, OF | NX]);
    assert.deepEqual(addD(DMAX | (1n << 63n), DMAX | (1n << 63n), RUP), [DMAX | (1n << 63n), OF | NX]);
    assert.deepEqual(addD(d(1), d(-1), RNE), [d(0), 0]);
    assert.deepEqual(addD(d(1), d(-1), RDN), [d(-0), 0]);
    assert.deepEqual(addD(d(-0), d(-0), RNE), [d(-0), 0]);
    assert.deepEqual(addD(DINF, DINF | (1n << 63n), RNE), [DNAN, NV]);
    assert.deepEqual(addD(0xfff8000000000123n, d(1), RNE), [DNAN, 0]);
    assert.deepEqual(addD(SNAN_D, d(1), RNE), [DNAN, NV]);
  });

  it("mul: underflow is detected after rounding; subnormal results", () => {
    // (1 - 2^-24) * 2^-126 rounds up to the smallest normal single, but is tiny: UF.
    assert.deepEqual(binary(multiply, false, s(1 - 2 ** -24), s(2 ** -126), RNE), [s(2 ** -126), UF | NX]);
    assert.deepEqual(binary(multiply, true, d(2 ** -1074), d(0.5), RNE), [d(0), UF | NX]);
    assert.deepEqual(binary(multiply, true, d(2 ** -1074), d(0.5), RUP), [d(2 ** -1074), UF | NX]);
    assert.deepEqual(binary(multiply, true, d(2 ** -1000), d(2 ** -60), RNE), [d(2 ** -1060), 0]);
    assert.deepEqual(binary(multiply, true, DINF, d(0), RNE), [DNAN, NV]);
    assert.deepEqual(binary(multiply, false, s(3), s(1 / 3), RNE), [s(Math.fround(3 * Math.fround(1 / 3))), NX]);
  });

  it("fcvt.s.d: (1 - 2^-25) * 2^-126 rounds to the smallest normal and is not tiny (no UF)", () => {
    const value = d((1 - 2 ** -25) * 2 ** -126);
    assert.equal(convertFormat(false, lo(value), hi(value), RNE), NX);
    assert.equal(out(false), s(2 ** -126));
    assert.equal(convertFormat(false, lo(SNAN_D), hi(SNAN_D), RNE), NV);
    assert.equal(out(false), SNAN_NAN);
    assert.equal(convertFormat(true, 0x7f800001, -1, RNE), NV, "fcvt.d.s of a signaling NaN");
    assert.equal(out(true), DNAN);
  });

  it("div and sqrt: divide by zero, invalid, exactness", () => {
    assert.deepEqual(binary(divide, true, d(1), d(0), RNE), [DINF, DZ]);
    assert.deepEqual(binary(divide, true, d(0), d(0), RNE), [DNAN, NV]);
    assert.deepEqual(binary(divide, true, d(1), d(3), RNE), [d(1 / 3), NX]);
    assert.deepEqual(binary(divide, true, d(1), d(3), RUP), [d(1 / 3) + 1n, NX]);
    assert.deepEqual(binary(divide, false, s(6), s(3), RNE), [s(2), 0]);
    assert.equal(squareRoot(true, lo(d(-1)), hi(d(-1)), RNE), NV);
    assert.equal(out(true), DNAN);
    assert.equal(squareRoot(true, lo(d(-0)), hi(d(-0)), RNE), 0);
    assert.equal(out(true), d(-0));
    assert.equal(squareRoot(true, lo(d(2)), hi(d(2)), RDN), NX);
    assert.equal(out(true), d(Math.SQRT2) - 1n, "sqrt(2) rounded down");
  });

  it("fma rounds once; infinity times zero is invalid even with a quiet NaN addend", () => {
    const a = d(1 + 2 ** -27);
    const b = d(1 - 2 ** -27);
    const c = d(-1);
    assert.equal(fusedMultiplyAdd(true, lo(a), hi(a), lo(b), hi(b), lo(c), hi(c), RNE, false, false), 0);
    assert.equal(out(true), d(-(2 ** -54)));
    assert.equal(fusedMultiplyAdd(true, lo(DINF), hi(DINF), 0, 0, lo(DNAN), hi(DNAN), RNE, false, false), NV);
    assert.equal(out(true), DNAN);
    // fnmadd: -(2 * 3) - 1
    assert.equal(fusedMultiplyAdd(true, lo(d(2)), hi(d(2)), lo(d(3)), hi(d(3)), lo(d(1)), hi(d(1)), RNE, true, true), 0);
    assert.equal(out(true), d(-7));
  });

  it("fcvt to integers saturates with invalid alone; inexact otherwise; unsigned words sign-extend", () => {
    const cases: [number | bigint, IntegerKind, RoundingMode, bigint, number][] = [
      [2 ** 31, IntegerKind.Word, RNE, 0x7fffffffn, NV],
      [-(2 ** 31) - 0.5, IntegerKind.Word, RTZ, 0xffffffff80000000n, NX],
      [-(2 ** 31) - 0.5, IntegerKind.Word, RNE, 0xffffffff80000000n, NX],
      [-(2 ** 31) - 1, IntegerKind.Word, RNE, 0xffffffff80000000n, NV],
      [DNAN, IntegerKind.Word, RNE, 0x7fffffffn, NV],
      [0xfff8000000000000n, IntegerKind.Long, RNE, 0x7fffffffffffffffn, NV],
      [-1, IntegerKind.WordUnsigned, RNE, 0n, NV],
      [-0.5, IntegerKind.WordUnsigned, RNE, 0n, NX],
      [4294967295, IntegerKind.WordUnsigned, RNE, 0xffffffffffffffffn, 0],
      [2.5, IntegerKind.Long, RNE, 2n, NX],
      [2.5, IntegerKind.Long, RMM, 3n, NX],
      [-2.5, IntegerKind.Long, RMM, 0xfffffffffffffffdn, NX],
      [-2.5, IntegerKind.Long, RDN, 0xfffffffffffffffdn, NX],
      [2 ** 63, IntegerKind.Long, RNE, 0x7fffffffffffffffn, NV],
      [-(2 ** 63), IntegerKind.Long, RNE, 0x8000000000000000n, 0],
      [2 ** 64, IntegerKind.LongUnsigned, RNE, 0xffffffffffffffffn, NV],
      [2 ** 64 - 2048, IntegerKind.LongUnsigned, RNE, 0xfffffffffffff800n, 0],
    ];
    for (const [value, kind, mode, expected, flags] of cases) {
      const bits = d(value);
      assert.equal(toInteger(true, lo(bits), hi(bits), kind, mode), flags, `${value} kind ${kind} mode ${mode}`);
      assert.equal(out(true), expected, `${value} kind ${kind} mode ${mode}`);
    }
  });

  it("fcvt from integers rounds 64-bit values by mode", () => {
    const max = 0x7fffffffffffffffn;
    assert.equal(fromInteger(false, lo(max), hi(max), IntegerKind.Long, RTZ), NX);
    assert.equal(out(false), 0x5effffffn);
    assert.equal(fromInteger(false, lo(max), hi(max), IntegerKind.Long, RNE), NX);
    assert.equal(out(false), 0x5f000000n);
    assert.equal(fromInteger(true, -1, -1, IntegerKind.LongUnsigned, RNE), NX);
    assert.equal(out(true), d(2 ** 64));
    assert.equal(fromInteger(true, -1, -1, IntegerKind.Long, RNE), 0);
    assert.equal(out(true), d(-1));
    assert.equal(fromInteger(false, -1, 0, IntegerKind.WordUnsigned, RDN), NX);
    assert.equal(out(false), 0x4f7fffffn);
  });

  it("fmin/fmax (-0 below +0, one NaN yields the other, signaling NaN raises invalid), comparisons, fclass", () => {
    assert.equal(minMax(true, lo(d(0)), hi(d(0)), lo(d(-0)), hi(d(-0)), false), 0);
    assert.equal(out(true), d(-0));
    assert.equal(minMax(true, lo(d(-0)), hi(d(-0)), lo(d(0)), hi(d(0)), true), 0);
    assert.equal(out(true), d(0));
    assert.equal(minMax(true, lo(DNAN), hi(DNAN), lo(d(1)), hi(d(1)), false), 0);
    assert.equal(out(true), d(1));
    assert.equal(minMax(true, lo(SNAN_D), hi(SNAN_D), lo(d(1)), hi(d(1)), true), NV);
    assert.equal(out(true), d(1));
    assert.equal(minMax(false, 0x7f800001, -1, 0x7fc00001, -1, true), NV);
    assert.equal(out(false), SNAN_NAN);
    assert.equal(compare(true, lo(DNAN), hi(DNAN), 0, 0, Comparison.Equal), 0);
    assert.equal(compare(true, lo(DNAN), hi(DNAN), 0, 0, Comparison.Less), NV);
    assert.equal(compare(true, lo(SNAN_D), hi(SNAN_D), 0, 0, Comparison.Equal), NV);
    assert.equal(compare(true, lo(d(-0)), hi(d(-0)), 0, 0, Comparison.LessEqual), 0);
    assert.equal(out(true), 1n);
    const classes: [bigint, number][] = [
      [d(-Infinity), 0], [d(-1), 1], [d(-(2 ** -1074)), 2], [d(-0), 3], [d(0), 4], [d(2 ** -1074), 5], [d(1), 6], [DINF, 7], [SNAN_D, 8], [DNAN, 9],
    ];
    for (const [bits, bit] of classes) {
      classify(true, lo(bits), hi(bits));
      assert.equal(out(true), 1n << BigInt(bit), `fclass of ${bits.toString(16)}`);
    }
  });
});

/** Operand bits weighted toward the edges: zeros, subnormals, near-overflow, NaNs, integers. */
function operandBits(double: boolean) {
  const width = double ? 64 : 32;
  const exponentBits = double ? 11 : 8;
  const fractionBits = width - 1 - exponentBits;
  const max = (1n << BigInt(width)) - 1n;
  const exponentMax = (1 << exponentBits) - 1;
  const biasedNear = [0, 1, 2, exponentMax - 2, exponentMax - 1, exponentMax, exponentMax >> 1, (exponentMax >> 1) + 1];
  const fraction = fc.oneof(fc.constantFrom(0n, 1n, (1n << BigInt(fractionBits)) - 1n, 1n << BigInt(fractionBits - 1)), fc.bigInt({ min: 0n, max: (1n << BigInt(fractionBits)) - 1n }));
  const structured = fc
    .tuple(fc.boolean(), fc.oneof(fc.constantFrom(...biasedNear), fc.integer({ min: 0, max: exponentMax })), fraction)
    .map(([sign, exponent, frac]) => ((sign ? 1n : 0n) << BigInt(width - 1)) | (BigInt(exponent) << BigInt(fractionBits)) | frac);
  return fc.oneof(structured, fc.bigInt({ min: 0n, max }));
}

describe("soft-float: the fast paths agree with the exact path (round to nearest even)", () => {
  const check = (double: boolean, fast: () => number, slow: () => Rounded, label: string) => {
    const flags = fast();
    const result = out(double);
    const exact = slow();
    assert.deepEqual([result.toString(16), flags], [exact.bits.toString(16), exact.flags], label);
  };
  for (const double of [false, true]) {
    const name = double ? "double" : "single";
    it(`add, sub, mul, div, sqrt, fma (${name})`, () => {
      const operand = operandBits(double);
      fc.assert(
        fc.property(operand, operand, operand, (a, b, c) => {
          const args = [double, lo(a), hi(a), lo(b), hi(b)] as const;
          const label = `${a.toString(16)} ${b.toString(16)} ${c.toString(16)}`;
          check(double, () => add(...args, RNE, false), () => addSlow(...args, RNE, false), `add ${label}`);
          check(double, () => add(...args, RNE, true), () => addSlow(...args, RNE, true), `sub ${label}`);
          check(double, () => multiply(...args, RNE), () => multiplySlow(...args, RNE), `mul ${label}`);
          check(double, () => divide(...args, RNE), () => divideSlow(...args, RNE), `div ${label}`);
          check(double, () => squareRoot(double, lo(a), hi(a), RNE), () => squareRootSlow(double, lo(a), hi(a), RNE), `sqrt ${label}`);
          for (const [negateProduct, negateAddend] of [[false, false], [true, false], [false, true], [true, true]]) {
            check(
              double,
              () => fusedMultiplyAdd(...args, lo(c), hi(c), RNE, negateProduct, negateAddend),
              () => fusedMultiplyAddSlow(...args, lo(c), hi(c), RNE, negateProduct, negateAddend),
              `fma ${negateProduct} ${negateAddend} ${label}`,
            );
          }
        }),
        { numRuns: 1000 },
      );
    });
  }
});
