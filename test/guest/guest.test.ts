import assert from "node:assert/strict";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { GuestLoadError } from "../../src/guest/elf.js";
import { buildFibGuest, fibonacciMod64 } from "../../src/guest/fib-guest.js";
import { GuestError, Hart, type SyscallHandler } from "../../src/guest/hart.js";
import { CODE, execute, noSyscalls } from "./hart-harness.js";
import { MMAP_BASE } from "../../src/guest/loader.js";
import { runGuest } from "../../src/guest/run-guest.js";
import { AddressSpace } from "../../src/space/address-space.js";
import { TraceStats } from "../../src/trace/stats.js";
import { replayFile } from "../../src/trace/replay.js";
import { syscallHarness, withTempDir } from "../helpers.js";
import { assemble, bType, buildElf, ECALL, iType, jType, Reg, rType, sType, uType } from "../../src/guest/assembler.js";

const FIB_IMAC = fileURLToPath(new URL("../../../../shared/guests/fib-imac", import.meta.url));
const U64 = (1n << 64n) - 1n;

const signed = (value: bigint): bigint => BigInt.asIntN(64, value);
const unsigned = (value: bigint): bigint => BigInt.asUintN(64, value);
const sext32 = (value: bigint): bigint => unsigned(BigInt.asIntN(32, value));

/** Reference semantics of the R-type ALU and M operations, on unsigned 64-bit bigints. */
const R_OPS: [string, number, number, number, (a: bigint, b: bigint) => bigint][] = [
  ["add", 0, 0, 0x33, (a, b) => unsigned(a + b)],
  ["sub", 0x20, 0, 0x33, (a, b) => unsigned(a - b)],
  ["sll", 0, 1, 0x33, (a, b) => unsigned(a << (b & 63n))],
  ["slt", 0, 2, 0x33, (a, b) => (signed(a) < signed(b) ? 1n : 0n)],
  ["sltu", 0, 3, 0x33, (a, b) => (a < b ? 1n : 0n)],
  ["xor", 0, 4, 0x33, (a, b) => a ^ b],
  ["srl", 0, 5, 0x33, (a, b) => a >> (b & 63n)],
  ["sra", 0x20, 5, 0x33, (a, b) => unsigned(signed(a) >> (b & 63n))],
  ["or", 0, 6, 0x33, (a, b) => a | b],
  ["and", 0, 7, 0x33, (a, b) => a & b],
  ["mul", 1, 0, 0x33, (a, b) => unsigned(a * b)],
  ["mulh", 1, 1, 0x33, (a, b) => unsigned((signed(a) * signed(b)) >> 64n)],
  ["mulhsu", 1, 2, 0x33, (a, b) => unsigned((signed(a) * b) >> 64n)],
  ["mulhu", 1, 3, 0x33, (a, b) => (a * b) >> 64n],
  ["div", 1, 4, 0x33, (a, b) => (b === 0n ? U64 : signed(a) === -(1n << 63n) && signed(b) === -1n ? a : unsigned(signed(a) / signed(b)))],
  ["divu", 1, 5, 0x33, (a, b) => (b === 0n ? U64 : a / b)],
  ["rem", 1, 6, 0x33, (a, b) => (b === 0n ? a : signed(a) === -(1n << 63n) && signed(b) === -1n ? 0n : unsigned(signed(a) % signed(b)))],
  ["remu", 1, 7, 0x33, (a, b) => (b === 0n ? a : a % b)],
  ["addw", 0, 0, 0x3b, (a, b) => sext32(a + b)],
  ["subw", 0x20, 0, 0x3b, (a, b) => sext32(a - b)],
  ["sllw", 0, 1, 0x3b, (a, b) => sext32(a << (b & 31n))],
  ["srlw", 0, 5, 0x3b, (a, b) => sext32((a & 0xffffffffn) >> (b & 31n))],
  ["sraw", 0x20, 5, 0x3b, (a, b) => sext32(unsigned(BigInt.asIntN(32, a) >> (b & 31n)))],
  ["mulw", 1, 0, 0x3b, (a, b) => sext32(a * b)],
  ["divw", 1, 4, 0x3b, (a, b) => {
    const x = BigInt.asIntN(32, a);
    const y = BigInt.asIntN(32, b);
    return y === 0n ? U64 : x === -(1n << 31n) && y === -1n ? sext32(x) : sext32(x / y);
  }],
  ["divuw", 1, 5, 0x3b, (a, b) => {
    const x = a & 0xffffffffn;
    const y = b & 0xffffffffn;
    return y === 0n ? U64 : sext32(x / y);
  }],
  ["remw", 1, 6, 0x3b, (a, b) => {
    const x = BigInt.asIntN(32, a);
    const y = BigInt.asIntN(32, b);
    return y === 0n ? sext32(x) : x === -(1n << 31n) && y === -1n ? 0n : sext32(x % y);
  }],
  ["remuw", 1, 7, 0x3b, (a, b) => {
    const x = a & 0xffffffffn;
    const y = b & 0xffffffffn;
    return y === 0n ? sext32(x) : sext32(x % y);
  }],
];

// Operands that hit the edges: zero, one, all ones, sign bits, 32-bit edges, and random.
const EDGES = [0n, 1n, 2n, 3n, 31n, 32n, 63n, 64n, 0x7fffffffn, 0x80000000n, 0xffffffffn, 0x100000000n, (1n << 63n) - 1n, 1n << 63n, U64, U64 - 1n];
const operand = fc.oneof(fc.constantFrom(...EDGES), fc.bigInt({ min: 0n, max: U64 }), fc.bigInt({ min: 0n, max: 1n << 54n }));

describe("RV64IM instruction semantics against a BigInt model", () => {
  for (const [name, funct7, funct3, opcode, model] of R_OPS) {
    it(name, () => {
      fc.assert(
        fc.property(operand, operand, (a, b) => {
          const hart = execute([rType(funct7, 2, 1, funct3, 3, opcode)], { 1: a, 2: b });
          assert.equal(hart.register(3), model(a, b), `${name} ${a} ${b}`);
        }),
        { numRuns: 300 },
      );
    });
  }

  it("immediate forms: addi, slti, sltiu, xori, ori, andi, slli/srli/srai (shift 63), addiw and W shifts", () => {
    const imm12 = fc.integer({ min: -2048, max: 2047 });
    fc.assert(
      fc.property(operand, imm12, fc.integer({ min: 0, max: 63 }), (a, imm, shamt) => {
        const i = BigInt(imm);
        const cases: [number, bigint][] = [
          [iType(imm, 1, 0, 3, 0x13), unsigned(a + i)],
          [iType(imm, 1, 2, 3, 0x13), signed(a) < i ? 1n : 0n],
          [iType(imm, 1, 3, 3, 0x13), a < unsigned(i) ? 1n : 0n],
          [iType(imm, 1, 4, 3, 0x13), a ^ unsigned(i)],
          [iType(imm, 1, 6, 3, 0x13), a | unsigned(i)],
          [iType(imm, 1, 7, 3, 0x13), a & unsigned(i)],
          [iType(shamt, 1, 1, 3, 0x13), unsigned(a << BigInt(shamt))],
          [iType(shamt, 1, 5, 3, 0x13), a >> BigInt(shamt)],
          [iType(shamt | 0x400, 1, 5, 3, 0x13), unsigned(signed(a) >> BigInt(shamt))],
          [iType(imm, 1, 0, 3, 0x1b), sext32(a + i)],
          [iType(shamt & 31, 1, 1, 3, 0x1b), sext32(a << BigInt(shamt & 31))],
          [iType(shamt & 31, 1, 5, 3, 0x1b), sext32((a & 0xffffffffn) >> BigInt(shamt & 31))],
          [iType((shamt & 31) | 0x400, 1, 5, 3, 0x1b), sext32(unsigned(BigInt.asIntN(32, a) >> BigInt(shamt & 31)))],
        ];
        for (const [word, expected] of cases) assert.equal(execute([word], { 1: a }).register(3), expected, word.toString(16));
      }),
      { numRuns: 200 },
    );
  });

  it("lui and auipc sign-extend; x0 stays zero", () => {
    assert.equal(execute([uType(0x80000000, 3, 0x37)], {}).register(3), 0xffffffff80000000n);
    assert.equal(execute([uType(0x00001000, 3, 0x17)], {}).register(3), CODE + 0x1000n);
    assert.equal(execute([iType(5, 0, 0, 0, 0x13)], {}).register(0), 0n);
  });

  it("loads sign- or zero-extend and stores write the low bytes, little-endian", () => {
    const address = 0x20000n;
    const program = [
      sType(0, 2, 1, 3), // sd x2, 0(x1)
      iType(0, 1, 0, 3, 0x03), // lb
      iType(0, 1, 4, 4, 0x03), // lbu
      iType(2, 1, 1, 5, 0x03), // lh 2
      iType(2, 1, 5, 6, 0x03), // lhu 2
      iType(4, 1, 2, 7, 0x03), // lw 4
      iType(4, 1, 6, 8, 0x03), // lwu 4
      iType(0, 1, 3, 9, 0x03), // ld
      sType(8, 2, 1, 0), // sb
      sType(10, 2, 1, 1), // sh
      sType(12, 2, 1, 2), // sw
      iType(8, 1, 3, 10, 0x03), // ld of the three stores
    ];
    const hart = execute(program, { 1: address, 2: 0x8899aabbccddeeffn });
    assert.equal(hart.register(3), unsigned(-1n));
    assert.equal(hart.register(4), 0xffn);
    assert.equal(hart.register(5), unsigned(-0x3323n)); // 0xccdd sign-extended
    assert.equal(hart.register(6), 0xccddn);
    assert.equal(hart.register(7), unsigned(-0x77665545n)); // 0x8899aabb
    assert.equal(hart.register(8), 0x8899aabbn);
    assert.equal(hart.register(9), 0x8899aabbccddeeffn);
    assert.equal(hart.register(10), 0xccddeeffeeff00ffn); // byte 9 never written
  });

  it("branches compare signed and unsigned; jal and jalr link and jump (jalr clears bit 0)", () => {
    const taken = (funct3: number, a: bigint, b: bigint): boolean => execute([bType(8, 2, 1, funct3)], { 1: a, 2: b }).pc === CODE + 8n;
    assert.equal(taken(0, 5n, 5n), true);
    assert.equal(taken(1, 5n, 5n), false);
    assert.equal(taken(4, U64, 1n), true); // blt: -1 < 1
    assert.equal(taken(6, U64, 1n), false); // bltu: max > 1
    assert.equal(taken(5, 1n, U64), true); // bge
    assert.equal(taken(7, U64, 1n), true); // bgeu
    const jal = execute([jType(-4, 1)], {}, 1);
    assert.equal(jal.pc, CODE - 4n);
    assert.equal(jal.register(1), CODE + 4n);
    const jalr = execute([iType(3, 5, 0, 1, 0x67)], { 5: 0x40000n }, 1);
    assert.equal(jalr.pc, 0x40002n);
    assert.equal(jalr.register(1), CODE + 4n);
  });

  it("LR/SC succeed on a reservation and fail without; AMOs return the old value", () => {
    const address = 0x30000n;
    const lrD = rType(0x02 << 2, 0, 1, 3, 3, 0x2f);
    const scD = rType(0x03 << 2, 2, 1, 3, 4, 0x2f);
    const ldBack = iType(0, 1, 3, 5, 0x03);
    // lr; sc succeeds (stores 77); a second sc has no reservation and fails (x4 = 1).
    const hart = execute([lrD, scD, scD, ldBack], { 1: address, 2: 77n });
    assert.deepEqual([hart.register(4), hart.register(5)], [1n, 77n]);
    const first = execute([lrD, scD], { 1: address, 2: 77n });
    assert.equal(first.register(4), 0n, "sc after lr succeeds");
    const amo = (funct5: number, funct3: number, old: bigint, b: bigint): [bigint, bigint] => {
      const store = funct3 === 3 ? sType(0, 6, 1, 3) : sType(0, 6, 1, 2);
      const load = funct3 === 3 ? iType(0, 1, 3, 5, 0x03) : iType(0, 1, 6, 5, 0x03);
      const result = execute([store, rType(funct5 << 2, 2, 1, funct3, 3, 0x2f), load], { 1: address, 2: b, 6: old });
      return [result.register(3), result.register(5)];
    };
    assert.deepEqual(amo(0x00, 3, 5n, 7n), [5n, 12n]); // amoadd.d
    assert.deepEqual(amo(0x01, 3, 5n, 7n), [5n, 7n]); // amoswap.d
    assert.deepEqual(amo(0x10, 3, 5n, U64), [5n, U64]); // amomin.d: -1 < 5
    assert.deepEqual(amo(0x18, 3, 5n, U64), [5n, 5n]); // amominu.d
    assert.deepEqual(amo(0x14, 2, 0xfffffff0n, 3n), [unsigned(-16n), 3n]); // amomax.w sign-extends the old value
    assert.deepEqual(amo(0x0c, 2, 0xf0f0n, 0xff00n), [0xf0f0n, 0xf000n]); // amoand.w
  });
});

describe("compressed instructions", () => {
  it("expand to their base operations", () => {
    const cases: [string, { c: number }[], Record<number, bigint>, number, bigint][] = [
      ["c.li a0, -3", [{ c: 0x5575 }], {}, 10, unsigned(-3n)],
      ["c.addi a0, 5", [{ c: 0x0515 }], { 10: 10n }, 10, 15n],
      ["c.mv a0, a1", [{ c: 0x852e }], { 11: 42n }, 10, 42n],
      ["c.add a0, a1", [{ c: 0x952e }], { 10: 1n, 11: 2n }, 10, 3n],
      ["c.lui a0, 0xfffe1", [{ c: 0x7505 }], {}, 10, unsigned(-0x1f000n)],
      ["c.addi16sp sp, -16", [{ c: 0x1141 }], { 2: 0x1000n }, 2, 0xff0n],
      ["c.addi4spn a0, sp, 8", [{ c: 0x0028 }], { 2: 0x1000n }, 10, 0x1008n],
      ["c.slli a0, 63", [{ c: 0x157e }], { 10: 1n }, 10, 1n << 63n],
      ["c.srai a0, 1", [{ c: 0x8505 }], { 10: U64 }, 10, U64],
      ["c.srli a0, 1", [{ c: 0x8105 }], { 10: U64 }, 10, U64 >> 1n],
      ["c.andi a0, 6", [{ c: 0x8919 }], { 10: 0xffn }, 10, 6n],
      ["c.sub a0, a1", [{ c: 0x8d0d }], { 10: 1n, 11: 2n }, 10, U64],
      ["c.xor a0, a1", [{ c: 0x8d2d }], { 10: 3n, 11: 5n }, 10, 6n],
      ["c.or a0, a1", [{ c: 0x8d4d }], { 10: 3n, 11: 5n }, 10, 7n],
      ["c.and a0, a1", [{ c: 0x8d6d }], { 10: 3n, 11: 5n }, 10, 1n],
      ["c.subw a0, a1", [{ c: 0x9d0d }], { 10: 0n, 11: 1n }, 10, U64],
      ["c.addw a0, a1", [{ c: 0x9d2d }], { 10: 0x7fffffffn, 11: 1n }, 10, unsigned(-0x80000000n)],
      ["c.addiw a0, 0", [{ c: 0x2501 }], { 10: 0xffffffffn }, 10, U64],
      ["c.sdsp+c.ldsp", [{ c: 0xe42e }, { c: 0x6522 }], { 2: 0x2000n, 11: 0x1234n }, 10, 0x1234n],
      ["c.swsp+c.lwsp", [{ c: 0xc42e }, { c: 0x4522 }], { 2: 0x2000n, 11: 0xffffffffn }, 10, U64],
      ["c.sd+c.ld", [{ c: 0xe50c }, { c: 0x6508 }], { 10: 0x3000n, 11: 99n }, 10, 99n],
      ["c.sw+c.lw", [{ c: 0xc10c }, { c: 0x4108 }], { 10: 0x3000n, 11: 0x80000000n }, 10, unsigned(-0x80000000n)],
    ];
    for (const [name, program, registers, register, expected] of cases) {
      assert.equal(execute(program, registers).register(register), expected, name);
    }
  });

  it("c.j, c.beqz, c.bnez, c.jr, c.jalr change the pc", () => {
    assert.equal(execute([{ c: 0xa011 }], {}).pc, CODE + 4n, "c.j +4");
    assert.equal(execute([{ c: 0xc111 }], { 10: 0n }).pc, CODE + 4n, "c.beqz taken");
    assert.equal(execute([{ c: 0xc111 }], { 10: 1n }).pc, CODE + 2n, "c.beqz not taken");
    assert.equal(execute([{ c: 0xe111 }], { 10: 1n }).pc, CODE + 4n, "c.bnez taken");
    assert.equal(execute([{ c: 0x8502 }], { 10: 0x5000n }).pc, 0x5000n, "c.jr");
    const jalr = execute([{ c: 0x9502 }], { 10: 0x5000n });
    assert.deepEqual([jalr.pc, jalr.register(1)], [0x5000n, CODE + 2n], "c.jalr links");
  });
});

describe("programs and errors", () => {
  it("an illegal instruction stops the run naming the pc and the encoding", () => {
    assert.throws(() => execute([0xffffffff], {}), /illegal or unimplemented instruction 0xffffffff \(pc 0x0000000000010000\)/);
    assert.throws(() => execute([{ c: 0x0000 }], {}), /illegal or unimplemented instruction 0x0000 \(unimp\) \(pc 0x0000000000010000\)/);
    assert.throws(() => execute([{ c: 0x8000 }], {}), /0x8000/); // quadrant 0, funct3 4: reserved
  });

  it("with strictSyscalls, an unknown system call is an error naming its number", () => {
    withTempDir((folder) => {
      const path = join(folder, "bad-syscall.elf");
      writeFileSync(path, buildElf(assemble([iType(999, 0, 0, Reg.a7, 0x13), ECALL])));
      assert.throws(() => runGuest(path, { write: () => {}, strictSyscalls: true }), /unknown system call 999 \(a7\) \(pc 0x/);
    });
  });

  it("invalid ELF files are errors naming the file and the problem", () => {
    withTempDir((folder) => {
      const path = join(folder, "x.elf");
      const code = assemble([ECALL]);
      const cases: [Uint8Array, RegExp][] = [
        [Uint8Array.from([1, 2, 3]), /not an ELF file \(3 bytes/],
        [Uint8Array.from(new Array(64).fill(7)), /bad magic/],
        [buildElf(code, CODE, { elfClass: 1 }), /not a 64-bit ELF file/],
        [buildElf(code, CODE, { machine: 62 }), /not a RISC-V executable \(machine 62\)/],
        [buildElf(code, CODE, { type: 3 }), /dynamic executables are not supported/],
        [buildElf(code).subarray(0, 100), /program headers .* run past the end of the file/],
      ];
      for (const [bytes, message] of cases) {
        writeFileSync(path, bytes);
        assert.throws(() => runGuest(path), (error: unknown) => error instanceof GuestLoadError && message.test(error.message) && error.message.startsWith(path));
      }
    });
  });

  it("mmap, munmap and mprotect map, release and protect page ranges, with Linux's error numbers", () => {
    const { space, call } = syscallHarness();
    const [MMAP, MUNMAP, MPROTECT, EINVAL, ENOMEM] = [222, 215, 226, -22n, -12n];
    const base = call(MMAP, 0n, 3n * 4096n, 3n, 0x22n, U64, 0n);
    assert.equal(base, MMAP_BASE);
    for (let page = 0n; page < 3n; page++) space.store64(base + page * 4096n, 0x1234n + page);
    assert.equal(space.stats().residentPages, 3);
    assert.equal(call(MUNMAP, base + 4096n, 1n), 0n); // a length rounds up to whole pages
    assert.equal(space.stats().residentPages, 2);
    assert.equal(space.load64(base + 4096n), 0n);
    assert.equal(space.load64(base + 8192n), 0x1236n);
    assert.deepEqual(
      space.regions().filter((region) => region.start >= base).map((region) => [region.start - base, region.end - base]),
      [
        [0n, 4096n],
        [8192n, 12288n],
      ],
    );
    assert.equal(call(MUNMAP, base + 1n, 4096n), EINVAL, "unaligned");
    assert.equal(call(MPROTECT, base, 4096n, 1n), 0n);
    assert.equal(space.regions().find((region) => region.start === base)?.protection, "r--");
    assert.equal(call(MPROTECT, base, 3n * 4096n, 1n), ENOMEM, "the middle page is unmapped");
    assert.equal(call(MPROTECT, base, 4096n, 8n), EINVAL, "unknown protection bits");
  });

  it("fuzz: a corrupted ELF loads and runs, or fails with an error naming the file", () => {
    withTempDir((folder) => {
      const path = join(folder, "fuzzed.elf");
      const valid = buildElf(assemble([iType(7, 0, 0, Reg.a0, 0x13), iType(93, 0, 0, Reg.a7, 0x13), ECALL]));
      // Header and program header bytes (where sizes, offsets and addresses live), or any.
      const headerByte = fc.integer({ min: 0, max: 64 + 56 - 1 });
      const anyByte = fc.integer({ min: 0, max: valid.length - 1 });
      const edit = fc.tuple(fc.oneof(headerByte, anyByte), fc.integer({ min: 0, max: 255 }));
      fc.assert(
        fc.property(fc.array(edit, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: valid.length }), (edits, length) => {
          const bytes = valid.slice(0, Math.max(length, 1));
          for (const [at, value] of edits) if (at < bytes.length) bytes[at] = value;
          writeFileSync(path, bytes);
          try {
            runGuest(path, { write: () => {}, maxInstructions: 1000 });
          } catch (error) {
            if (error instanceof GuestLoadError) assert.ok(error.message.startsWith(path), error.message);
            else assert.ok(error instanceof GuestError, `not a guest error: ${String(error)}`);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  it("a segment reaching past the mmap area is refused before anything is mapped (not walked page by page)", () => {
    withTempDir((folder) => {
      const path = join(folder, "huge.elf");
      const bytes = buildElf(assemble([ECALL]));
      new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(64 + 40, 1n << 44n, true); // p_memsz of the first segment
      writeFileSync(path, bytes);
      assert.throws(() => runGuest(path), (error: unknown) => error instanceof GuestLoadError && /above the mmap area/.test(error.message));
    });
  });

  it("strict mode: the guest runs in its mappings, and executing its stack is a fetch fault naming the pc", () => {
    withTempDir((folder) => {
      const path = join(folder, "strict.elf");
      // sd ra, -8(sp); ld a0, -8(sp); exit(0) -- stack and data accesses inside the mappings.
      writeFileSync(path, buildElf(assemble([sType(-8, Reg.ra, Reg.sp, 3), iType(-8, Reg.sp, 3, Reg.a0, 0x03), iType(0, 0, 0, Reg.a0, 0x13), iType(93, 0, 0, Reg.a7, 0x13), ECALL])));
      assert.equal(runGuest(path, { strict: true }).exitCode, 0);
      // jalr x0, 0(sp): jumps into the rw- stack.
      writeFileSync(path, buildElf(assemble([iType(0, Reg.sp, 0, 0, 0x67)])));
      assert.throws(() => runGuest(path, { strict: true }), (error: unknown) => error instanceof GuestError && /2-byte fetch at 0x0*3f+[0-9a-f]+: region does not allow fetch \(pc 0x0*3f/.test(error.message));
      assert.throws(() => runGuest(path, { strict: false, maxInstructions: 10 }), /illegal or unimplemented instruction 0x0000/, "flat: the stack's bytes run (zero: illegal)");
    });
  });

  it("the run's exit code is the guest's", () => {
    withTempDir((folder) => {
      const path = join(folder, "exit.elf");
      // a0 = 7; exit(a0)
      writeFileSync(path, buildElf(assemble([iType(7, 0, 0, Reg.a0, 0x13), iType(93, 0, 0, Reg.a7, 0x13), ECALL])));
      const result = runGuest(path);
      assert.equal(result.exitCode, 7);
    });
  });
});

describe("the project's own guest", () => {
  it("the assembled Fibonacci guest prints F(n) mod 2^64 and exits 0; its trace replays identically", () => {
    withTempDir((folder) => {
      const path = join(folder, "fib.elf");
      writeFileSync(path, buildFibGuest(1000));
      let output = "";
      const trace = join(folder, "fib.trace");
      const result = runGuest(path, { tracePath: trace, write: (fd, bytes) => (output += `${fd}:${new TextDecoder().decode(bytes)}`) });
      assert.equal(output, `1:${fibonacciMod64(1000)}\n`);
      assert.equal(result.exitCode, 0);
      const replayed = new AddressSpace({ backend: "map" });
      const replay = replayFile(trace, replayed.access);
      assert.equal(replay.ops, result.traceOps);
      assert.equal(replay.writes, result.space.stats().stores);
      // Replaying the stores rebuilds the guest's stack frame: F(1000) and the printed digits.
      const frame = result.initialStackPointer - 64n;
      assert.deepEqual(replayed.read(frame, 64), result.space.read(frame, 64));
      assert.equal(replayed.load64(frame), fibonacciMod64(1000));
    });
  });
});

describe("real guests", { skip: !existsSync(FIB_IMAC) && "../shared/guests/fib-imac is not here" }, () => {
  it("fib-imac: 117,000,006 two-byte fetch reads and one 8-byte store, exit code 0", () => {
    const result = runGuest(FIB_IMAC);
    const stats = result.space.stats();
    assert.equal(result.exitCode, 0);
    assert.equal(stats.loads, 117_000_006);
    assert.equal(stats.stores, 1);
    assert.equal(result.instructions, 72_000_006);
  });

  it("fib-imac's recorded trace has the reference shape (first 200,000 instructions)", () => {
    withTempDir((folder) => {
      const trace = join(folder, "fib.trace");
      const result = runGuest(FIB_IMAC, { tracePath: trace, maxInstructions: 200_000, collectStats: true });
      assert.equal(result.exitCode, null);
      const stats = new TraceStats();
      replayFile(trace, stats);
      const report = stats.report();
      assert.deepEqual(report, result.stats, "statistics while running equal statistics of the recorded trace");
      assert.equal(report.writes, 1);
      assert.equal(report.writesByWidth[8], 1);
      assert.equal(report.reads, report.readsByWidth[2]);
      assert.equal(report.pageTransitions, 3);
      assert.equal(statSync(trace).size, report.reads * 10 + 18);
    });
  });
});
