/**
 * RISC-V register names and numbers, named once for the hart, its system calls, the
 * disassembler and the gdb stub.
 */

/** The integer registers by ABI name, x0 first (x8 is s0, as objdump names it). */
export const INTEGER_REGISTER_NAMES: readonly string[] = ["zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"];
/** The FP registers by ABI name, f0 first. */
export const FLOAT_REGISTER_NAMES: readonly string[] = ["ft0", "ft1", "ft2", "ft3", "ft4", "ft5", "ft6", "ft7", "fs0", "fs1", "fa0", "fa1", "fa2", "fa3", "fa4", "fa5", "fa6", "fa7", "fs2", "fs3", "fs4", "fs5", "fs6", "fs7", "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"];

/** Integer registers with a role in the calling convention. */
export const enum IntegerRegister {
  Ra = 1,
  Sp = 2,
  /** The first argument and the return value (a system call's result). */
  A0 = 10,
  /** A system call's number. */
  A7 = 17,
}

/** The CSRs the hart has: the FP control and status registers, and the read-only counters. */
export const enum Csr {
  Fflags = 0x001,
  Frm = 0x002,
  Fcsr = 0x003,
  Cycle = 0xc00,
  Time = 0xc01,
  Instret = 0xc02,
}
