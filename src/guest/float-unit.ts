/**
 * The F and D extensions' instructions, kept out of the interpreter's integer switch (the
 * hart reaches this only from its default case): loads and stores, moves, and the
 * soft-float operations of ./fpu on the hart's FP registers, with fflags and frm.
 */
import { compare, classify, Comparison, minMax } from "./fpu/compare.js";
import { BOXED_HIGH, fpOut, RoundingMode } from "./fpu/format.js";
import { signInject, SignMode } from "./fpu/sign.js";
import { unboxSingle } from "./fpu/special.js";
import type { Hart } from "./hart.js";
import { FloatImm, FloatOp, Op, Packed } from "./ops.js";

/** Executes an F/D instruction; false if `packed` is not one (or its rounding mode is reserved): illegal. */
export function executeFloat(hart: Hart, packed: number, imm: number): boolean {
  const op = packed & 0xff;
  // FP registers have no discard register: rd 32 (x0 to the decoder) is f0.
  const rdField = (packed >>> Packed.RdShift) & 63;
  const rs1 = (packed >>> Packed.Rs1Shift) & 31;
  const rs2 = (packed >>> Packed.Rs2Shift) & 31;
  const regs = hart.regs;
  const fregs = hart.fregs;
  const memory = hart.memory;
  switch (op) {
    case Op.Flw:
    case Op.Fld: {
      const fd = (rdField & 31) << 1;
      const addressLo = (regs[2 * rs1] + imm) | 0;
      const addressHi = addHigh(regs[2 * rs1], regs[2 * rs1 + 1], imm);
      if (op === Op.Flw) {
        fregs[fd] = memory.load32(addressLo, addressHi);
        fregs[fd + 1] = BOXED_HIGH;
      } else {
        fregs[fd] = memory.load64(addressLo, addressHi);
        fregs[fd + 1] = memory.loadHigh;
      }
      memory.countAccesses(1, 0);
      return true;
    }
    case Op.Fsw:
    case Op.Fsd: {
      const addressLo = (regs[2 * rs1] + imm) | 0;
      const addressHi = addHigh(regs[2 * rs1], regs[2 * rs1 + 1], imm);
      if (op === Op.Fsw) memory.store32(addressLo, addressHi, fregs[2 * rs2]);
      else memory.store64(addressLo, addressHi, fregs[2 * rs2], fregs[2 * rs2 + 1]);
      memory.countAccesses(0, 1);
      return true;
    }
    case Op.Float:
      return executeFloatOp(hart, imm, rdField, rs1, rs2);
    default:
      return false;
  }
}

/** High half of a 64-bit base plus a sign-extended 32-bit offset. */
function addHigh(baseLo: number, baseHi: number, offset: number): number {
  return (baseHi + (offset >> 31) + (((baseLo + offset) | 0) >>> 0 < baseLo >>> 0 ? 1 : 0)) | 0;
}

function executeFloatOp(hart: Hart, imm: number, rdField: number, rs1: number, rs2: number): boolean {
  const double = (imm & FloatImm.DoubleBit) !== 0;
  let rm = (imm >>> FloatImm.RmShift) & 7;
  if (rm === RoundingMode.Dynamic) rm = hart.frm;
  if (rm > RoundingMode.NearestMaxMagnitude) return false;
  const fregs = hart.fregs;
  const regs = hart.regs;
  const op = (imm & FloatImm.OpMask) as FloatOp;
  // Operands: a single is unboxed (an improperly boxed one reads as the canonical NaN).
  const aHi = fregs[2 * rs1 + 1];
  const aLo = double ? fregs[2 * rs1] : unboxSingle(fregs[2 * rs1], aHi);
  const bHi = fregs[2 * rs2 + 1];
  const bLo = double ? fregs[2 * rs2] : unboxSingle(fregs[2 * rs2], bHi);
  let flags = 0;
  /** Whether the result is an integer (to x[rd]) rather than FP bits (to f[rd]). */
  let toInteger = false;
  switch (op) {
    case FloatOp.SignInject:
      signInject(double, aLo, aHi, bLo, bHi, SignMode.Copy);
      break;
    case FloatOp.SignInjectNegate:
      signInject(double, aLo, aHi, bLo, bHi, SignMode.Negate);
      break;
    case FloatOp.SignInjectXor:
      signInject(double, aLo, aHi, bLo, bHi, SignMode.Xor);
      break;
    case FloatOp.Min:
    case FloatOp.Max:
      flags = minMax(double, aLo, aHi, bLo, bHi, op === FloatOp.Max);
      break;
    case FloatOp.Equal:
    case FloatOp.Less:
    case FloatOp.LessEqual:
      flags = compare(double, aLo, aHi, bLo, bHi, op === FloatOp.Equal ? Comparison.Equal : op === FloatOp.Less ? Comparison.Less : Comparison.LessEqual);
      toInteger = true;
      break;
    case FloatOp.Classify:
      classify(double, aLo, aHi);
      toInteger = true;
      break;
    case FloatOp.MoveToInteger:
      // fmv.x.w moves the register's low 32 bits, boxed or not, sign-extended.
      fpOut.lo = fregs[2 * rs1];
      fpOut.hi = double ? aHi : fpOut.lo >> 31;
      toInteger = true;
      break;
    case FloatOp.MoveFromInteger:
      fpOut.lo = regs[2 * rs1];
      fpOut.hi = double ? regs[2 * rs1 + 1] : BOXED_HIGH;
      break;
    default:
      return false;
  }
  if (toInteger) {
    regs[2 * rdField] = fpOut.lo;
    regs[2 * rdField + 1] = fpOut.hi;
  } else {
    const fd = (rdField & 31) << 1;
    fregs[fd] = fpOut.lo;
    fregs[fd + 1] = fpOut.hi;
  }
  hart.fflags |= flags;
  return true;
}
