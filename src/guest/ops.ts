/**
 * Decoded operation numbers. Compressed instructions decode to the same operations as the
 * base instructions they expand to, so the executor has one case per operation.
 */
export const enum Op {
  Illegal = 0,
  Lui,
  Auipc,
  Jal,
  Jalr,
  Beq,
  Bne,
  Blt,
  Bge,
  Bltu,
  Bgeu,
  Lb,
  Lh,
  Lw,
  Ld,
  Lbu,
  Lhu,
  Lwu,
  Sb,
  Sh,
  Sw,
  Sd,
  Addi,
  Slti,
  Sltiu,
  Xori,
  Ori,
  Andi,
  Slli,
  Srli,
  Srai,
  Addiw,
  Slliw,
  Srliw,
  Sraiw,
  Add,
  Sub,
  Sll,
  Slt,
  Sltu,
  Xor,
  Srl,
  Sra,
  Or,
  And,
  Addw,
  Subw,
  Sllw,
  Srlw,
  Sraw,
  Mul,
  Mulh,
  Mulhsu,
  Mulhu,
  Div,
  Divu,
  Rem,
  Remu,
  Mulw,
  Divw,
  Divuw,
  Remw,
  Remuw,
  Fence,
  Ecall,
  Ebreak,
  Csrrw,
  Csrrs,
  Csrrc,
  Csrrwi,
  Csrrsi,
  Csrrci,
  LrW,
  ScW,
  LrD,
  ScD,
  /** AMO on a word or doubleword; the AMO kind (funct5) is in the immediate. */
  AmoW,
  AmoD,
  /** FP loads and stores (F and D): rd/rs2 name FP registers, the immediate is the offset. */
  Flw,
  Fld,
  Fsw,
  Fsd,
  /** Any other F/D instruction: the immediate holds its FloatOp, rounding mode, rs3 and format (FloatImm). */
  Float,
}

/** F/D operations other than loads and stores, in the low bits of Op.Float's immediate. */
export const enum FloatOp {
  Add = 0,
  Sub,
  Mul,
  Div,
  Sqrt,
  SignInject,
  SignInjectNegate,
  SignInjectXor,
  Min,
  Max,
  /** fcvt.s.d (format single) or fcvt.d.s (format double): to the instruction's format. */
  ConvertFormat,
  Equal,
  Less,
  LessEqual,
  Classify,
  /** fmv.x.w / fmv.x.d */
  MoveToInteger,
  /** fmv.w.x / fmv.d.x */
  MoveFromInteger,
  /** fcvt.{w,wu,l,lu}.{s,d}: the integer kind (IntKind) is in rs2. */
  ToInteger,
  /** fcvt.{s,d}.{w,wu,l,lu}: the integer kind (IntKind) is in rs2. */
  FromInteger,
  MultiplyAdd,
  MultiplySubtract,
  NegateMultiplySubtract,
  NegateMultiplyAdd,
}

/** Field positions in Op.Float's immediate. */
export const enum FloatImm {
  OpMask = 0xff,
  RmShift = 8,
  Rs3Shift = 11,
  /** Set for D-format instructions, clear for S. */
  DoubleBit = 1 << 16,
}

/** The rs2 field of fcvt between FP and integer registers. */
export const enum IntKind {
  Word = 0,
  WordUnsigned = 1,
  Long = 2,
  LongUnsigned = 3,
}

/** AMO funct5 values. */
export const enum Amo {
  Add = 0x00,
  Swap = 0x01,
  Xor = 0x04,
  Or = 0x08,
  And = 0x0c,
  Min = 0x10,
  Max = 0x14,
  Minu = 0x18,
  Maxu = 0x1c,
}

/**
 * Packed decode word: op in bits 0-7, rd 8-13 (0 is mapped to 32, the discard register),
 * rs1 14-18, rs2 19-23, instruction length in bytes in bits 24-26.
 */
export const enum Packed {
  RdShift = 8,
  Rs1Shift = 14,
  Rs2Shift = 19,
  LengthShift = 24,
  /** Writes to x0 go to this register, which nothing reads. */
  DiscardRegister = 32,
}
