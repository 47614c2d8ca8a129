import { FloatImm, FloatOp, Op, Packed } from "./ops.js";

/** One decoded instruction: the packed word (see Packed) and its immediate. */
export interface Decoded {
  /** Operation, registers and length in one word (see Packed). */
  packed: number;
  /** The sign-extended immediate, as an int32. */
  imm: number;
}

function pack(op: Op, rd: number, rs1: number, rs2: number, lengthBytes: number): number {
  return (
    op |
    ((rd === 0 ? Packed.DiscardRegister : rd) << Packed.RdShift) |
    (rs1 << Packed.Rs1Shift) |
    (rs2 << Packed.Rs2Shift) |
    (lengthBytes << Packed.LengthShift)
  );
}

/** Decodes a 16-bit (low two bits != 3) or 32-bit instruction into `out`. */
export function decode(raw: number, out: Decoded): void {
  if ((raw & 3) === 3) decode32(raw | 0, out);
  else decode16(raw & 0xffff, out);
}

/** Op.Fence's immediate for fence.i (0 for fence). */
export const FENCE_I = 1;

function set(out: Decoded, op: Op, rd: number, rs1: number, rs2: number, imm: number, lengthBytes: number): void {
  out.packed = pack(op, rd, rs1, rs2, lengthBytes);
  out.imm = imm | 0;
}

function illegal(out: Decoded, lengthBytes: number): void {
  set(out, Op.Illegal, 0, 0, 0, 0, lengthBytes);
}

const LOADS = [Op.Lb, Op.Lh, Op.Lw, Op.Ld, Op.Lbu, Op.Lhu, Op.Lwu, Op.Illegal];
const STORES = [Op.Sb, Op.Sh, Op.Sw, Op.Sd, Op.Illegal, Op.Illegal, Op.Illegal, Op.Illegal];
const BRANCHES = [Op.Beq, Op.Bne, Op.Illegal, Op.Illegal, Op.Blt, Op.Bge, Op.Bltu, Op.Bgeu];
const OP_IMM = [Op.Addi, Op.Slli, Op.Slti, Op.Sltiu, Op.Xori, Op.Srli, Op.Ori, Op.Andi];
const OP_REG = [Op.Add, Op.Sll, Op.Slt, Op.Sltu, Op.Xor, Op.Srl, Op.Or, Op.And];
const OP_MUL = [Op.Mul, Op.Mulh, Op.Mulhsu, Op.Mulhu, Op.Div, Op.Divu, Op.Rem, Op.Remu];
const OP_MUL_W = [Op.Mulw, Op.Illegal, Op.Illegal, Op.Illegal, Op.Divw, Op.Divuw, Op.Remw, Op.Remuw];
const CSR_OPS = [Op.Illegal, Op.Csrrw, Op.Csrrs, Op.Csrrc, Op.Illegal, Op.Csrrwi, Op.Csrrsi, Op.Csrrci];
const AMO_KINDS = new Set([0x00, 0x01, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c]);

function decode32(raw: number, out: Decoded): void {
  const opcode = raw & 0x7f;
  const rd = (raw >>> 7) & 0x1f;
  const funct3 = (raw >>> 12) & 7;
  const rs1 = (raw >>> 15) & 0x1f;
  const rs2 = (raw >>> 20) & 0x1f;
  const funct7 = raw >>> 25;
  const immI = raw >> 20;
  switch (opcode) {
    case 0x37:
      return set(out, Op.Lui, rd, 0, 0, raw & 0xfffff000, 4);
    case 0x17:
      return set(out, Op.Auipc, rd, 0, 0, raw & 0xfffff000, 4);
    case 0x6f: {
      const imm = ((raw >> 31) << 20) | (((raw >>> 12) & 0xff) << 12) | (((raw >>> 20) & 1) << 11) | (((raw >>> 21) & 0x3ff) << 1);
      return set(out, Op.Jal, rd, 0, 0, imm, 4);
    }
    case 0x67:
      return funct3 === 0 ? set(out, Op.Jalr, rd, rs1, 0, immI, 4) : illegal(out, 4);
    case 0x63: {
      const imm = ((raw >> 31) << 12) | (((raw >>> 7) & 1) << 11) | (((raw >>> 25) & 0x3f) << 5) | (((raw >>> 8) & 0xf) << 1);
      return set(out, BRANCHES[funct3], 0, rs1, rs2, imm, 4);
    }
    case 0x03:
      return set(out, LOADS[funct3], rd, rs1, 0, immI, 4);
    case 0x23: {
      const imm = ((raw >> 25) << 5) | ((raw >>> 7) & 0x1f);
      return set(out, STORES[funct3], 0, rs1, rs2, imm, 4);
    }
    case 0x13: {
      if (funct3 === 1 || funct3 === 5) {
        const shamt = (raw >>> 20) & 0x3f;
        const funct6 = raw >>> 26;
        if (funct3 === 1) return funct6 === 0 ? set(out, Op.Slli, rd, rs1, 0, shamt, 4) : illegal(out, 4);
        if (funct6 === 0) return set(out, Op.Srli, rd, rs1, 0, shamt, 4);
        return funct6 === 0x10 ? set(out, Op.Srai, rd, rs1, 0, shamt, 4) : illegal(out, 4);
      }
      return set(out, OP_IMM[funct3], rd, rs1, 0, immI, 4);
    }
    case 0x1b: {
      if (funct3 === 0) return set(out, Op.Addiw, rd, rs1, 0, immI, 4);
      const shamt = (raw >>> 20) & 0x1f;
      if (funct3 === 1 && funct7 === 0) return set(out, Op.Slliw, rd, rs1, 0, shamt, 4);
      if (funct3 === 5 && funct7 === 0) return set(out, Op.Srliw, rd, rs1, 0, shamt, 4);
      if (funct3 === 5 && funct7 === 0x20) return set(out, Op.Sraiw, rd, rs1, 0, shamt, 4);
      return illegal(out, 4);
    }
    case 0x33: {
      if (funct7 === 1) return set(out, OP_MUL[funct3], rd, rs1, rs2, 0, 4);
      if (funct7 === 0) return set(out, OP_REG[funct3], rd, rs1, rs2, 0, 4);
      if (funct7 === 0x20 && funct3 === 0) return set(out, Op.Sub, rd, rs1, rs2, 0, 4);
      if (funct7 === 0x20 && funct3 === 5) return set(out, Op.Sra, rd, rs1, rs2, 0, 4);
      return illegal(out, 4);
    }
    case 0x3b: {
      if (funct7 === 1) return set(out, OP_MUL_W[funct3], rd, rs1, rs2, 0, 4);
      if (funct7 === 0 && funct3 === 0) return set(out, Op.Addw, rd, rs1, rs2, 0, 4);
      if (funct7 === 0x20 && funct3 === 0) return set(out, Op.Subw, rd, rs1, rs2, 0, 4);
      if (funct7 === 0 && funct3 === 1) return set(out, Op.Sllw, rd, rs1, rs2, 0, 4);
      if (funct7 === 0 && funct3 === 5) return set(out, Op.Srlw, rd, rs1, rs2, 0, 4);
      if (funct7 === 0x20 && funct3 === 5) return set(out, Op.Sraw, rd, rs1, rs2, 0, 4);
      return illegal(out, 4);
    }
    case 0x0f:
      // fence.i (funct3 1) keeps FENCE_I in its immediate: translated code is dropped there.
      return funct3 === 0 || funct3 === 1 ? set(out, Op.Fence, 0, 0, 0, funct3 === 1 ? FENCE_I : 0, 4) : illegal(out, 4);
    case 0x73: {
      if (funct3 === 0) {
        if (raw === 0x00000073) return set(out, Op.Ecall, 0, 0, 0, 0, 4);
        if (raw === 0x00100073) return set(out, Op.Ebreak, 0, 0, 0, 0, 4);
        return illegal(out, 4);
      }
      // CSR number in the immediate; rs1 is the source register or the 5-bit zimm.
      return set(out, CSR_OPS[funct3], rd, rs1, 0, (raw >>> 20) & 0xfff, 4);
    }
    case 0x2f: {
      const funct5 = raw >>> 27;
      if (funct3 !== 2 && funct3 !== 3) return illegal(out, 4);
      const word = funct3 === 2;
      if (funct5 === 0x02) return rs2 === 0 ? set(out, word ? Op.LrW : Op.LrD, rd, rs1, 0, 0, 4) : illegal(out, 4);
      if (funct5 === 0x03) return set(out, word ? Op.ScW : Op.ScD, rd, rs1, rs2, 0, 4);
      if (!AMO_KINDS.has(funct5)) return illegal(out, 4);
      return set(out, word ? Op.AmoW : Op.AmoD, rd, rs1, rs2, funct5, 4);
    }
    case 0x07:
    case 0x27: {
      const load = opcode === 0x07;
      if (funct3 !== 2 && funct3 !== 3) return illegal(out, 4);
      const double = funct3 === 3;
      if (load) return set(out, double ? Op.Fld : Op.Flw, rd, rs1, 0, immI, 4);
      const imm = ((raw >> 25) << 5) | ((raw >>> 7) & 0x1f);
      return set(out, double ? Op.Fsd : Op.Fsw, 0, rs1, rs2, imm, 4);
    }
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const format = (raw >>> 25) & 3;
      if (format > 1 || !validStaticRm(funct3)) return illegal(out, 4);
      const op = FloatOp.MultiplyAdd + ((opcode - 0x43) >>> 2);
      return setFloat(out, op, format === 1, rd, rs1, rs2, funct3, raw >>> 27);
    }
    case 0x53:
      return decodeOpFp(raw, funct7, funct3, rd, rs1, rs2, out);
    default:
      return illegal(out, 4);
  }
}

/** Rounding-mode field values 5 and 6 are reserved (7 is dynamic, checked when executed). */
function validStaticRm(rm: number): boolean {
  return rm !== 5 && rm !== 6;
}

function setFloat(out: Decoded, op: FloatOp, double: boolean, rd: number, rs1: number, rs2: number, rm: number, rs3: number): void {
  const imm = op | (rm << FloatImm.RmShift) | (rs3 << FloatImm.Rs3Shift) | (double ? FloatImm.DoubleBit : 0);
  set(out, Op.Float, rd, rs1, rs2, imm, 4);
}

const SIGN_INJECT = [FloatOp.SignInject, FloatOp.SignInjectNegate, FloatOp.SignInjectXor];
const COMPARE = [FloatOp.LessEqual, FloatOp.Less, FloatOp.Equal];

/** OP-FP (0x53); instructions without a rounding-mode field get rm 0, so they never look at frm. */
function decodeOpFp(raw: number, funct7: number, funct3: number, rd: number, rs1: number, rs2: number, out: Decoded): void {
  const format = funct7 & 3;
  if (format > 1) return illegal(out, 4);
  const double = format === 1;
  const funct5 = funct7 >>> 2;
  const rounded = validStaticRm(funct3);
  switch (funct5) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
      return rounded ? setFloat(out, FloatOp.Add + funct5, double, rd, rs1, rs2, funct3, 0) : illegal(out, 4);
    case 0x0b:
      return rounded && rs2 === 0 ? setFloat(out, FloatOp.Sqrt, double, rd, rs1, 0, funct3, 0) : illegal(out, 4);
    case 0x04:
      return funct3 < 3 ? setFloat(out, SIGN_INJECT[funct3], double, rd, rs1, rs2, 0, 0) : illegal(out, 4);
    case 0x05:
      return funct3 < 2 ? setFloat(out, funct3 === 0 ? FloatOp.Min : FloatOp.Max, double, rd, rs1, rs2, 0, 0) : illegal(out, 4);
    case 0x08:
      return rounded && rs2 === (double ? 0 : 1) ? setFloat(out, FloatOp.ConvertFormat, double, rd, rs1, 0, funct3, 0) : illegal(out, 4);
    case 0x14:
      return funct3 < 3 ? setFloat(out, COMPARE[funct3], double, rd, rs1, rs2, 0, 0) : illegal(out, 4);
    case 0x1c:
      if (rs2 !== 0 || funct3 > 1) return illegal(out, 4);
      return setFloat(out, funct3 === 0 ? FloatOp.MoveToInteger : FloatOp.Classify, double, rd, rs1, 0, 0, 0);
    case 0x18:
      return rounded && rs2 < 4 ? setFloat(out, FloatOp.ToInteger, double, rd, rs1, rs2, funct3, 0) : illegal(out, 4);
    case 0x1a:
      return rounded && rs2 < 4 ? setFloat(out, FloatOp.FromInteger, double, rd, rs1, rs2, funct3, 0) : illegal(out, 4);
    case 0x1e:
      return rs2 === 0 && funct3 === 0 ? setFloat(out, FloatOp.MoveFromInteger, double, rd, rs1, 0, 0, 0) : illegal(out, 4);
    default:
      return illegal(out, 4);
  }
}

/** Sign-extends the low `bits` bits of `value`. */
function signExtend(value: number, bits: number): number {
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

function decode16(raw: number, out: Decoded): void {
  const quadrant = raw & 3;
  const funct3 = raw >>> 13;
  const rdFull = (raw >>> 7) & 0x1f;
  const rs2Full = (raw >>> 2) & 0x1f;
  const rdPrime = 8 + ((raw >>> 2) & 7); // rd' / rs2' in bits 4:2
  const rs1Prime = 8 + ((raw >>> 7) & 7); // rs1' / rd' in bits 9:7
  const imm6 = signExtend((((raw >>> 12) & 1) << 5) | ((raw >>> 2) & 0x1f), 6);
  if (raw === 0) return illegal(out, 2); // the defined illegal instruction
  if (quadrant === 0) {
    const lwImm = (((raw >>> 10) & 7) << 3) | (((raw >>> 6) & 1) << 2) | (((raw >>> 5) & 1) << 6);
    const ldImm = (((raw >>> 10) & 7) << 3) | (((raw >>> 5) & 3) << 6);
    switch (funct3) {
      case 0: {
        const imm = (((raw >>> 7) & 0xf) << 6) | (((raw >>> 11) & 3) << 4) | (((raw >>> 5) & 1) << 3) | (((raw >>> 6) & 1) << 2);
        return imm === 0 ? illegal(out, 2) : set(out, Op.Addi, rdPrime, 2, 0, imm, 2);
      }
      case 1:
        return set(out, Op.Fld, rdPrime, rs1Prime, 0, ldImm, 2);
      case 2:
        return set(out, Op.Lw, rdPrime, rs1Prime, 0, lwImm, 2);
      case 3:
        return set(out, Op.Ld, rdPrime, rs1Prime, 0, ldImm, 2);
      case 5:
        return set(out, Op.Fsd, 0, rs1Prime, rdPrime, ldImm, 2);
      case 6:
        return set(out, Op.Sw, 0, rs1Prime, rdPrime, lwImm, 2);
      case 7:
        return set(out, Op.Sd, 0, rs1Prime, rdPrime, ldImm, 2);
      default:
        return illegal(out, 2); // reserved
    }
  }
  if (quadrant === 1) {
    switch (funct3) {
      case 0:
        return set(out, Op.Addi, rdFull, rdFull, 0, imm6, 2);
      case 1:
        return rdFull === 0 ? illegal(out, 2) : set(out, Op.Addiw, rdFull, rdFull, 0, imm6, 2);
      case 2:
        return set(out, Op.Addi, rdFull, 0, 0, imm6, 2);
      case 3: {
        if (rdFull === 2) {
          const imm = signExtend(
            (((raw >>> 12) & 1) << 9) | (((raw >>> 6) & 1) << 4) | (((raw >>> 5) & 1) << 6) | (((raw >>> 3) & 3) << 7) | (((raw >>> 2) & 1) << 5),
            10,
          );
          return imm === 0 ? illegal(out, 2) : set(out, Op.Addi, 2, 2, 0, imm, 2);
        }
        return imm6 === 0 ? illegal(out, 2) : set(out, Op.Lui, rdFull, 0, 0, imm6 << 12, 2);
      }
      case 4: {
        const funct2 = (raw >>> 10) & 3;
        const shamt = (((raw >>> 12) & 1) << 5) | ((raw >>> 2) & 0x1f);
        if (funct2 === 0) return set(out, Op.Srli, rs1Prime, rs1Prime, 0, shamt, 2);
        if (funct2 === 1) return set(out, Op.Srai, rs1Prime, rs1Prime, 0, shamt, 2);
        if (funct2 === 2) return set(out, Op.Andi, rs1Prime, rs1Prime, 0, imm6, 2);
        const kind = (raw >>> 5) & 3;
        if (((raw >>> 12) & 1) === 0) {
          const op = [Op.Sub, Op.Xor, Op.Or, Op.And][kind];
          return set(out, op, rs1Prime, rs1Prime, rdPrime, 0, 2);
        }
        if (kind === 0) return set(out, Op.Subw, rs1Prime, rs1Prime, rdPrime, 0, 2);
        if (kind === 1) return set(out, Op.Addw, rs1Prime, rs1Prime, rdPrime, 0, 2);
        return illegal(out, 2);
      }
      case 5: {
        const imm = signExtend(
          (((raw >>> 12) & 1) << 11) |
            (((raw >>> 11) & 1) << 4) |
            (((raw >>> 9) & 3) << 8) |
            (((raw >>> 8) & 1) << 10) |
            (((raw >>> 7) & 1) << 6) |
            (((raw >>> 6) & 1) << 7) |
            (((raw >>> 3) & 7) << 1) |
            (((raw >>> 2) & 1) << 5),
          12,
        );
        return set(out, Op.Jal, 0, 0, 0, imm, 2);
      }
      default: {
        const imm = signExtend(
          (((raw >>> 12) & 1) << 8) | (((raw >>> 10) & 3) << 3) | (((raw >>> 5) & 3) << 6) | (((raw >>> 3) & 3) << 1) | (((raw >>> 2) & 1) << 5),
          9,
        );
        return set(out, funct3 === 6 ? Op.Beq : Op.Bne, 0, rs1Prime, 0, imm, 2);
      }
    }
  }
  // Quadrant 2.
  switch (funct3) {
    case 0: {
      const shamt = (((raw >>> 12) & 1) << 5) | ((raw >>> 2) & 0x1f);
      return set(out, Op.Slli, rdFull, rdFull, 0, shamt, 2);
    }
    case 2: {
      const imm = (((raw >>> 12) & 1) << 5) | (((raw >>> 4) & 7) << 2) | (((raw >>> 2) & 3) << 6);
      return rdFull === 0 ? illegal(out, 2) : set(out, Op.Lw, rdFull, 2, 0, imm, 2);
    }
    case 1:
    case 3: {
      const imm = (((raw >>> 12) & 1) << 5) | (((raw >>> 5) & 3) << 3) | (((raw >>> 2) & 7) << 6);
      // c.fldsp may load f0; c.ldsp to x0 is reserved.
      if (funct3 === 1) return set(out, Op.Fld, rdFull, 2, 0, imm, 2);
      return rdFull === 0 ? illegal(out, 2) : set(out, Op.Ld, rdFull, 2, 0, imm, 2);
    }
    case 4: {
      if (((raw >>> 12) & 1) === 0) {
        if (rs2Full === 0) return rdFull === 0 ? illegal(out, 2) : set(out, Op.Jalr, 0, rdFull, 0, 0, 2);
        return set(out, Op.Add, rdFull, 0, rs2Full, 0, 2);
      }
      if (rs2Full === 0) return rdFull === 0 ? set(out, Op.Ebreak, 0, 0, 0, 0, 2) : set(out, Op.Jalr, 1, rdFull, 0, 0, 2);
      return set(out, Op.Add, rdFull, rdFull, rs2Full, 0, 2);
    }
    case 6: {
      const imm = (((raw >>> 9) & 0xf) << 2) | (((raw >>> 7) & 3) << 6);
      return set(out, Op.Sw, 0, 2, rs2Full, imm, 2);
    }
    case 5:
    case 7: {
      const imm = (((raw >>> 10) & 7) << 3) | (((raw >>> 7) & 7) << 6);
      return set(out, funct3 === 5 ? Op.Fsd : Op.Sd, 0, 2, rs2Full, imm, 2);
    }
    default:
      throw new Error("unreachable: quadrant 2 funct3 covers 0-7");
  }
}
