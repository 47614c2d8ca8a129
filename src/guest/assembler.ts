/**
 * A small RV64IM assembler: instruction encoders, labels for branches and jumps, and a
 * minimal static ELF64 writer. It lets the project build guest programs of its own with no
 * cross-compiler (the default workload), and tests hand-assemble instruction sequences.
 */

/** Register numbers by ABI name. */
export const enum Reg {
  zero = 0,
  ra = 1,
  sp = 2,
  t0 = 5,
  t1 = 6,
  t2 = 7,
  s0 = 8,
  s1 = 9,
  a0 = 10,
  a1 = 11,
  a2 = 12,
  a3 = 13,
  a7 = 17,
}

/** Encodes an R-type instruction (register-register) from its fields. */
export function rType(funct7: number, rs2: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

/** Encodes an I-type instruction; `imm` is a signed 12-bit immediate. */
export function iType(imm: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

/** Encodes an S-type instruction (a store, by default); `imm` is a signed 12-bit offset. */
export function sType(imm: number, rs2: number, rs1: number, funct3: number, opcode = 0x23): number {
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode) >>> 0;
}

/** Encodes a B-type branch; `imm` is the signed, even byte offset from the branch (13 bits). */
export function bType(imm: number, rs2: number, rs1: number, funct3: number): number {
  return (
    ((((imm >> 12) & 1) << 31) |
      (((imm >> 5) & 0x3f) << 25) |
      (rs2 << 20) |
      (rs1 << 15) |
      (funct3 << 12) |
      (((imm >> 1) & 0xf) << 8) |
      (((imm >> 11) & 1) << 7) |
      0x63) >>>
    0
  );
}

/** Encodes a U-type instruction; `imm` holds the upper 20 bits in place (its low 12 bits are ignored). */
export function uType(imm: number, rd: number, opcode: number): number {
  return ((imm & 0xfffff000) | (rd << 7) | opcode) >>> 0;
}

/** Encodes a jal; `imm` is the signed, even byte offset from the jump (21 bits). */
export function jType(imm: number, rd: number): number {
  return (
    ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>>
    0
  );
}

/** The ecall instruction word. */
export const ECALL = 0x00000073;

/** A 16-bit compressed parcel, for mixing into `assemble`. */
export interface Parcel {
  /** The parcel's 16 bits. */
  c: number;
}

/** Little-endian bytes of a mixed list of 32-bit words and compressed parcels. */
export function assemble(program: (number | Parcel)[]): Uint8Array {
  const bytes: number[] = [];
  for (const item of program) {
    if (typeof item === "number") bytes.push(item & 0xff, (item >>> 8) & 0xff, (item >>> 16) & 0xff, (item >>> 24) & 0xff);
    else bytes.push(item.c & 0xff, (item.c >>> 8) & 0xff);
  }
  return Uint8Array.from(bytes);
}

type Fixup = { at: number; label: string; encode: (offset: number) => number };

/** Builds a program of 32-bit instructions with forward and backward labels. */
export class Assembler {
  private readonly words: number[] = [];
  private readonly labels = new Map<string, number>();
  private readonly fixups: Fixup[] = [];

  /** Defines `name` at the next instruction; throws an Error if it is already defined. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`assembler: label ${name} defined twice`);
    this.labels.set(name, this.words.length * 4);
    return this;
  }

  /** Bytes emitted so far: the offset of the next instruction. */
  get sizeBytes(): number {
    return this.words.length * 4;
  }

  /** Appends a 32-bit instruction word. */
  emit(word: number): this {
    this.words.push(word >>> 0);
    return this;
  }

  /** rd = value (any 32-bit signed value): lui + addi. */
  li(rd: number, value: number): this {
    const low = (value << 20) >> 20;
    const high = (value - low) | 0;
    if (high !== 0) this.emit(uType(high, rd, 0x37));
    return this.emit(iType(low, high !== 0 ? rd : Reg.zero, 0, rd, high !== 0 ? 0x1b : 0x13));
  }

  /** rd = rs1 + imm (a signed 12-bit immediate). */
  addi(rd: number, rs1: number, imm: number): this {
    return this.emit(iType(imm, rs1, 0, rd, 0x13));
  }
  /** rd = rs1 + rs2. */
  add(rd: number, rs1: number, rs2: number): this {
    return this.emit(rType(0, rs2, rs1, 0, rd, 0x33));
  }
  /** rd = rs1. */
  mv(rd: number, rs1: number): this {
    return this.addi(rd, rs1, 0);
  }
  /** rd = rs1 / rs2, unsigned. */
  divu(rd: number, rs1: number, rs2: number): this {
    return this.emit(rType(1, rs2, rs1, 5, rd, 0x33));
  }
  /** rd = rs1 % rs2, unsigned. */
  remu(rd: number, rs1: number, rs2: number): this {
    return this.emit(rType(1, rs2, rs1, 7, rd, 0x33));
  }
  /** Stores the low byte of rs2 at rs1 + offset. */
  sb(rs2: number, offset: number, rs1: number): this {
    return this.emit(sType(offset, rs2, rs1, 0));
  }
  /** Stores the 8 bytes of rs2 at rs1 + offset. */
  sd(rs2: number, offset: number, rs1: number): this {
    return this.emit(sType(offset, rs2, rs1, 3));
  }
  /** rd = the 8 bytes at rs1 + offset. */
  ld(rd: number, offset: number, rs1: number): this {
    return this.emit(iType(offset, rs1, 3, rd, 0x03));
  }
  /** rd = rs1 - rs2. */
  sub(rd: number, rs1: number, rs2: number): this {
    return this.emit(rType(0x20, rs2, rs1, 0, rd, 0x33));
  }
  /** A system call: number in a7, arguments in a0.., result in a0. */
  ecall(): this {
    return this.emit(ECALL);
  }

  /** Branches to `label` if rs1 != rs2. */
  bne(rs1: number, rs2: number, label: string): this {
    return this.branch(1, rs1, rs2, label);
  }
  /** Branches to `label` if rs1 == rs2. */
  beq(rs1: number, rs2: number, label: string): this {
    return this.branch(0, rs1, rs2, label);
  }
  /** Jumps to `label`, the return address in rd. */
  jal(rd: number, label: string): this {
    this.fixups.push({ at: this.words.length, label, encode: (offset) => jType(offset, rd) });
    return this.emit(0);
  }

  /** The machine code, labels resolved. */
  code(): Uint8Array {
    for (const fixup of this.fixups) {
      const target = this.labels.get(fixup.label);
      if (target === undefined) throw new Error(`assembler: undefined label ${fixup.label}`);
      this.words[fixup.at] = fixup.encode(target - fixup.at * 4);
    }
    return assemble(this.words);
  }

  private branch(funct3: number, rs1: number, rs2: number, label: string): this {
    this.fixups.push({ at: this.words.length, label, encode: (offset) => bType(offset, rs2, rs1, funct3) });
    return this.emit(0);
  }
}

/** Header fields `buildElf` writes instead of its defaults, for tests of malformed files. */
export interface ElfOverrides {
  /** e_machine (default 243, RISC-V). */
  machine?: number;
  /** EI_CLASS (default 2, 64-bit). */
  elfClass?: number;
  /** e_type (default 2, an executable). */
  type?: number;
}

const ELF_HEADER_BYTES = 64;
const PROGRAM_HEADER_BYTES = 56;

/** A minimal static ELF64 RISC-V executable: one R+X segment, entry at the first instruction. */
export function buildElf(code: Uint8Array, base = 0x10000n, overrides: ElfOverrides = {}): Uint8Array {
  const headerBytes = ELF_HEADER_BYTES + PROGRAM_HEADER_BYTES;
  const file = new Uint8Array(headerBytes + code.length);
  const view = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, overrides.elfClass ?? 2, 1, 1, 0]);
  view.setUint16(16, overrides.type ?? 2, true); // ET_EXEC
  view.setUint16(18, overrides.machine ?? 243, true); // EM_RISCV
  view.setUint32(20, 1, true);
  view.setBigUint64(24, base + BigInt(headerBytes), true); // entry
  view.setBigUint64(32, BigInt(ELF_HEADER_BYTES), true); // program headers
  view.setUint16(52, ELF_HEADER_BYTES, true);
  view.setUint16(54, PROGRAM_HEADER_BYTES, true);
  view.setUint16(56, 1, true);
  view.setUint32(64, 1, true); // PT_LOAD
  view.setUint32(68, 5, true); // R + X
  view.setBigUint64(72, 0n, true);
  view.setBigUint64(80, base, true);
  view.setBigUint64(88, base, true);
  view.setBigUint64(96, BigInt(file.length), true);
  view.setBigUint64(104, BigInt(file.length), true);
  view.setBigUint64(112, 0x1000n, true);
  file.set(code, headerBytes);
  return file;
}
