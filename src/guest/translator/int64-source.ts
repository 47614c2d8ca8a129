/**
 * JavaScript source for RV64 integer arithmetic on a register's two int32 halves
 * (`regs[2n]` low, `regs[2n + 1]` high), as block-source.ts writes it into a region: each
 * operation specialised on its registers and written out rather than called (a call out of
 * a region spills its register locals), with the interpreter's results (int64.ts, hart.ts).
 */
import { Op } from "../ops.js";

/** (aLo, aHi) < (bLo, bHi), signed or unsigned, as an expression (each operand a register, local or constant). */
export function less(signed: boolean, aLo: string, aHi: string, bLo: string, bHi: string): string {
  const high = signed ? `${aHi} < ${bHi}` : `${aHi} >>> 0 < ${bHi} >>> 0`;
  return `(${high} || (${aHi} === ${bHi} && ${aLo} >>> 0 < ${bLo} >>> 0))`;
}

/** slli, srli, srai by a constant: the amount's case chosen here, not at run time. */
export function shiftByConstant(op: Op, d: number, a: string, ah: string, amount: number): string {
  if (amount === 0) return `regs[${d}] = ${a}; regs[${d + 1}] = ${ah};`;
  if (op === Op.Slli) {
    if (amount < 32) return `{ const x = ${a}; regs[${d + 1}] = (${ah} << ${amount}) | (x >>> ${32 - amount}); regs[${d}] = x << ${amount}; }`;
    return `regs[${d + 1}] = ${a} << ${amount - 32}; regs[${d}] = 0;`;
  }
  const arithmetic = op === Op.Srai;
  if (amount < 32) {
    return `{ const xh = ${ah}; regs[${d}] = (${a} >>> ${amount}) | (xh << ${32 - amount}); regs[${d + 1}] = xh ${arithmetic ? ">>" : ">>>"} ${amount}; }`;
  }
  return `{ const xh = ${ah}; regs[${d}] = xh ${arithmetic ? ">>" : ">>>"} ${amount - 32}; regs[${d + 1}] = ${arithmetic ? "xh >> 31" : "0"}; }`;
}

/**
 * sll, srl, sra by a register's low six bits, written out (a helper call would spill the
 * region's register locals). For amounts below 32 the bits crossing halves are
 * `(x << 1) << (31 - c)`: JavaScript takes shift counts mod 32, so `x << (32 - c)` would
 * keep all of x at c = 0; at 32 and above, `x >>> c` shifts by c - 32.
 */
export function shiftByRegister(op: Op, d: number, a: string, ah: string, b: string): string {
  const head = `{ const c = ${b} & 63, xl = ${a}, xh = ${ah};`;
  if (op === Op.Sll) {
    return `${head} if (c < 32) { regs[${d + 1}] = (xh << c) | ((xl >>> 1) >>> (31 - c)); regs[${d}] = xl << c; } else { regs[${d + 1}] = xl << c; regs[${d}] = 0; } }`;
  }
  const shift = op === Op.Sra ? ">>" : ">>>";
  return `${head} if (c < 32) { regs[${d}] = (xl >>> c) | ((xh << 1) << (31 - c)); regs[${d + 1}] = xh ${shift} c; } else { regs[${d}] = xh ${shift} c; regs[${d + 1}] = ${op === Op.Sra ? "xh >> 31" : "0"}; } }`;
}

/**
 * mul: the low 64 bits of a 64 x 64 product, written out. The low half is Math.imul; the
 * high half is the high word of the low halves' u32 product (from 16-bit limbs, each
 * partial sum below 2^32) plus the two cross products' low words.
 */
export function multiplyLowInline(d: number, a: string, ah: string, b: string, bh: string): string {
  return (
    `{ const xl = ${a}, yl = ${b}, x0 = xl & 0xffff, x1 = xl >>> 16, y0 = yl & 0xffff, y1 = yl >>> 16;` +
    ` const m1 = (Math.imul(x1, y0) >>> 0) + ((x0 * y0) >>> 16), m2 = (Math.imul(x0, y1) >>> 0) + (m1 & 0xffff);` +
    ` regs[${d + 1}] = ((Math.imul(x1, y1) >>> 0) + (m1 >>> 16) + (m2 >>> 16) + Math.imul(xl, ${bh}) + Math.imul(${ah}, yl)) | 0; regs[${d}] = Math.imul(xl, yl); }`
  );
}

/**
 * divw, divuw, remw, remuw, written out (a helper call would spill the register locals).
 * `| 0` truncates toward zero, as RISC-V divides, and wraps the one overflow, -2^31 / -1,
 * to -2^31 (its remainder, -0, to 0); a zero divisor gives all ones or the dividend.
 */
export function divideWord(op: Op, d: number, a: string, b: string): string {
  const signed = op === Op.Divw || op === Op.Remw;
  const [x, y] = signed ? ["x", "y"] : ["(x >>> 0)", "(y >>> 0)"];
  const result = op === Op.Divw || op === Op.Divuw ? `y === 0 ? -1 : (${x} / ${y}) | 0` : `y === 0 ? x : (${x} % ${y}) | 0`;
  return `{ const x = ${a}, y = ${b}; regs[${d}] = ${result}; regs[${d + 1}] = regs[${d}] >> 31; }`;
}
