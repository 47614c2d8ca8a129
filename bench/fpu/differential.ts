/**
 * Instruction-level differential testing of the F/D extensions against qemu-riscv64: a
 * seeded generator of random instruction sequences on edge-case operands, an assembly
 * harness (cross-gcc, no libc: write and exit_group only) that runs each sequence from a
 * known state and writes every integer register, FP register and fcsr, and a runner that
 * requires the emulator's bytes to equal qemu's.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runGuest } from "../../src/guest/run-guest.js";

export const CROSS_GCC = "riscv64-linux-gnu-gcc";
export const QEMU = "qemu-riscv64";

/** Whether a tool runs (`--version` succeeds). */
export function toolPresent(command: string): boolean {
  return spawnSync(command, ["--version"], { stdio: "ignore" }).status === 0;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same programs. */
export class Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  }
  below(count: number): number {
    return Math.floor(this.next() * count);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)];
  }
  bits(count: number): bigint {
    let value = 0n;
    for (let i = 0; i < count; i += 16) value = (value << 16n) | BigInt(this.below(0x10000));
    return value & ((1n << BigInt(count)) - 1n);
  }
}

/** Integer registers a sequence may use: all but zero, ra, sp, gp, tp and the harness's s0/s1. */
const INT_REGISTERS = [5, 6, 7, ...Array.from({ length: 22 }, (_, i) => 10 + i)];
const DATA_POINTER = "s0";
const OUT_POINTER = "s1";
const FP_COUNT = 32;
/** Per sequence: FP operands, integer operands, then scratch for FP stores. */
const FP_DATA_BYTES = FP_COUNT * 8;
const INT_DATA_BYTES = INT_REGISTERS.length * 8;
const SCRATCH_BYTES = 64;
const DATA_STRIDE_BYTES = FP_DATA_BYTES + INT_DATA_BYTES + SCRATCH_BYTES;
/** Per sequence written out: integer registers, FP registers, fcsr. */
export const RECORD_BYTES = (INT_REGISTERS.length + FP_COUNT + 1) * 8;

/** A double's bits. */
export function doubleBits(value: number): bigint {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value, true);
  return view.getBigUint64(0, true);
}

/** A single's bits. */
export function singleBits(value: number): bigint {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, value, true);
  return BigInt(view.getUint32(0, true));
}

/** Values at the edges: zeros, subnormals, extremes, integer limits and halves, ulp neighbours. */
const EDGE_VALUES = [
  0, -0, 1, -1, 0.5, -0.5, 1.5, 2.5, -2.5, 3, 0.1, 1 / 3, Infinity, -Infinity,
  2 ** 31, 2 ** 31 - 0.5, 2 ** 31 - 1, -(2 ** 31), -(2 ** 31) - 0.5, -(2 ** 31) - 1, 2 ** 32, 2 ** 32 - 1, 2 ** 32 - 0.5,
  2 ** 63, -(2 ** 63), 2 ** 64, 2 ** 53 + 2, 2 ** 24 + 2, 1 + 2 ** -23, 1 - 2 ** -24, 1 + 2 ** -52, 1 - 2 ** -53,
];
const DOUBLE_SPECIAL_BITS = [
  0x0000000000000001n, 0x800fffffffffffffn, 0x0010000000000000n, 0x000fffffffffffffn, 0x7fefffffffffffffn, 0xffefffffffffffffn,
  0x7ff8000000000000n, 0xfff8000000000000n, 0x7ff8000000000abcn, 0x7ff0000000000001n, 0xfff4000000000000n, 0x7ff7ffffffffffffn,
  0x3800000000000000n, 0x36a0000000000000n, 0x47efffffe0000000n, 0x3810000000000000n,
];
const SINGLE_SPECIAL_BITS = [
  0x00000001n, 0x807fffffn, 0x00800000n, 0x007fffffn, 0x7f7fffffn, 0xff7fffffn,
  0x7fc00000n, 0xffc00000n, 0x7fc00abcn, 0x7f800001n, 0xffa00000n, 0x7fbfffffn, 0x0b800000n,
];
const BOX = 0xffffffff00000000n;
const U64 = (1n << 64n) - 1n;
const INT_EDGES = [0n, 1n, U64, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0xffffffff80000000n, (1n << 63n) - 1n, 1n << 63n, (1n << 53n) + 1n, (1n << 24n) + 1n, 0x7fffffffffffffc0n];

function randomDouble(random: Random): bigint {
  switch (random.below(5)) {
    case 0:
      return doubleBits(random.pick(EDGE_VALUES));
    case 1:
      return random.pick(DOUBLE_SPECIAL_BITS);
    case 2:
      return random.bits(64);
    case 3: {
      // Exponents near the extremes of the range, random significands.
      const exponent = random.pick([0, 1, 2, 0x7fd, 0x7fe, 0x3ff, 0x3fe, 0x400, 0x3ca, 0x41e, 0x43e, random.below(0x7ff)]);
      return (random.bits(1) << 63n) | (BigInt(exponent) << 52n) | random.bits(52);
    }
    default:
      return doubleBits((random.below(2001) - 1000) / random.pick([1, 2, 4, 3, 7, 10, 1024]));
  }
}

function randomSingle(random: Random): bigint {
  let bits: bigint;
  switch (random.below(5)) {
    case 0:
      bits = singleBits(random.pick(EDGE_VALUES));
      break;
    case 1:
      bits = random.pick(SINGLE_SPECIAL_BITS);
      break;
    case 2:
      bits = random.bits(32);
      break;
    case 3: {
      const exponent = random.pick([0, 1, 2, 0xfd, 0xfe, 0x7f, 0x7e, 0x80, 0x67, 0x9e, 0xbe, random.below(0xff)]);
      bits = (random.bits(1) << 31n) | (BigInt(exponent) << 23n) | random.bits(23);
      break;
    }
    default:
      bits = singleBits((random.below(2001) - 1000) / random.pick([1, 2, 4, 3, 7, 10, 1024]));
  }
  // Mostly NaN-boxed; sometimes not, which must read as the canonical NaN.
  return random.below(8) === 0 ? (random.bits(32) << 32n) | bits : BOX | bits;
}

function randomInteger(random: Random): bigint {
  switch (random.below(3)) {
    case 0:
      return random.pick(INT_EDGES);
    case 1:
      return random.bits(64);
    default:
      return BigInt.asUintN(64, BigInt(random.below(4001) - 2000));
  }
}

const ROUNDING = ["rne", "rtz", "rdn", "rup", "rmm", "dyn"];
const BINARY = ["fadd", "fsub", "fmul", "fdiv"];
const FUSED = ["fmadd", "fmsub", "fnmsub", "fnmadd"];
const NO_RM_BINARY = ["fsgnj", "fsgnjn", "fsgnjx", "fmin", "fmax"];
const COMPARE = ["feq", "flt", "fle"];
const INTEGER_KINDS = ["w", "wu", "l", "lu"];
const INTEGER_OPS = ["add", "sub", "xor", "mul", "sltu", "sra"];

/** One random instruction of the F/D set (plus some integer and CSR traffic). */
function randomInstruction(random: Random): string {
  const f = () => `f${random.below(FP_COUNT)}`;
  const x = () => `x${random.below(12) === 0 ? 0 : random.pick(INT_REGISTERS)}`;
  const fmt = random.pick(["s", "d"]);
  const rm = random.pick(ROUNDING);
  switch (random.below(16)) {
    case 0:
    case 1:
      return `${random.pick(BINARY)}.${fmt} ${f()}, ${f()}, ${f()}, ${rm}`;
    case 2:
      return `${random.pick(FUSED)}.${fmt} ${f()}, ${f()}, ${f()}, ${f()}, ${rm}`;
    case 3:
      return `fsqrt.${fmt} ${f()}, ${f()}, ${rm}`;
    case 4:
      return `${random.pick(NO_RM_BINARY)}.${fmt} ${f()}, ${f()}, ${f()}`;
    case 5:
      return `${random.pick(COMPARE)}.${fmt} ${x()}, ${f()}, ${f()}`;
    case 6:
      return random.below(2) ? `fclass.${fmt} ${x()}, ${f()}` : `fmv.x.${fmt === "s" ? "w" : "d"} ${x()}, ${f()}`;
    case 7:
      return `fmv.${fmt === "s" ? "w" : "d"}.x ${f()}, ${x()}`;
    case 8:
    case 9:
      return `fcvt.${random.pick(INTEGER_KINDS)}.${fmt} ${x()}, ${f()}, ${rm}`;
    case 10: {
      // fcvt.d.w and fcvt.d.wu are exact: the assembler takes no rounding mode for them.
      const kind = random.pick(INTEGER_KINDS);
      const exact = fmt === "d" && (kind === "w" || kind === "wu");
      return `fcvt.${fmt}.${kind} ${f()}, ${x()}${exact ? "" : `, ${rm}`}`;
    }
    case 11:
      return random.below(2) ? `fcvt.s.d ${f()}, ${f()}, ${rm}` : `fcvt.d.s ${f()}, ${f()}`;
    case 12: {
      // Loads from the operands, stores to (and loads from) the scratch area.
      const width = random.pick(["w", "d"]);
      const size = width === "w" ? 4 : 8;
      if (random.below(2)) return `fs${width} ${f()}, ${FP_DATA_BYTES + INT_DATA_BYTES + size * random.below(SCRATCH_BYTES / size)}(${DATA_POINTER})`;
      return `fl${width} ${f()}, ${size * random.below((FP_DATA_BYTES + INT_DATA_BYTES + SCRATCH_BYTES) / size)}(${DATA_POINTER})`;
    }
    case 13:
      return `${random.pick(INTEGER_OPS)} ${x()}, ${x()}, ${x()}`;
    case 14:
      return random.pick([`frflags ${x()}`, `fsflags ${x()}, ${x()}`, `frcsr ${x()}`, `csrci fflags, ${random.below(32)}`, `csrsi fflags, ${random.below(32)}`]);
    default:
      // A valid dynamic rounding mode (an invalid one would make dynamic-rm instructions illegal).
      return `fsrmi ${x()}, ${random.below(5)}`;
  }
}

export interface Sequence {
  fp: bigint[];
  integers: bigint[];
  frm: number;
  instructions: string[];
}

export function randomSequence(random: Random, length: number): Sequence {
  return {
    fp: Array.from({ length: FP_COUNT }, () => (random.below(2) ? randomDouble(random) : randomSingle(random))),
    integers: INT_REGISTERS.map(() => randomInteger(random)),
    frm: random.below(5),
    instructions: Array.from({ length }, () => randomInstruction(random)),
  };
}

const hex = (value: bigint): string => `0x${value.toString(16)}`;

/** The harness: per sequence, load the state, run, store the registers; then write them all out. */
export function harnessSource(sequences: Sequence[]): string {
  const lines = [".option norelax", ".globl _start", ".text", "_start:", `  la ${DATA_POINTER}, data`, `  la ${OUT_POINTER}, out`];
  for (const sequence of sequences) {
    lines.push(`  fsrmi x0, ${sequence.frm}`, "  fsflags x0");
    for (let i = 0; i < FP_COUNT; i++) lines.push(`  fld f${i}, ${8 * i}(${DATA_POINTER})`);
    INT_REGISTERS.forEach((register, i) => lines.push(`  ld x${register}, ${FP_DATA_BYTES + 8 * i}(${DATA_POINTER})`));
    for (const instruction of sequence.instructions) lines.push(`  ${instruction}`);
    INT_REGISTERS.forEach((register, i) => lines.push(`  sd x${register}, ${8 * i}(${OUT_POINTER})`));
    for (let i = 0; i < FP_COUNT; i++) lines.push(`  fsd f${i}, ${INT_DATA_BYTES + 8 * i}(${OUT_POINTER})`);
    lines.push(`  frcsr t0`, `  sd t0, ${INT_DATA_BYTES + FP_DATA_BYTES}(${OUT_POINTER})`);
    lines.push(`  addi ${DATA_POINTER}, ${DATA_POINTER}, ${DATA_STRIDE_BYTES}`, `  addi ${OUT_POINTER}, ${OUT_POINTER}, ${RECORD_BYTES}`);
  }
  lines.push("  li a0, 1", "  la a1, out", `  li a2, ${RECORD_BYTES * sequences.length}`, "  li a7, 64", "  ecall");
  lines.push("  li a0, 0", "  li a7, 94", "  ecall");
  lines.push(".data", ".balign 8", "data:");
  for (const sequence of sequences) {
    for (const value of [...sequence.fp, ...sequence.integers]) lines.push(`  .dword ${hex(value)}`);
    lines.push(`  .zero ${SCRATCH_BYTES}`);
  }
  lines.push(".bss", ".balign 8", "out:", `  .zero ${RECORD_BYTES * sequences.length}`, "");
  return lines.join("\n");
}

/** Assembles and links the harness into `dir`; returns the ELF's path. */
export function buildHarness(sequences: Sequence[], dir: string, name = "fpu-diff"): string {
  const source = join(dir, `${name}.S`);
  const elf = join(dir, name);
  writeFileSync(source, harnessSource(sequences));
  const build = spawnSync(CROSS_GCC, ["-march=rv64gc", "-mabi=lp64d", "-nostdlib", "-static", "-o", elf, source], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`${CROSS_GCC} failed: ${build.stderr}`);
  return elf;
}

export function runUnderQemu(elf: string): Buffer {
  const run = spawnSync(QEMU, [elf], { maxBuffer: 1 << 28 });
  if (run.status !== 0) throw new Error(`${QEMU} exited ${run.status}: ${run.stderr.toString()}`);
  return run.stdout;
}

export function runUnderMemspace(elf: string): Buffer {
  const chunks: Buffer[] = [];
  const result = runGuest(elf, { write: (_fd, bytes) => chunks.push(Buffer.from(bytes)) });
  if (result.exitCode !== 0) throw new Error(`memspace: exit code ${result.exitCode}`);
  return Buffer.concat(chunks);
}

const REGISTER_NAMES = [...INT_REGISTERS.map((register) => `x${register}`), ...Array.from({ length: FP_COUNT }, (_, i) => `f${i}`), "fcsr"];

/** The first difference between the two outputs, described with its sequence; undefined if equal. */
export function firstDifference(sequences: Sequence[], expected: Buffer, actual: Buffer): string | undefined {
  if (expected.equals(actual)) return undefined;
  if (expected.length !== actual.length) return `output lengths differ: qemu ${expected.length}, memspace ${actual.length} bytes`;
  for (let offset = 0; offset < expected.length; offset += 8) {
    const want = expected.readBigUInt64LE(offset);
    const got = actual.readBigUInt64LE(offset);
    if (want === got) continue;
    const index = Math.floor(offset / RECORD_BYTES);
    const sequence = sequences[index];
    const register = REGISTER_NAMES[(offset % RECORD_BYTES) / 8];
    return [
      `sequence ${index}, ${register}: qemu ${hex(want)}, memspace ${hex(got)}`,
      `frm ${sequence.frm}; fp ${sequence.fp.map(hex).join(" ")}`,
      `integers ${sequence.integers.map(hex).join(" ")}`,
      ...sequence.instructions,
    ].join("\n");
  }
  return "outputs differ";
}
