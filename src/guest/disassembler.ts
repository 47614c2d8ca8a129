/**
 * An RV64GC disassembler whose text is GNU objdump's (binutils' riscv-dis): the same
 * mnemonics, aliases (li, mv, ret, beqz, sext.w, fmv.d, csrr, frflags...), compressed
 * instructions shown as the instructions they expand to, operands in its order and number
 * formats (decimal immediates, hex upper immediates, a branch's target address in hex).
 * Shared by the gdb stub's users, error messages and `memspace disasm`.
 */
import { Csr, FLOAT_REGISTER_NAMES, INTEGER_REGISTER_NAMES } from "./registers.js";

const X = INTEGER_REGISTER_NAMES;
const F = FLOAT_REGISTER_NAMES;
const ROUNDING = ["rne", "rtz", "rdn", "rup", "rmm", "0x5", "0x6", "dyn"];
const DYNAMIC_ROUNDING = 7;
/**
 * The CSRs objdump names (the privileged spec 1.11's user, supervisor, machine and debug
 * registers); an instruction on any other CSR number it shows as data, and so does this.
 */
const CSR_NAMES = new Map<number, string>([
  [Csr.Fflags, "fflags"],
  [Csr.Frm, "frm"],
  [Csr.Fcsr, "fcsr"],
  [Csr.Cycle, "cycle"],
  [Csr.Time, "time"],
  [Csr.Instret, "instret"],
  ...Array.from({ length: 29 }, (_, i) => [0xc03 + i, `hpmcounter${i + 3}`] as [number, string]),
  [0x100, "sstatus"],
  [0x104, "sie"],
  [0x105, "stvec"],
  [0x106, "scounteren"],
  [0x140, "sscratch"],
  [0x141, "sepc"],
  [0x142, "scause"],
  [0x143, "stval"],
  [0x144, "sip"],
  [0x180, "satp"],
  [0xf11, "mvendorid"],
  [0xf12, "marchid"],
  [0xf13, "mimpid"],
  [0xf14, "mhartid"],
  [0x300, "mstatus"],
  [0x301, "misa"],
  [0x302, "medeleg"],
  [0x303, "mideleg"],
  [0x304, "mie"],
  [0x305, "mtvec"],
  [0x306, "mcounteren"],
  [0x320, "mcountinhibit"],
  ...Array.from({ length: 29 }, (_, i) => [0x323 + i, `mhpmevent${i + 3}`] as [number, string]),
  [0x340, "mscratch"],
  [0x341, "mepc"],
  [0x342, "mcause"],
  [0x343, "mtval"],
  [0x344, "mip"],
  ...Array.from({ length: 4 }, (_, i) => [0x3a0 + i, `pmpcfg${i}`] as [number, string]),
  ...Array.from({ length: 16 }, (_, i) => [0x3b0 + i, `pmpaddr${i}`] as [number, string]),
  [0xb00, "mcycle"],
  [0xb02, "minstret"],
  ...Array.from({ length: 29 }, (_, i) => [0xb03 + i, `mhpmcounter${i + 3}`] as [number, string]),
  [0x7a0, "tselect"],
  [0x7a1, "tdata1"],
  [0x7a2, "tdata2"],
  [0x7a3, "tdata3"],
  [0x7b0, "dcsr"],
  [0x7b1, "dpc"],
  [0x7b2, "dscratch0"],
  [0x7b3, "dscratch1"],
]);

/** The extensions beyond RV64IMAC to decode: an ELF's arch attribute may leave out F and D (objdump then shows their encodings as data). */
export interface DisassemblyOptions {
  /** F: single-precision loads, stores and arithmetic (default true). */
  float?: boolean;
  /** D: double precision, and the compressed FP loads and stores (default true). */
  double?: boolean;
}

/** One instruction as text, and how many bytes it took. */
export interface Disassembled {
  /** The mnemonic and, after a tab, the operands (objdump's layout). */
  text: string;
  lengthBytes: 2 | 4;
}

function hex(value: bigint | number): string {
  return (typeof value === "bigint" ? value : BigInt(value)).toString(16);
}

function target(pc: bigint, offset: number): string {
  return hex(BigInt.asUintN(64, pc + BigInt(offset)));
}

function signExtend(value: number, bits: number): number {
  const shift = 32 - bits;
  return (value << shift) >> shift;
}

function op(mnemonic: string, ...operands: (string | number)[]): string {
  return operands.length === 0 ? mnemonic : `${mnemonic}\t${operands.join(",")}`;
}

/** Shift amounts are hex in objdump's text. */
function shiftAmount(amount: number): string {
  return `0x${hex(amount)}`;
}

function memory(offset: number, base: number): string {
  return `${offset}(${X[base]})`;
}

/**
 * The instruction at `pc` whose bits (a 16-bit parcel, or a 32-bit instruction when its low
 * two bits are 0b11) are `bits`. Bits no instruction has come out as objdump shows data:
 * `.2byte 0x...` or `.4byte 0x...`.
 */
export function disassemble(bits: number, pc: bigint, options: DisassemblyOptions = {}): Disassembled {
  if ((bits & 3) !== 3 || instructionLength(bits) !== 4) {
    const parcel = bits & 0xffff;
    const text = options.double === false && isCompressedFloat(parcel) ? null : compressed(parcel, pc);
    return { text: text ?? dataWord(2, BigInt(parcel)), lengthBytes: 2 };
  }
  const text = hasFloatExtension(bits, options) ? full(bits | 0, pc) : null;
  return { text: text ?? dataWord(4, BigInt(bits >>> 0)), lengthBytes: 4 };
}

/** objdump's directives for a data word of 2, 4 or 8 bytes. */
const DATA_DIRECTIVES: Readonly<Record<number, string>> = { 2: ".2byte", 4: ".4byte", 8: ".8byte" };

function dataWord(widthBytes: number, value: bigint): string {
  return op(DATA_DIRECTIVES[widthBytes], `0x${hex(value)}`);
}

/** Bytes that are not an instruction, as objdump shows them: one word of 2, 4 or 8 bytes, else a list of bytes. */
export function dataText(bytes: Uint8Array): string {
  if (DATA_DIRECTIVES[bytes.length] === undefined) return op(".byte", Array.from(bytes, (byte) => `0x${hex(byte).padStart(2, "0")}`).join(", "));
  let value = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(bytes[i]);
  return dataWord(bytes.length, value);
}

/**
 * Bytes of the instruction whose first parcel is `parcel`, by its low bits (binutils'
 * riscv_insn_length): 2 (compressed), 4, 6, 8, 10 to 22, or 2 for a length no encoding has
 * yet. Only 2 and 4 are instructions here; objdump shows the longer ones as data too.
 */
export function instructionLength(parcel: number): number {
  if ((parcel & 0x3) !== 0x3) return 2;
  if ((parcel & 0x1f) !== 0x1f) return 4;
  if ((parcel & 0x3f) === 0x1f) return 6;
  if ((parcel & 0x7f) === 0x3f) return 8;
  if ((parcel & 0x7f) === 0x7f && (parcel & 0x7000) !== 0x7000) return 10 + ((parcel >>> 12) & 7) * 2;
  return 2;
}

/** c.fld, c.fsd, c.fldsp and c.fsdsp (D's, in RV64). */
function isCompressedFloat(parcel: number): boolean {
  const quadrant = parcel & 3;
  const funct3 = parcel >>> 13;
  return quadrant !== 1 && (funct3 === 1 || funct3 === 5);
}

/** Whether the instruction's extension (F or D, by its opcode and format) is among `options`'; true for the rest. */
function hasFloatExtension(bits: number, options: DisassemblyOptions): boolean {
  const opcode = bits & 0x7f;
  let double: boolean;
  if (opcode === 0x07 || opcode === 0x27) double = ((bits >>> 12) & 7) === 3;
  else if (opcode === 0x53 || opcode === 0x43 || opcode === 0x47 || opcode === 0x4b || opcode === 0x4f) double = ((bits >>> 25) & 3) === 1;
  else return true;
  return double ? options.double !== false && options.float !== false : options.float !== false;
}

function iImmediate(bits: number): number {
  return bits >> 20;
}

function sImmediate(bits: number): number {
  return ((bits >> 25) << 5) | ((bits >>> 7) & 0x1f);
}

function bImmediate(bits: number): number {
  return signExtend((((bits >>> 31) & 1) << 12) | (((bits >>> 7) & 1) << 11) | (((bits >>> 25) & 0x3f) << 5) | (((bits >>> 8) & 0xf) << 1), 13);
}

function jImmediate(bits: number): number {
  return signExtend((((bits >>> 31) & 1) << 20) | (((bits >>> 12) & 0xff) << 12) | (((bits >>> 20) & 1) << 11) | (((bits >>> 21) & 0x3ff) << 1), 21);
}

function full(bits: number, pc: bigint): string | null {
  const opcode = bits & 0x7f;
  const rd = (bits >>> 7) & 31;
  const funct3 = (bits >>> 12) & 7;
  const rs1 = (bits >>> 15) & 31;
  const rs2 = (bits >>> 20) & 31;
  const funct7 = bits >>> 25;
  switch (opcode) {
    case 0x37:
      return op("lui", X[rd], `0x${hex(bits >>> 12)}`);
    case 0x17:
      return op("auipc", X[rd], `0x${hex(bits >>> 12)}`);
    case 0x6f:
      return jump(rd, target(pc, jImmediate(bits)));
    case 0x67:
      return funct3 === 0 ? jumpRegister(rd, rs1, iImmediate(bits)) : null;
    case 0x63:
      return branch(funct3, rs1, rs2, target(pc, bImmediate(bits)));
    case 0x03: {
      const name = ["lb", "lh", "lw", "ld", "lbu", "lhu", "lwu"][funct3];
      return name === undefined ? null : op(name, X[rd], memory(iImmediate(bits), rs1));
    }
    case 0x23: {
      const name = ["sb", "sh", "sw", "sd"][funct3];
      return name === undefined ? null : op(name, X[rs2], memory(sImmediate(bits), rs1));
    }
    case 0x13:
      return immediateOp(funct3, rd, rs1, iImmediate(bits), funct7);
    case 0x1b:
      return immediateWordOp(funct3, rd, rs1, iImmediate(bits), funct7);
    case 0x33:
      return registerOp(funct7, funct3, rd, rs1, rs2);
    case 0x3b:
      return registerWordOp(funct7, funct3, rd, rs1, rs2);
    case 0x0f:
      return fence(bits, funct3, rd, rs1);
    case 0x73:
      return system(bits, funct3, rd, rs1);
    case 0x2f:
      return atomic(funct3, funct7, rd, rs1, rs2);
    case 0x07: {
      const name = funct3 === 2 ? "flw" : funct3 === 3 ? "fld" : null;
      return name === null ? null : op(name, F[rd], memory(iImmediate(bits), rs1));
    }
    case 0x27: {
      const name = funct3 === 2 ? "fsw" : funct3 === 3 ? "fsd" : null;
      return name === null ? null : op(name, F[rs2], memory(sImmediate(bits), rs1));
    }
    case 0x43:
    case 0x47:
    case 0x4b:
    case 0x4f: {
      const format = funct7 & 3;
      if (format > 1) return null;
      const name = { 0x43: "fmadd", 0x47: "fmsub", 0x4b: "fnmsub", 0x4f: "fnmadd" }[opcode]!;
      return withRounding(op(`${name}.${format === 0 ? "s" : "d"}`, F[rd], F[rs1], F[rs2], F[funct7 >>> 2]), funct3);
    }
    case 0x53:
      return floatOp(funct7, funct3, rd, rs1, rs2);
    default:
      return null;
  }
}

function jump(rd: number, to: string): string {
  if (rd === 0) return op("j", to);
  if (rd === 1) return op("jal", to);
  return op("jal", X[rd], to);
}

function jumpRegister(rd: number, rs1: number, offset: number): string {
  if (rd === 0 && rs1 === 1 && offset === 0) return "ret";
  if (rd === 0) return offset === 0 ? op("jr", X[rs1]) : op("jr", memory(offset, rs1));
  if (rd === 1) return offset === 0 ? op("jalr", X[rs1]) : op("jalr", memory(offset, rs1));
  return op("jalr", X[rd], memory(offset, rs1));
}

function branch(funct3: number, rs1: number, rs2: number, to: string): string | null {
  const names = ["beq", "bne", null, null, "blt", "bge", "bltu", "bgeu"];
  const name = names[funct3];
  if (name === null) return null;
  if (rs2 === 0 && funct3 <= 5) return op(`${name}z`, X[rs1], to);
  if (rs1 === 0 && name === "blt") return op("bgtz", X[rs2], to);
  if (rs1 === 0 && name === "bge") return op("blez", X[rs2], to);
  return op(name, X[rs1], X[rs2], to);
}

function immediateOp(funct3: number, rd: number, rs1: number, imm: number, funct7: number): string | null {
  const shamt = imm & 0x3f;
  switch (funct3) {
    case 0:
      if (rd === 0 && rs1 === 0 && imm === 0) return "nop";
      if (rs1 === 0) return op("li", X[rd], imm);
      if (imm === 0) return op("mv", X[rd], X[rs1]);
      return op("add", X[rd], X[rs1], imm);
    case 1:
      return funct7 >>> 1 === 0 ? op("sll", X[rd], X[rs1], shiftAmount(shamt)) : null;
    case 2:
      return op("slti", X[rd], X[rs1], imm);
    case 3:
      return imm === 1 ? op("seqz", X[rd], X[rs1]) : op("sltiu", X[rd], X[rs1], imm);
    case 4:
      return imm === -1 ? op("not", X[rd], X[rs1]) : op("xor", X[rd], X[rs1], imm);
    case 5:
      if (funct7 >>> 1 === 0) return op("srl", X[rd], X[rs1], shiftAmount(shamt));
      if (funct7 >>> 1 === 0x10) return op("sra", X[rd], X[rs1], shiftAmount(shamt));
      return null;
    case 6:
      return op("or", X[rd], X[rs1], imm);
    default:
      return imm === 255 ? op("zext.b", X[rd], X[rs1]) : op("and", X[rd], X[rs1], imm);
  }
}

function immediateWordOp(funct3: number, rd: number, rs1: number, imm: number, funct7: number): string | null {
  const shamt = imm & 0x1f;
  if (funct3 === 0) return imm === 0 ? op("sext.w", X[rd], X[rs1]) : op("addw", X[rd], X[rs1], imm);
  if (funct3 === 1 && funct7 === 0) return op("sllw", X[rd], X[rs1], shiftAmount(shamt));
  if (funct3 === 5 && funct7 === 0) return op("srlw", X[rd], X[rs1], shiftAmount(shamt));
  if (funct3 === 5 && funct7 === 0x20) return op("sraw", X[rd], X[rs1], shiftAmount(shamt));
  return null;
}

function registerOp(funct7: number, funct3: number, rd: number, rs1: number, rs2: number): string | null {
  if (funct7 === 1) return op(["mul", "mulh", "mulhsu", "mulhu", "div", "divu", "rem", "remu"][funct3], X[rd], X[rs1], X[rs2]);
  if (funct7 === 0x20) {
    if (funct3 === 0) return rs1 === 0 ? op("neg", X[rd], X[rs2]) : op("sub", X[rd], X[rs1], X[rs2]);
    if (funct3 === 5) return op("sra", X[rd], X[rs1], X[rs2]);
    return null;
  }
  if (funct7 !== 0) return null;
  if (funct3 === 2 && rs2 === 0) return op("sltz", X[rd], X[rs1]);
  if (funct3 === 2 && rs1 === 0) return op("sgtz", X[rd], X[rs2]);
  if (funct3 === 3 && rs1 === 0) return op("snez", X[rd], X[rs2]);
  return op(["add", "sll", "slt", "sltu", "xor", "srl", "or", "and"][funct3], X[rd], X[rs1], X[rs2]);
}

function registerWordOp(funct7: number, funct3: number, rd: number, rs1: number, rs2: number): string | null {
  if (funct7 === 1) {
    const name = ["mulw", null, null, null, "divw", "divuw", "remw", "remuw"][funct3];
    return name === null ? null : op(name, X[rd], X[rs1], X[rs2]);
  }
  if (funct7 === 0x20) {
    if (funct3 === 0) return rs1 === 0 ? op("negw", X[rd], X[rs2]) : op("subw", X[rd], X[rs1], X[rs2]);
    if (funct3 === 5) return op("sraw", X[rd], X[rs1], X[rs2]);
    return null;
  }
  if (funct7 !== 0) return null;
  const name = ["addw", "sllw", null, null, null, "srlw", null, null][funct3];
  return name === null ? null : op(name, X[rd], X[rs1], X[rs2]);
}

function fenceSet(bits: number): string {
  return (bits & 8 ? "i" : "") + (bits & 4 ? "o" : "") + (bits & 2 ? "r" : "") + (bits & 1 ? "w" : "");
}

function fence(bits: number, funct3: number, rd: number, rs1: number): string | null {
  if (funct3 === 1) return "fence.i";
  if (funct3 !== 0) return null;
  const pred = (bits >>> 24) & 15;
  const succ = (bits >>> 20) & 15;
  if (bits >>> 28 === 8 && pred === 3 && succ === 3) return "fence.tso";
  if (rd !== 0 || rs1 !== 0 || bits >>> 28 !== 0) return null;
  if (pred === 15 && succ === 15) return "fence";
  return op("fence", fenceSet(pred), fenceSet(succ));
}

function system(bits: number, funct3: number, rd: number, rs1: number): string | null {
  const csr = bits >>> 20;
  const csrName = (number: number): string => CSR_NAMES.get(number)!;
  if (funct3 === 0) {
    if (bits >>> 0 === 0x00000073) return "ecall";
    if (bits >>> 0 === 0x00100073) return "ebreak";
    return null;
  }
  if (bits >>> 0 === 0xc0001073) return "unimp";
  if (!CSR_NAMES.has(csr)) return null;
  const immediate = funct3 >= 5;
  const source = immediate ? rs1 : X[rs1];
  const kind = funct3 & 3; // 1 write, 2 set, 3 clear
  if (kind === 0) return null;
  if (!immediate) {
    if (csr === Csr.Fflags && kind === 2 && rs1 === 0) return op("frflags", X[rd]);
    if (csr === Csr.Fflags && kind === 1) return rd === 0 ? op("fsflags", X[rs1]) : op("fsflags", X[rd], X[rs1]);
    if (csr === Csr.Frm && kind === 2 && rs1 === 0) return op("frrm", X[rd]);
    if (csr === Csr.Frm && kind === 1) return rd === 0 ? op("fsrm", X[rs1]) : op("fsrm", X[rd], X[rs1]);
    if (csr === Csr.Fcsr && kind === 2 && rs1 === 0) return op("frcsr", X[rd]);
    if (csr === Csr.Fcsr && kind === 1) return rd === 0 ? op("fscsr", X[rs1]) : op("fscsr", X[rd], X[rs1]);
    if (kind === 2 && rs1 === 0) {
      const counter = { [Csr.Cycle]: "rdcycle", [Csr.Time]: "rdtime", [Csr.Instret]: "rdinstret" }[csr];
      return counter !== undefined ? op(counter, X[rd]) : op("csrr", X[rd], csrName(csr));
    }
  } else {
    if (csr === Csr.Fflags && kind === 1) return rd === 0 ? op("fsflagsi", rs1) : op("fsflagsi", X[rd], rs1);
    if (csr === Csr.Frm && kind === 1) return rd === 0 ? op("fsrmi", rs1) : op("fsrmi", X[rd], rs1);
  }
  const names = ["", "csrrw", "csrrs", "csrrc"];
  // Without a destination objdump names the immediate forms as the register ones: "csrs fflags,16".
  if (rd === 0) return op(["", "csrw", "csrs", "csrc"][kind], csrName(csr), source);
  return op(`${names[kind]}${immediate ? "i" : ""}`, X[rd], csrName(csr), source);
}

function atomic(funct3: number, funct7: number, rd: number, rs1: number, rs2: number): string | null {
  if (funct3 !== 2 && funct3 !== 3) return null;
  const width = funct3 === 2 ? "w" : "d";
  const order = ["", ".rl", ".aq", ".aqrl"][funct7 & 3];
  const kind = funct7 >>> 2;
  const address = `(${X[rs1]})`;
  if (kind === 0x02) return rs2 === 0 ? op(`lr.${width}${order}`, X[rd], address) : null;
  if (kind === 0x03) return op(`sc.${width}${order}`, X[rd], X[rs2], address);
  const name = { 0x01: "amoswap", 0x00: "amoadd", 0x04: "amoxor", 0x0c: "amoand", 0x08: "amoor", 0x10: "amomin", 0x14: "amomax", 0x18: "amominu", 0x1c: "amomaxu" }[kind];
  return name === undefined ? null : op(`${name}.${width}${order}`, X[rd], X[rs2], address);
}

function withRounding(text: string, rm: number): string {
  return rm === DYNAMIC_ROUNDING ? text : `${text},${ROUNDING[rm]}`;
}

/** An exact conversion's rounding mode: not shown for rne (its canonical encoding) or dyn. */
function exactRounding(text: string, rm: number): string {
  return rm === 0 ? text : withRounding(text, rm);
}

function floatOp(funct7: number, rm: number, rd: number, rs1: number, rs2: number): string | null {
  const format = funct7 & 3;
  if (format > 1) return null;
  const suffix = format === 0 ? "s" : "d";
  switch (funct7 >>> 2) {
    case 0x00:
    case 0x01:
    case 0x02:
    case 0x03:
      return withRounding(op(`${["fadd", "fsub", "fmul", "fdiv"][funct7 >>> 2]}.${suffix}`, F[rd], F[rs1], F[rs2]), rm);
    case 0x0b:
      return rs2 === 0 ? withRounding(op(`fsqrt.${suffix}`, F[rd], F[rs1]), rm) : null;
    case 0x04: {
      if (rm > 2) return null;
      if (rs1 === rs2) return op(`${["fmv", "fneg", "fabs"][rm]}.${suffix}`, F[rd], F[rs1]);
      return op(`${["fsgnj", "fsgnjn", "fsgnjx"][rm]}.${suffix}`, F[rd], F[rs1], F[rs2]);
    }
    case 0x05:
      return rm > 1 ? null : op(`${rm === 0 ? "fmin" : "fmax"}.${suffix}`, F[rd], F[rs1], F[rs2]);
    case 0x08: {
      // fcvt.s.d (format s, rs2 1) and fcvt.d.s (format d, rs2 0, exact).
      if (rs2 !== 1 - format) return null;
      const text = op(`fcvt.${suffix}.${format === 0 ? "d" : "s"}`, F[rd], F[rs1]);
      return format === 1 ? exactRounding(text, rm) : withRounding(text, rm);
    }
    case 0x14: {
      const name = ["fle", "flt", "feq"][rm];
      return name === undefined ? null : op(`${name}.${suffix}`, X[rd], F[rs1], F[rs2]);
    }
    case 0x18: {
      const integer = ["w", "wu", "l", "lu"][rs2];
      return integer === undefined ? null : withRounding(op(`fcvt.${integer}.${suffix}`, X[rd], F[rs1]), rm);
    }
    case 0x1a: {
      const integer = ["w", "wu", "l", "lu"][rs2];
      if (integer === undefined) return null;
      const text = op(`fcvt.${suffix}.${integer}`, F[rd], X[rs1]);
      // A 32-bit integer always fits a double: that conversion is exact.
      return format === 1 && rs2 < 2 ? exactRounding(text, rm) : withRounding(text, rm);
    }
    case 0x1c:
      if (rs2 !== 0) return null;
      if (rm === 0) return op(`fmv.x.${format === 0 ? "w" : "d"}`, X[rd], F[rs1]);
      if (rm === 1) return op(`fclass.${suffix}`, X[rd], F[rs1]);
      return null;
    case 0x1e:
      return rs2 === 0 && rm === 0 ? op(`fmv.${format === 0 ? "w" : "d"}.x`, F[rd], X[rs1]) : null;
    default:
      return null;
  }
}

/** Compressed registers: x8-x15. */
function cReg(field: number): number {
  return 8 + (field & 7);
}

function compressed(bits: number, pc: bigint): string | null {
  const quadrant = bits & 3;
  const funct3 = bits >>> 13;
  const rd = (bits >>> 7) & 31;
  const rs2 = (bits >>> 2) & 31;
  const rdPrime = cReg(bits >>> 2);
  const rs1Prime = cReg(bits >>> 7);
  if (bits === 0) return "unimp";
  if (quadrant === 0) {
    switch (funct3) {
      case 0: {
        const imm = (((bits >>> 7) & 0xf) << 6) | (((bits >>> 11) & 3) << 4) | (((bits >>> 5) & 1) << 3) | (((bits >>> 6) & 1) << 2);
        return imm === 0 ? null : op("add", X[rdPrime], "sp", imm);
      }
      case 1:
        return op("fld", F[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 5) & 3) << 6), rs1Prime));
      case 2:
        return op("lw", X[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 6) & 1) << 2) | (((bits >>> 5) & 1) << 6), rs1Prime));
      case 3:
        return op("ld", X[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 5) & 3) << 6), rs1Prime));
      case 5:
        return op("fsd", F[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 5) & 3) << 6), rs1Prime));
      case 6:
        return op("sw", X[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 6) & 1) << 2) | (((bits >>> 5) & 1) << 6), rs1Prime));
      case 7:
        return op("sd", X[rdPrime], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 5) & 3) << 6), rs1Prime));
      default:
        return null;
    }
  }
  const imm6 = signExtend((((bits >>> 12) & 1) << 5) | ((bits >>> 2) & 0x1f), 6);
  if (quadrant === 1) {
    switch (funct3) {
      case 0:
        if (rd === 0) return imm6 === 0 ? "nop" : op("c.nop", imm6);
        return imm6 === 0 ? op("c.addi", X[rd], imm6) : op("add", X[rd], X[rd], imm6);
      case 1:
        if (rd === 0) return null;
        return imm6 === 0 ? op("sext.w", X[rd], X[rd]) : op("addw", X[rd], X[rd], imm6);
      case 2:
        return op("li", X[rd], imm6);
      case 3:
        if (rd === 2) {
          const imm = signExtend((((bits >>> 12) & 1) << 9) | (((bits >>> 3) & 3) << 7) | (((bits >>> 5) & 1) << 6) | (((bits >>> 2) & 1) << 5) | (((bits >>> 6) & 1) << 4), 10);
          return imm === 0 ? null : op("add", "sp", "sp", imm);
        }
        if (imm6 === 0) return null;
        return op(rd === 0 ? "c.lui" : "lui", X[rd], `0x${hex(imm6 & 0xfffff)}`);
      case 4: {
        const kind = (bits >>> 10) & 3;
        const shamt = (((bits >>> 12) & 1) << 5) | ((bits >>> 2) & 0x1f);
        if (kind === 0) return shamt === 0 ? op("c.srli64", X[rs1Prime]) : op("srl", X[rs1Prime], X[rs1Prime], shiftAmount(shamt));
        if (kind === 1) return shamt === 0 ? op("c.srai64", X[rs1Prime]) : op("sra", X[rs1Prime], X[rs1Prime], shiftAmount(shamt));
        if (kind === 2) return op("and", X[rs1Prime], X[rs1Prime], imm6);
        const which = (((bits >>> 12) & 1) << 2) | ((bits >>> 5) & 3);
        const name = ["sub", "xor", "or", "and", "subw", "addw", null, null][which];
        return name === null ? null : op(name, X[rs1Prime], X[rs1Prime], X[rdPrime]);
      }
      case 5: {
        const offset = signExtend((((bits >>> 12) & 1) << 11) | (((bits >>> 8) & 1) << 10) | (((bits >>> 9) & 3) << 8) | (((bits >>> 6) & 1) << 7) | (((bits >>> 7) & 1) << 6) | (((bits >>> 2) & 1) << 5) | (((bits >>> 11) & 1) << 4) | (((bits >>> 3) & 7) << 1), 12);
        return op("j", target(pc, offset));
      }
      default: {
        const offset = signExtend((((bits >>> 12) & 1) << 8) | (((bits >>> 5) & 3) << 6) | (((bits >>> 2) & 1) << 5) | (((bits >>> 10) & 3) << 3) | (((bits >>> 3) & 3) << 1), 9);
        return op(funct3 === 6 ? "beqz" : "bnez", X[rs1Prime], target(pc, offset));
      }
    }
  }
  if (quadrant === 2) {
    const shamt = (((bits >>> 12) & 1) << 5) | ((bits >>> 2) & 0x1f);
    switch (funct3) {
      case 0:
        if (shamt === 0) return op("c.slli64", X[rd]);
        return rd === 0 ? op("c.slli", X[rd], shiftAmount(shamt)) : op("sll", X[rd], X[rd], shiftAmount(shamt));
      case 1:
        return op("fld", F[rd], memory((((bits >>> 12) & 1) << 5) | (((bits >>> 5) & 3) << 3) | (((bits >>> 2) & 7) << 6), 2));
      case 2:
        return rd === 0 ? null : op("lw", X[rd], memory((((bits >>> 12) & 1) << 5) | (((bits >>> 4) & 7) << 2) | (((bits >>> 2) & 3) << 6), 2));
      case 3:
        return rd === 0 ? null : op("ld", X[rd], memory((((bits >>> 12) & 1) << 5) | (((bits >>> 5) & 3) << 3) | (((bits >>> 2) & 7) << 6), 2));
      case 4:
        if (((bits >>> 12) & 1) === 0) {
          if (rs2 === 0) return rd === 0 ? null : rd === 1 ? "ret" : op("jr", X[rd]);
          return rd === 0 ? op("c.mv", X[rd], X[rs2]) : op("mv", X[rd], X[rs2]);
        }
        if (rs2 === 0) return rd === 0 ? "ebreak" : op("jalr", X[rd]);
        return rd === 0 ? op("c.add", X[rd], X[rs2]) : op("add", X[rd], X[rd], X[rs2]);
      case 5:
        return op("fsd", F[rs2], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 7) & 7) << 6), 2));
      case 6:
        return op("sw", X[rs2], memory((((bits >>> 9) & 0xf) << 2) | (((bits >>> 7) & 3) << 6), 2));
      default:
        return op("sd", X[rs2], memory((((bits >>> 10) & 7) << 3) | (((bits >>> 7) & 7) << 6), 2));
    }
  }
  return null;
}
