import { strict as assert } from "node:assert";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { Assembler, bType, ECALL, iType, Reg, rType, sType, uType } from "../../src/guest/assembler.js";
import { GuestError, Hart, type SyscallHandler } from "../../src/guest/hart.js";
import { runGuest } from "../../src/guest/run-guest.js";
import { BlockTranslator, type TranslatorStats } from "../../src/guest/translator/block-translator.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { MemoryAccess } from "../../src/space/backend.js";
import { TeeAccess } from "../../src/space/tee-access.js";
import { withTempDir } from "../helpers.js";

const CODE = 0x10000n;
const DATA = 0x40000;
const DATA_BYTES = 256;

/** a7 = 93 exits with a0's low byte; any other ecall adds 1 to a0 and goes on. */
const exitOnEcall: SyscallHandler = {
  handle(hart) {
    if (hart.register(17) !== 93n) {
      hart.setRegister(10, hart.register(10) + 1n);
      return false;
    }
    hart.exitCode = Number(hart.register(10) & 0xffn);
    return true;
  },
};

/** Logs every access it sees, in order, as text. */
class AccessLog implements MemoryAccess {
  loadHigh = 0;
  readonly entries: string[] = [];
  counted = [0, 0];
  load8(lo: number, hi: number): number {
    this.entries.push(`r1 ${hi}:${lo}`);
    return 0;
  }
  load16(lo: number, hi: number): number {
    this.entries.push(`r2 ${hi}:${lo}`);
    return 0;
  }
  load32(lo: number, hi: number): number {
    this.entries.push(`r4 ${hi}:${lo}`);
    return 0;
  }
  load64(lo: number, hi: number): number {
    this.entries.push(`r8 ${hi}:${lo}`);
    return 0;
  }
  store8(lo: number, hi: number, value: number): void {
    this.entries.push(`w1 ${hi}:${lo}=${value}`);
  }
  store16(lo: number, hi: number, value: number): void {
    this.entries.push(`w2 ${hi}:${lo}=${value}`);
  }
  store32(lo: number, hi: number, value: number): void {
    this.entries.push(`w4 ${hi}:${lo}=${value}`);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.entries.push(`w8 ${hi}:${lo}=${valueLo},${valueHi}`);
  }
  fetchInstruction(lo: number, hi: number): number {
    this.entries.push(`f ${hi}:${lo}`);
    return 0;
  }
  countAccesses(loads: number, stores: number): void {
    this.counted[0] += loads;
    this.counted[1] += stores;
  }
}

type Mode = "interpreter" | "plain" | "observed";

interface Outcome {
  error: string | null;
  stop: string | null;
  pc: bigint;
  instructions: number;
  registers: bigint[];
  data: number[];
  loads: number;
  stores: number;
  log: string[];
}

interface Setup {
  registers?: Record<number, bigint>;
  data?: Uint8Array;
  strict?: boolean;
  /** Instruction limits of successive runs (default: one run to the end). */
  limits?: number[];
}

/** The report of the translator runIn used last (null after an interpreter run). */
let lastReport: TranslatorStats | null = null;

/** Runs `code` at CODE in a fresh space: in the interpreter, or translated with fetches counted (plain) or made (observed). */
function runIn(mode: Mode, code: Uint8Array, setup: Setup = {}): Outcome {
  const space = new AddressSpace({ strict: setup.strict === true });
  if (setup.strict) {
    space.map(CODE, 0x4000, "rwx");
    space.map(BigInt(DATA), 0x8000, "rw-");
  }
  space.write(CODE, code);
  if (setup.strict) space.protect(CODE, 0x4000, "r-x");
  if (setup.data) space.write(BigInt(DATA), setup.data);
  const log = new AccessLog();
  // Observed runs and their interpreter twin see every access; plain ones see none.
  const watched = mode !== "plain";
  const memory = watched ? new TeeAccess(space.access, log) : space.access;
  const hart = new Hart(memory, exitOnEcall);
  const translator = mode === "interpreter" ? null : BlockTranslator.attach(hart, space.plainAccess, { observed: mode === "observed" });
  hart.pc = CODE;
  for (const [index, value] of Object.entries(setup.registers ?? {})) hart.setRegister(Number(index), value);
  let error: string | null = null;
  const stops: string[] = [];
  try {
    for (const limit of setup.limits ?? [Number.POSITIVE_INFINITY]) stops.push(hart.run(limit));
  } catch (caught) {
    if (!(caught instanceof GuestError)) throw caught;
    error = caught.message;
  }
  const stats = space.stats();
  lastReport = translator === null ? null : translator.report();
  return {
    error,
    stop: stops.join(","),
    pc: hart.pc,
    instructions: hart.instructions,
    registers: Array.from({ length: 32 }, (_, index) => hart.register(index)),
    data: Array.from(space.read(BigInt(DATA), DATA_BYTES)),
    loads: stats.loads,
    stores: stats.stores,
    log: log.entries,
  };
}

/** The interpreter's outcome, and the translator's in both modes, which must equal it (the log only where it is kept). */
function assertSameEverywhere(code: Uint8Array, setup: Setup = {}): Outcome {
  const reference = runIn("interpreter", code, setup);
  for (const mode of ["plain", "observed"] as const) {
    const translated = runIn(mode, code, setup);
    assert.deepEqual({ ...translated, log: mode === "observed" ? translated.log : reference.log }, reference, `${mode} translation differs from the interpreter`);
  }
  return reference;
}

const ADDI = (rd: number, rs1: number, imm: number) => iType(imm, rs1, 0, rd, 0x13);

describe("the block translator runs guests exactly as the interpreter does", () => {
  it("random loops of integer, M, load and store instructions: registers, memory, counts and every access in order", () => {
    // Registers the body may write (s0 holds the data address, s1 counts the loop down).
    const writable = [5, 6, 7, 10, 11, 12, 13, 14, 15];
    const any = [0, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15];
    const reg = fc.constantFrom(...writable);
    const src = fc.constantFrom(...any);
    const rOps: [number, number, number][] = [
      [0, 0, 0x33], [0x20, 0, 0x33], [0, 1, 0x33], [0, 2, 0x33], [0, 3, 0x33], [0, 4, 0x33], [0, 5, 0x33], [0x20, 5, 0x33], [0, 6, 0x33], [0, 7, 0x33],
      [1, 0, 0x33], [1, 1, 0x33], [1, 2, 0x33], [1, 3, 0x33], [1, 4, 0x33], [1, 5, 0x33], [1, 6, 0x33], [1, 7, 0x33],
      [0, 0, 0x3b], [0x20, 0, 0x3b], [0, 1, 0x3b], [0, 5, 0x3b], [0x20, 5, 0x3b], [1, 0, 0x3b], [1, 4, 0x3b], [1, 5, 0x3b], [1, 6, 0x3b], [1, 7, 0x3b],
    ];
    const instruction = fc.oneof(
      fc.tuple(fc.constantFrom(...rOps), reg, src, src).map(([[funct7, funct3, opcode], rd, rs1, rs2]) => rType(funct7, rs2, rs1, funct3, rd, opcode)),
      fc.tuple(fc.constantFrom(0, 2, 3, 4, 6, 7), reg, src, fc.integer({ min: -2048, max: 2047 })).map(([funct3, rd, rs1, imm]) => iType(imm, rs1, funct3, rd, 0x13)),
      fc.tuple(fc.constantFrom(0, 0x400), fc.constantFrom(1, 5), reg, src, fc.integer({ min: 0, max: 63 })).map(([high, funct3, rd, rs1, shamt]) =>
        iType((funct3 === 1 ? 0 : high) | shamt, rs1, funct3, rd, 0x13),
      ),
      fc.tuple(reg, src, fc.integer({ min: -2048, max: 2047 })).map(([rd, rs1, imm]) => iType(imm, rs1, 0, rd, 0x1b)),
      fc.tuple(fc.constantFrom(0, 0x400), fc.constantFrom(1, 5), reg, src, fc.integer({ min: 0, max: 31 })).map(([high, funct3, rd, rs1, shamt]) =>
        iType((funct3 === 1 ? 0 : high) | shamt, rs1, funct3, rd, 0x1b),
      ),
      fc.tuple(reg, fc.integer({ min: 0, max: 0xfffff }), fc.boolean()).map(([rd, upper, auipc]) => uType(upper << 12, rd, auipc ? 0x17 : 0x37)),
      fc.tuple(fc.constantFrom(0, 1, 2, 3, 4, 5, 6), reg, fc.integer({ min: 0, max: DATA_BYTES - 8 })).map(([funct3, rd, offset]) => iType(offset, Reg.s0, funct3, rd, 0x03)),
      fc.tuple(fc.constantFrom(0, 1, 2, 3), src, fc.integer({ min: 0, max: DATA_BYTES - 8 })).map(([funct3, rs2, offset]) => sType(offset, rs2, Reg.s0, funct3)),
      // A system call that returns (a7 is 0 until the end).
      fc.constant(ECALL),
      // A forward branch over the next instruction, taken or not.
      fc.tuple(fc.constantFrom(0, 1, 4, 5, 6, 7), src, src).map(([funct3, rs1, rs2]) => bType(8, rs2, rs1, funct3)),
      // A load, a copy of what it loaded (addi rd2, rd, 0), and a branch comparing the two or
      // the load with another register: the loaded halves, still in the region's locals, must
      // compare as the copy's int32 halves do. Weighted: a generic branch seldom reads a
      // register a load just wrote.
      {
        weight: 4,
        arbitrary: fc
          .tuple(fc.constantFrom(2, 3, 6), reg, reg, fc.integer({ min: 0, max: DATA_BYTES - 8 }), fc.constantFrom(0, 1, 4, 5, 6, 7), fc.oneof(fc.constant(-1), src), fc.boolean())
          .map(([loadFunct3, rd, copy, offset, branchFunct3, other, loadedFirst]) => {
            const against = other < 0 ? copy : other;
            return [
              iType(offset, Reg.s0, loadFunct3, rd, 0x03),
              ADDI(copy, rd, 0),
              loadedFirst ? bType(8, against, rd, branchFunct3) : bType(8, rd, against, branchFunct3),
            ];
          }),
      },
    );
    const value = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });
    fc.assert(
      fc.property(fc.array(instruction, { minLength: 1, maxLength: 80 }), fc.array(value, { minLength: 9, maxLength: 9 }), fc.uint8Array({ minLength: DATA_BYTES, maxLength: DATA_BYTES }), fc.integer({ min: 1, max: 64 }), (body, values, data, iterations) => {
        const program = new Assembler().li(Reg.s1, iterations).li(Reg.s0, DATA).label("loop");
        for (const word of body.flat()) program.emit(word);
        // A branch at the body's end skips the addi: pad it.
        program.emit(ADDI(0, 0, 0)).addi(Reg.s1, Reg.s1, -1).bne(Reg.s1, Reg.zero, "loop").li(Reg.a7, 93).ecall();
        const registers = Object.fromEntries(writable.map((index, i) => [index, values[i]]));
        assertSameEverywhere(program.code(), { registers, data });
      }),
      { numRuns: 60 },
    );
  });

  it("a hot loop compares loaded values whose low or high half has bit 31 set, as the interpreter does", () => {
    // Registers live in locals in plain mode; a load's u32 halves must still compare as the
    // Int32Array's int32 halves do (a missing conversion made bltz on such a value differ).
    const program = new Assembler().li(Reg.s1, 100).li(Reg.s0, DATA).label("loop");
    program.emit(iType(0, Reg.s0, 3, Reg.t0, 0x03)); // ld t0, 0(s0): 0x80000000_80000001
    program.emit(bType(8, Reg.zero, Reg.t0, 5)); // bge t0, zero, +8
    program.emit(ADDI(Reg.a0, Reg.a0, 1)); // counts t0 < 0
    program.emit(iType(0, Reg.s0, 6, Reg.t1, 0x03)); // lwu t1, 0(s0)
    program.emit(iType(0, Reg.s0, 2, Reg.t2, 0x03)); // lw t2, 0(s0)
    program.emit(rType(0, Reg.zero, Reg.t2, 3, Reg.a2, 0x33)); // sltu a2, t2, zero: 0
    program.emit(rType(0, Reg.zero, Reg.t2, 2, Reg.a3, 0x33)); // slt a3, t2, zero: 1
    program.emit(rType(0, Reg.a3, Reg.a1, 0, Reg.a1, 0x33)); // add a1, a1, a3
    program.emit(bType(8, Reg.t2, Reg.t1, 1)); // bne t1, t2, +8 (they differ above bit 31)
    program.emit(ADDI(14, 14, 1)); // a4: never
    program.emit(ADDI(0, 0, 0));
    program.addi(Reg.s1, Reg.s1, -1).bne(Reg.s1, Reg.zero, "loop").li(Reg.a7, 93).ecall();
    const data = new Uint8Array(DATA_BYTES);
    new DataView(data.buffer).setBigUint64(0, 0x80000000_80000001n, true);
    const outcome = assertSameEverywhere(program.code(), { data });
    assert.deepEqual([outcome.registers[Reg.a0], outcome.registers[Reg.a1], outcome.registers[14]], [100n, 100n, 0n]);
  });

  it("shifts by a register at every amount, and 64-bit products, as the interpreter and BigInt give them", () => {
    // Translated code writes these out on int32 halves; amounts 0, 31, 32 and 63 are where
    // JavaScript's shift counts (taken mod 32) would go wrong.
    const [T1, T2, T3, A3, A4] = [6, 7, 28, 13, 14];
    const program = new Assembler().li(Reg.s1, 64).label("loop").addi(Reg.s0, Reg.s1, -1); // s0: the amount, 63 down to 0
    program.emit(rType(0, Reg.s0, Reg.t0, 1, T1, 0x33)); // sll t1, t0, s0
    program.emit(rType(0, Reg.s0, Reg.t0, 5, T2, 0x33)); // srl t2, t0, s0
    program.emit(rType(0x20, Reg.s0, Reg.t0, 5, T3, 0x33)); // sra t3, t0, s0
    program.emit(rType(0, T1, Reg.a0, 4, Reg.a0, 0x33)).emit(rType(0, T2, Reg.a1, 4, Reg.a1, 0x33)).emit(rType(0, T3, Reg.a2, 4, Reg.a2, 0x33)); // a0..a2 ^= t1..t3
    program.emit(rType(1, T2, T1, 0, A4, 0x33)).add(A3, A3, A4); // a3 += t1 * t2
    program.addi(Reg.s1, Reg.s1, -1).bne(Reg.s1, Reg.zero, "loop").li(Reg.a7, 93).ecall();
    const value = 0x9e37_79b9_7f4a_7c15n;
    const outcome = assertSameEverywhere(program.code(), { registers: { [Reg.t0]: value } });
    const mask = (1n << 64n) - 1n;
    const expected = [0n, 0n, 0n, 0n];
    for (let amount = 63n; amount >= 0n; amount--) {
      const left = (value << amount) & mask;
      const right = value >> amount;
      expected[0] ^= left;
      expected[1] ^= right;
      expected[2] ^= BigInt.asUintN(64, BigInt.asIntN(64, value) >> amount);
      expected[3] = (expected[3] + left * right) & mask;
    }
    // a0 is the exit status's register: its low byte was taken, its value is as computed.
    assert.deepEqual([Reg.a0, Reg.a1, Reg.a2, A3].map((index) => outcome.registers[index]), expected);
  });

  it("word division and remainder at their edges (a zero divisor, -2^31 / -1), as the interpreter and the ISA give them", () => {
    const [T1, T3, T4, A3] = [6, 28, 29, 13];
    const pairs: [number, number][] = [[Reg.t0, T1], [Reg.t0, Reg.zero], [T3, T4], [T4, T3]];
    // funct3 of divw, divuw, remw, remuw (funct7 1, opcode 0x3b); each result is added into a0..a3.
    const kinds = [4, 5, 6, 7];
    const program = new Assembler().li(Reg.s1, 40).label("loop");
    for (const [rs1, rs2] of pairs) {
      kinds.forEach((funct3, index) => program.emit(rType(1, rs2, rs1, funct3, Reg.t2, 0x3b)).add(Reg.a0 + index, Reg.a0 + index, Reg.t2));
    }
    program.addi(Reg.s1, Reg.s1, -1).bne(Reg.s1, Reg.zero, "loop").li(Reg.a7, 93).ecall();
    const registers = { [Reg.t0]: 0xffff_ffff_8000_0000n, [T1]: (1n << 64n) - 1n, [T3]: BigInt.asUintN(64, -7n), [T4]: 2n };
    const outcome = assertSameEverywhere(program.code(), { registers });
    // The ISA's results: on the low words, sign-extended; x / 0 is all ones, x % 0 is x; -2^31 / -1 is -2^31, its remainder 0.
    const word = (value: bigint, signed: boolean) => (signed ? BigInt.asIntN(32, value) : BigInt.asUintN(32, value));
    const expected = [0n, 0n, 0n, 0n];
    for (const [rs1, rs2] of pairs) {
      for (const [index, signed] of [true, false, true, false].entries()) {
        const x = word(registers[rs1 as keyof typeof registers] ?? 0n, signed);
        const y = word(registers[rs2 as keyof typeof registers] ?? 0n, signed);
        const quotient = y === 0n ? -1n : x / y;
        const result = index < 2 ? quotient : y === 0n ? x : x % y;
        expected[index] = BigInt.asUintN(64, expected[index] + 40n * BigInt.asIntN(32, result));
      }
    }
    assert.deepEqual([Reg.a0, Reg.a0 + 1, Reg.a0 + 2, A3].map((index) => outcome.registers[index]), expected);
  });

  it("stops at every instruction limit where the interpreter stops", () => {
    const program = new Assembler().li(Reg.s1, 30).li(Reg.s0, DATA).label("loop").addi(Reg.a0, Reg.a0, 3).sd(Reg.a0, 8, Reg.s0).ld(Reg.a1, 8, Reg.s0).add(Reg.a2, Reg.a2, Reg.a1);
    program.addi(Reg.s1, Reg.s1, -1).bne(Reg.s1, Reg.zero, "loop").li(Reg.a7, 93).ecall();
    const code = program.code();
    for (const limits of [[1], [7], [13, 1, 1, 50], [40, 41, 42], [97, 3, 5, 7, 11, 200]]) {
      const outcome = assertSameEverywhere(code, { limits });
      assert.equal(outcome.error, null);
    }
  });

  it("code rewritten in a hot loop, with fence.i, runs its new bits", () => {
    // Every 8th pass rewrites `target` (addi a1, a1, pass) and runs fence.i; the loop is translated in between.
    const base = ADDI(Reg.a1, Reg.a1, 0);
    const program = new Assembler().li(Reg.s1, 0).li(Reg.t2, base).label("loop");
    program.emit(uType(0, Reg.s0, 0x17)); // auipc s0, 0: s0 = this instruction's address
    program.emit(iType(7, Reg.s1, 7, Reg.t0, 0x13)); // andi t0, s1, 7
    program.bne(Reg.t0, Reg.zero, "run");
    program.emit(iType(20, Reg.s1, 1, Reg.t1, 0x13)); // slli t1, s1, 20
    program.emit(rType(0, Reg.t2, Reg.t1, 6, Reg.t1, 0x33)); // or t1, t1, t2
    program.emit(sType(28, Reg.t1, Reg.s0, 2)); // sw t1, 28(s0): `target`
    program.emit(0x0000100f); // fence.i
    program.label("run");
    program.emit(base); // target: s0 + 28
    program.addi(Reg.s1, Reg.s1, 1);
    program.emit(iType(100, Reg.zero, 0, Reg.t0, 0x13)); // li t0, 100
    program.bne(Reg.s1, Reg.t0, "loop").mv(Reg.a0, Reg.a1).li(Reg.a7, 93).ecall();
    const outcome = assertSameEverywhere(program.code());
    // Passes 8k..8k+7 add 8k each: 8 * 8 * (0 + 1 + ... + 11) + 4 * 96.
    assert.equal(outcome.registers[Reg.a1], BigInt(8 * 8 * 66 + 4 * 96));
  });

  it("a store over the next instruction of the same block runs the new bits at once, as the interpreter does", () => {
    // No fence.i: the interpreter fetches every instruction, so it sees the store; so must a block.
    const base = ADDI(Reg.a1, Reg.a1, 0);
    const program = new Assembler().li(Reg.s1, 0).li(Reg.t2, base).label("loop");
    program.emit(uType(0, Reg.s0, 0x17)); // auipc s0, 0
    program.emit(iType(20, Reg.s1, 1, Reg.t1, 0x13)); // slli t1, s1, 20
    program.emit(rType(0, Reg.t2, Reg.t1, 6, Reg.t1, 0x33)); // or t1, t1, t2
    program.emit(sType(20, Reg.t1, Reg.s0, 2)); // sw t1, 20(s0)
    program.emit(ADDI(0, 0, 0)); // nop
    program.emit(base); // s0 + 20: addi a1, a1, s1
    program.addi(Reg.s1, Reg.s1, 1);
    program.emit(iType(50, Reg.zero, 0, Reg.t0, 0x13));
    program.bne(Reg.s1, Reg.t0, "loop").li(Reg.a7, 93).ecall();
    const outcome = assertSameEverywhere(program.code());
    assert.equal(outcome.registers[Reg.a1], BigInt((49 * 50) / 2));
  });

  it("a hot call into another page runs inside one region, and a store over the callee drops both pages", () => {
    // The loop on the first page calls `callee` on the next; each pass stores t2 (an addi a1,
    // a1, 3) to DATA, except pass REWRITE_PASS, which stores it over the callee's addi (no
    // fence.i). The address is chosen without a branch, so the store runs in the same hot
    // region every pass. The interpreter fetches every instruction, so the new immediate
    // counts from the next call on; the region holding both pages must be left at the store
    // and dropped.
    const PASSES = 120_000;
    const REWRITE_PASS = 100_000;
    const [T3, T4, T5, S4] = [28, 29, 30, 20];
    const program = new Assembler().li(Reg.s1, 0).li(Reg.a2, PASSES).li(Reg.a3, REWRITE_PASS).li(Reg.t2, ADDI(Reg.a1, Reg.a1, 3)).li(S4, DATA);
    const auipc = uType(4096, Reg.s0, 0x17);
    const placeholder = ADDI(Reg.s0, Reg.s0, 0);
    program.emit(auipc).emit(placeholder); // s0 = the callee's addi (its offset is set below)
    program.sub(T5, Reg.s0, S4);
    program.label("loop").jal(Reg.ra, "callee").addi(Reg.s1, Reg.s1, 1);
    program.sub(T4, Reg.s1, Reg.a3).emit(iType(1, T4, 3, T4, 0x13)).sub(T4, Reg.zero, T4); // t4 = pass == REWRITE_PASS ? -1 : 0
    program.emit(rType(0, T5, T4, 7, T4, 0x33)).add(T3, S4, T4); // t3 = t4 ? s0 : DATA
    program.emit(sType(0, Reg.t2, T3, 2)); // sw t2, 0(t3)
    program.bne(Reg.s1, Reg.a2, "loop").mv(Reg.a0, Reg.a1).li(Reg.a7, 93).ecall();
    while (program.sizeBytes < 4096 + 0x20) program.emit(ADDI(0, 0, 0));
    program.label("callee").emit(ADDI(Reg.a1, Reg.a1, 1)).emit(iType(0, Reg.ra, 0, 0, 0x67)); // addi a1, a1, 1; ret
    const code = program.code();
    const view = new DataView(code.buffer, code.byteOffset);
    const wordAt = (word: number) => Array.from({ length: code.length / 4 }, (_, index) => view.getUint32(4 * index, true)).indexOf(word >>> 0) * 4;
    view.setUint32(wordAt(placeholder), ADDI(Reg.s0, Reg.s0, code.length - 8 - wordAt(auipc)), true);
    const outcome = assertSameEverywhere(code);
    assert.equal(outcome.registers[Reg.a1], BigInt(REWRITE_PASS + 3 * (PASSES - REWRITE_PASS)));
    // The last run (observed) made a region of both pages, and the store dropped both.
    assert.ok(lastReport !== null && lastReport.spanningRegions > 0, `no region spans pages: ${JSON.stringify(lastReport)}`);
    assert.ok(lastReport.invalidations >= 2, `the store dropped ${lastReport.invalidations} pages`);
  });

  it("a fault inside a hot block names the instruction's pc, with the interpreter's count", () => {
    // The loop walks s0 up a page at a time; the 9th pass loads from the first unmapped page.
    const program = new Assembler().li(Reg.s0, DATA).li(Reg.t1, 4096).label("loop");
    program.addi(Reg.a0, Reg.a0, 1).ld(Reg.a1, 0, Reg.s0).add(Reg.s0, Reg.s0, Reg.t1).addi(Reg.a2, Reg.a2, 1).jal(Reg.zero, "loop");
    const code = program.code();
    const outcome = assertSameEverywhere(code, { strict: true });
    assert.match(outcome.error ?? "", /read at 0x0+48000: address is not mapped \(pc 0x0+10014\)/);
    assert.equal(outcome.registers[Reg.a0], 9n);
  });
});

// Every built guest, translated and interpreted: output, exit status, instruction count and
// the recorded trace, byte for byte. fib-imac's trace (117,000,007 records) is compared by
// its length and a hash, streamed through an observer rather than written twice.
const GUESTS = fileURLToPath(new URL("../../../guests/build/", import.meta.url));
const FIB_IMAC = fileURLToPath(new URL("../../../../shared/guests/fib-imac", import.meta.url));
const guestsBuilt = existsSync(join(GUESTS, "linux", "hello")) && existsSync(join(GUESTS, "lua.elf"));
const skipGuests = !guestsBuilt && process.env.CI !== "true" ? "the guests are not built (bash scripts/setup-guests.sh)" : false;

/** Hashes every access it sees (FNV-1a over kind, width, address and value), and counts them. */
class AccessHash extends AccessLog {
  hash = 0x811c9dc5;
  count = 0;
  private mix(word: number): void {
    this.hash = Math.imul(this.hash ^ word, 0x01000193);
  }
  private note(kind: number, lo: number, hi: number, value: number): void {
    this.count++;
    this.mix(kind);
    this.mix(lo);
    this.mix(hi);
    this.mix(value);
  }
  override load8(lo: number, hi: number): number {
    this.note(1, lo, hi, 0);
    return 0;
  }
  override load16(lo: number, hi: number): number {
    this.note(2, lo, hi, 0);
    return 0;
  }
  override load32(lo: number, hi: number): number {
    this.note(4, lo, hi, 0);
    return 0;
  }
  override load64(lo: number, hi: number): number {
    this.note(8, lo, hi, 0);
    return 0;
  }
  override store8(lo: number, hi: number, value: number): void {
    this.note(17, lo, hi, value);
  }
  override store16(lo: number, hi: number, value: number): void {
    this.note(18, lo, hi, value);
  }
  override store32(lo: number, hi: number, value: number): void {
    this.note(20, lo, hi, value);
  }
  override store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.note(24, lo, hi, valueLo ^ valueHi);
  }
  override fetchInstruction(lo: number, hi: number): number {
    this.note(32, lo, hi, 0);
    return 0;
  }
}

describe("every built guest runs the same translated and interpreted", { skip: skipGuests }, () => {
  it("output, exit status, instruction count and the trace file", () => {
    withTempDir((dir) => {
      const guests = [...readdirSync(join(GUESTS, "linux")).map((name) => join(GUESTS, "linux", name)), join(GUESTS, "lua.elf")];
      for (const file of guests) {
        const outcomes = [true, false].map((interpreter) => {
          const output: string[] = [];
          // heap's trace runs to 1.5 GB: its run is compared without one.
          const tracePath = file.endsWith("heap") ? undefined : join(dir, `${interpreter}.trace`);
          const result = runGuest(file, { interpreter, tracePath, args: ["an", "argument"], stdin: new TextEncoder().encode("some input\n"), write: (fd, bytes) => output.push(`${fd}:${Buffer.from(bytes).toString("latin1")}`) });
          return { exitCode: result.exitCode, instructions: result.instructions, output: output.join(""), trace: tracePath === undefined ? Buffer.alloc(0) : readFileSync(tracePath) };
        });
        assert.equal(outcomes[1].exitCode, outcomes[0].exitCode, file);
        assert.equal(outcomes[1].instructions, outcomes[0].instructions, file);
        assert.equal(outcomes[1].output, outcomes[0].output, file);
        assert.ok(outcomes[1].trace.equals(outcomes[0].trace), `${file}: the traces differ`);
      }
    });
  });

  it("fib-imac: 117,000,007 accesses, the same in the same order", { skip: existsSync(FIB_IMAC) ? false : "../shared/guests/fib-imac not found" }, () => {
    const [interpreted, translated] = [true, false].map((interpreter) => {
      const observer = new AccessHash();
      const result = runGuest(FIB_IMAC, { interpreter, observer, write: () => {} });
      return { exitCode: result.exitCode, instructions: result.instructions, count: observer.count, hash: observer.hash };
    });
    assert.equal(interpreted.count, 117_000_007);
    assert.deepEqual(translated, interpreted);
  });
});
