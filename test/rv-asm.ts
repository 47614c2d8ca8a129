/** A tiny RV64 encoder for tests: enough to hand-assemble instruction-class programs. */

export const enum Reg {
  zero = 0,
  ra = 1,
  sp = 2,
  a0 = 10,
  a1 = 11,
  a7 = 17,
}

export function rType(funct7: number, rs2: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return ((funct7 << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

export function iType(imm: number, rs1: number, funct3: number, rd: number, opcode: number): number {
  return (((imm & 0xfff) << 20) | (rs1 << 15) | (funct3 << 12) | (rd << 7) | opcode) >>> 0;
}

export function sType(imm: number, rs2: number, rs1: number, funct3: number, opcode = 0x23): number {
  return ((((imm >> 5) & 0x7f) << 25) | (rs2 << 20) | (rs1 << 15) | (funct3 << 12) | ((imm & 0x1f) << 7) | opcode) >>> 0;
}

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

export function uType(imm: number, rd: number, opcode: number): number {
  return ((imm & 0xfffff000) | (rd << 7) | opcode) >>> 0;
}

export function jType(imm: number, rd: number): number {
  return (
    ((((imm >> 20) & 1) << 31) | (((imm >> 1) & 0x3ff) << 21) | (((imm >> 11) & 1) << 20) | (((imm >> 12) & 0xff) << 12) | (rd << 7) | 0x6f) >>>
    0
  );
}

export const ECALL = 0x00000073;

/** Little-endian bytes of a mixed list of 32-bit words and {c: 16-bit} compressed parcels. */
export function assemble(program: (number | { c: number })[]): Uint8Array {
  const bytes: number[] = [];
  for (const item of program) {
    if (typeof item === "number") bytes.push(item & 0xff, (item >>> 8) & 0xff, (item >>> 16) & 0xff, (item >>> 24) & 0xff);
    else bytes.push(item.c & 0xff, (item.c >>> 8) & 0xff);
  }
  return Uint8Array.from(bytes);
}

/** A minimal static ELF64 RISC-V executable: one R+X segment holding `code` at `base`. */
export function buildElf(code: Uint8Array, base = 0x10000n, overrides: { machine?: number; elfClass?: number; type?: number } = {}): Uint8Array {
  const headerBytes = 64 + 56;
  const file = new Uint8Array(headerBytes + code.length);
  const view = new DataView(file.buffer);
  file.set([0x7f, 0x45, 0x4c, 0x46, overrides.elfClass ?? 2, 1, 1, 0]);
  view.setUint16(16, overrides.type ?? 2, true); // ET_EXEC
  view.setUint16(18, overrides.machine ?? 243, true); // EM_RISCV
  view.setUint32(20, 1, true);
  view.setBigUint64(24, base + BigInt(headerBytes), true); // entry: the code
  view.setBigUint64(32, 64n, true); // phoff
  view.setUint16(52, 64, true);
  view.setUint16(54, 56, true);
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
