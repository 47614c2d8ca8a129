import { Assembler, buildElf, Reg } from "./assembler.js";

const SYS_WRITE = 64;
const SYS_EXIT = 93;
/** Stack bytes for the decimal digits of a 64-bit number and a newline. */
const DIGITS_BUFFER_BYTES = 32;

/**
 * The project's own Fibonacci guest, assembled here (no cross-compiler needed): iterates
 * F(n) modulo 2^64 `iterations` times in registers, keeps the pair in a stack frame every
 * iteration (a load and a store of data beside the fetches), prints F(n) in decimal with
 * write(2) and exits with code 0.
 */
export function buildFibGuest(iterations: number): Uint8Array {
  const asm = new Assembler();
  asm
    .addi(Reg.sp, Reg.sp, -64)
    .li(Reg.a0, iterations)
    .li(Reg.t0, 0) // F(i)
    .li(Reg.t1, 1) // F(i + 1)
    .sd(Reg.t0, 0, Reg.sp)
    .beq(Reg.a0, Reg.zero, "print")
    .label("loop")
    .ld(Reg.t0, 0, Reg.sp)
    .add(Reg.t2, Reg.t0, Reg.t1)
    .mv(Reg.t0, Reg.t1)
    .sd(Reg.t0, 0, Reg.sp)
    .mv(Reg.t1, Reg.t2)
    .addi(Reg.a0, Reg.a0, -1)
    .bne(Reg.a0, Reg.zero, "loop")
    // Digits, last first, into the buffer at sp + 16 .. sp + 48; a newline at the end.
    .label("print")
    .ld(Reg.t0, 0, Reg.sp)
    .addi(Reg.s0, Reg.sp, 16 + DIGITS_BUFFER_BYTES - 1)
    .li(Reg.t2, 10)
    .sb(Reg.t2, 0, Reg.s0)
    .label("digit")
    .addi(Reg.s0, Reg.s0, -1)
    .remu(Reg.t1, Reg.t0, Reg.t2)
    .addi(Reg.t1, Reg.t1, 48)
    .sb(Reg.t1, 0, Reg.s0)
    .divu(Reg.t0, Reg.t0, Reg.t2)
    .bne(Reg.t0, Reg.zero, "digit")
    .li(Reg.a0, 1)
    .mv(Reg.a1, Reg.s0)
    .addi(Reg.a2, Reg.sp, 16 + DIGITS_BUFFER_BYTES)
    .sub(Reg.a2, Reg.a2, Reg.s0)
    .li(Reg.a7, SYS_WRITE)
    .ecall()
    .li(Reg.a0, 0)
    .li(Reg.a7, SYS_EXIT)
    .ecall();
  return buildElf(asm.code());
}

/** F(n) modulo 2^64, for checking the guest. */
export function fibonacciMod64(n: number): bigint {
  let a = 0n;
  let b = 1n;
  for (let i = 0; i < n; i++) [a, b] = [b, BigInt.asUintN(64, a + b)];
  return a;
}
