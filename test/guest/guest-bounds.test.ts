import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { Assembler, buildElf, iType, jType, Reg } from "../../src/guest/assembler.js";
import { GuestLoadError } from "../../src/guest/elf.js";
import { GuestError, Hart, type SyscallHandler } from "../../src/guest/hart.js";
import { runGuest } from "../../src/guest/run-guest.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { MemoryAccess } from "../../src/space/backend.js";
import { MemoryFault } from "../../src/space/protection.js";
import { syscallHarness, withTempDir } from "../helpers.js";

const CODE = 0x10000n;
const ELF_HEADERS_BYTES = 64n + 56n;
const SYS = { read: 63, write: 64, writev: 66, exit: 93, fstat: 80, clockGettime: 113, getrandom: 278, mmap: 222 };
const EFAULT = -14n;
const EINVAL = -22n;
const ENOSYS = -38n;
const MAX_RW_COUNT = 0x7ffff000n;
const GETRANDOM_MAX_BYTES = 33554431n;
const CHUNK_BYTES = 1 << 16;
/** A page-aligned address far from anything the loader or a test maps. */
const UNMAPPED = 0x5000_0000n;
const BIG_BUFFER = 0x1_0000_0000n;

/** rd = value for any 64-bit value: 32-bit pieces joined with shifts. */
function li64(asm: Assembler, rd: number, value: bigint): Assembler {
  const high = Number(BigInt.asIntN(32, value >> 32n));
  const low = value & 0xffffffffn;
  asm.li(rd, high);
  // slli rd, rd, 8; ori rd, rd, byte: a byte at a time keeps the 12-bit immediate positive.
  for (let shift = 24n; shift >= 0n; shift -= 8n) {
    asm.emit(iType(8, rd, 1, rd, 0x13));
    asm.emit(iType(Number((low >> shift) & 0xffn), rd, 6, rd, 0x13));
  }
  return asm;
}

/** Emits the system call `number` with the given arguments. */
function syscall(asm: Assembler, number: number, ...args: bigint[]): Assembler {
  args.forEach((value, index) => li64(asm, Reg.a0 + index, value));
  return asm.li(Reg.a7, number).ecall();
}

/** Ends the program with exit(a0): the exit code is the last result's low byte. */
function exitWithResult(asm: Assembler): Uint8Array {
  return buildElf(asm.li(Reg.a7, SYS.exit).ecall().code());
}

function writeGuest(folder: string, name: string, elf: Uint8Array): string {
  const path = join(folder, name);
  writeFileSync(path, elf);
  return path;
}


describe("system call buffers", () => {
  it("writev(1, 2^36, 2^40) returns -EINVAL at once (it used to loop 2^40 times)", () => {
    withTempDir((folder) => {
      const path = writeGuest(folder, "writev.elf", exitWithResult(syscall(new Assembler(), SYS.writev, 1n, 1n << 36n, 1n << 40n)));
      // In a child with a time limit: on a regression the test fails instead of hanging.
      const script = `import(${JSON.stringify(fileURLToPath(new URL("../../src/guest/run-guest.js", import.meta.url)))}).then(({ runGuest }) => process.stdout.write(String(runGuest(${JSON.stringify(path)}, { write: () => {} }).exitCode)))`;
      const child = spawnSync(process.execPath, ["-e", script], { encoding: "utf8", timeout: 10_000 });
      assert.equal(child.signal, null, "the run did not end");
      assert.equal(child.stdout, String(Number(EINVAL & 0xffn)), child.stderr);
    });
  });

  it("writev checks its vector count, table and buffers as Linux does, and writes every buffer", () => {
    const { space, written, call } = syscallHarness();
    space.map(CODE, 0x2000, "rw-");
    const table = CODE;
    const setVector = (index: number, buffer: bigint, lengthBytes: bigint): void => {
      space.store64(table + BigInt(index * 16), buffer);
      space.store64(table + BigInt(index * 16 + 8), lengthBytes);
    };
    space.write(CODE + 0x1000n, new TextEncoder().encode("hello world"));
    setVector(0, CODE + 0x1000n, 6n);
    setVector(1, CODE + 0x1006n, 5n);
    assert.equal(call(SYS.writev, 1n, table, 2n), 11n);
    assert.equal(Buffer.concat(written).toString(), "hello world");
    assert.equal(call(SYS.writev, 1n, table, 1025n), EINVAL, "more than UIO_MAXIOV vectors");
    assert.equal(call(SYS.writev, 1n, table, -1n), EINVAL, "a negative count");
    assert.equal(call(SYS.writev, 1n, UNMAPPED, 2n), EFAULT, "the table is unmapped");
    assert.equal(call(SYS.writev, 1n, CODE + 0x1ff8n, 1n), EFAULT, "the table runs past the mapping");
    setVector(1, UNMAPPED, 5n);
    written.length = 0;
    assert.equal(call(SYS.writev, 1n, table, 2n), EFAULT, "a buffer is unmapped");
    assert.equal(written.length, 0, "nothing is written before every buffer is checked");
    setVector(1, CODE + 0x1006n, -1n);
    assert.equal(call(SYS.writev, 1n, table, 2n), EINVAL, "a negative length");
    assert.equal(call(SYS.writev, 1n, table, 0n), 0n);
  });

  it("write(1, 0, 2^62) is -EFAULT, not a host RangeError; buffers must be mapped and below 2^64", () => {
    const { space, written, call } = syscallHarness();
    space.map(CODE, 0x1000, "rw-");
    assert.equal(call(SYS.write, 1n, 0n, 1n << 62n), EFAULT);
    assert.equal(call(SYS.write, 1n, UNMAPPED, 10n), EFAULT, "unmapped in a flat space too");
    assert.equal(call(SYS.write, 1n, CODE + 0xff0n, 0x20n), EFAULT, "runs past the mapping");
    assert.equal(call(SYS.write, 1n, CODE, (1n << 64n) - 1n), EFAULT, "wraps past 2^64");
    assert.equal(call(SYS.write, 1n, UNMAPPED, 0n), 0n, "an empty write touches nothing");
    assert.equal(written.length, 0);
    assert.equal(call(SYS.fstat, 1n, UNMAPPED), EFAULT);
    assert.equal(call(SYS.clockGettime, 0n, CODE + 0xff8n), EFAULT, "a timespec across the end of the mapping");
    assert.equal(call(SYS.clockGettime, 0n, CODE), 0n);
  });

  it("a huge write is capped at MAX_RW_COUNT and moves in 64 KiB chunks", () => {
    let totalBytes = 0;
    let largestBytes = 0;
    const { space, call } = syscallHarness({
      write: (bytes) => {
        totalBytes += bytes.length;
        largestBytes = Math.max(largestBytes, bytes.length);
      },
    });
    space.map(BIG_BUFFER, 1n << 32n, "rw-");
    assert.equal(call(SYS.write, 1n, BIG_BUFFER, 1n << 40n), MAX_RW_COUNT);
    assert.equal(totalBytes, Number(MAX_RW_COUNT));
    assert.equal(largestBytes, CHUNK_BYTES);
  });

  it("read checks the range below 2^64 and the bytes it copies; an EOF read touches nothing", () => {
    const stdin = new TextEncoder().encode("0123456789");
    const { space, call } = syscallHarness({ stdin });
    space.map(CODE, 0x1000, "rw-");
    assert.equal(call(SYS.read, 0n, CODE, 1n << 62n), 10n, "only the ten bytes there are are copied");
    assert.deepEqual(space.read(CODE, 10), stdin);
    assert.equal(call(SYS.read, 0n, (1n << 64n) - 4n, 8n), EFAULT, "wraps past 2^64");
    assert.equal(call(SYS.read, 0n, UNMAPPED, 8n), 0n, "at EOF nothing is copied");
    const fresh = syscallHarness({ stdin });
    assert.equal(fresh.call(SYS.read, 0n, UNMAPPED, 4n), EFAULT);
    assert.equal(fresh.call(SYS.read, 0n, (1n << 64n) - 16n, 1n << 62n), EFAULT);
  });

  it("getrandom is capped at 33554431 bytes a call, written in 64 KiB chunks, and -EFAULT outside the mappings", () => {
    const { space, call } = syscallHarness({ backend: "noop" });
    space.map(BIG_BUFFER, 1n << 26n, "rw-");
    const chunkBytes: number[] = [];
    const write = space.write.bind(space);
    space.write = (address, bytes) => {
      chunkBytes.push(bytes.length);
      write(address, bytes);
    };
    assert.equal(call(SYS.getrandom, BIG_BUFFER, 1n << 40n, 0n), GETRANDOM_MAX_BYTES);
    assert.equal(
      chunkBytes.reduce((total, bytes) => total + bytes, 0),
      Number(GETRANDOM_MAX_BYTES),
    );
    assert.ok(Math.max(...chunkBytes) <= CHUNK_BYTES);
    assert.equal(call(SYS.getrandom, UNMAPPED, 16n, 0n), EFAULT);
    assert.equal(call(SYS.getrandom, BIG_BUFFER, 1n << 27n, 0n), GETRANDOM_MAX_BYTES, "capped before the range check");
  });

  it("a strict space's protections also end in -EFAULT", () => {
    const { space, call } = syscallHarness({ strict: true, stdin: new Uint8Array([1, 2, 3]) });
    space.map(CODE, 0x1000, "r--");
    assert.equal(call(SYS.read, 0n, CODE, 3n), EFAULT, "read into read-only memory");
    assert.equal(call(SYS.clockGettime, 0n, CODE), EFAULT);
  });
});

describe("unknown system calls", () => {
  const probes = (): Uint8Array => {
    const asm = new Assembler();
    for (const number of [999, 1000, 999]) syscall(asm, number);
    return exitWithResult(asm);
  };

  it("return -ENOSYS and the guest goes on; onUnknownSyscall hears of each number once", () => {
    withTempDir((folder) => {
      const path = writeGuest(folder, "probe.elf", probes());
      const seen: number[] = [];
      const result = runGuest(path, { write: () => {}, onUnknownSyscall: (number) => seen.push(number) });
      assert.equal(result.stopReason, "exit");
      assert.equal(result.exitCode, Number(ENOSYS & 0xffn));
      assert.deepEqual(seen, [999, 1000]);
    });
  });

  it("with strictSyscalls stop the run with a GuestError naming the number and pc, after onUnknownSyscall", () => {
    withTempDir((folder) => {
      const path = writeGuest(folder, "probe.elf", probes());
      const seen: number[] = [];
      assert.throws(
        () => runGuest(path, { write: () => {}, strictSyscalls: true, onUnknownSyscall: (number) => seen.push(number) }),
        (error: unknown) => error instanceof GuestError && /unknown system call 999 \(a7\) \(pc 0x0000000000010/.test(error.message),
      );
      assert.deepEqual(seen, [999]);
    });
  });
});

const noSyscalls: SyscallHandler = {
  handle(hart) {
    throw new GuestError(`unexpected ecall ${hart.register(17)}`, hart.pc);
  },
};

/** Runs one instruction at CODE in a flat space. */
function runInstruction(word: number, registers: Record<number, bigint> = {}): Hart {
  const space = new AddressSpace();
  space.write(CODE, new Uint8Array(new Uint32Array([word]).buffer));
  const hart = new Hart(space.access, noSyscalls);
  hart.pc = CODE;
  for (const [index, value] of Object.entries(registers)) hart.setRegister(Number(index), value);
  hart.run(1);
  return hart;
}

describe("CSRs", () => {
  const CSRRW = 1;
  const CSRRS = 2;
  const CSRRSI = 6;
  const csr = (number: number, funct3: number, rs1: number, rd: number): number => iType(number, rs1, funct3, rd, 0x73);

  it("besides fflags, frm and fcsr, only cycle, time and instret exist: machine, supervisor and unknown CSRs are illegal instructions naming the CSR and pc", () => {
    for (const number of [0xc00, 0xc01, 0xc02]) assert.equal(runInstruction(csr(number, CSRRS, 0, Reg.a0)).register(Reg.a0), 0n);
    for (const number of [0x300, 0x340, 0x100, 0x004, 0x7ff]) {
      assert.throws(
        () => runInstruction(csr(number, CSRRS, 0, Reg.a0)),
        (error: unknown) => error instanceof GuestError && error.message.includes(`CSR 0x${number.toString(16)} `) && error.message.includes("(pc 0x0000000000010000)"),
        `read of 0x${number.toString(16)}`,
      );
      assert.throws(() => runInstruction(csr(number, CSRRW, Reg.a1, 0), { [Reg.a1]: 5n }), GuestError, `write of 0x${number.toString(16)}`);
    }
  });

  it("a write to a read-only counter is an illegal instruction", () => {
    assert.throws(() => runInstruction(csr(0xc00, CSRRW, Reg.a1, 0)), /illegal instruction: write to read-only CSR 0xc00 \(pc 0x0000000000010000\)/);
    assert.throws(() => runInstruction(csr(0xc02, CSRRSI, 1, Reg.a0)), /read-only CSR 0xc02/);
  });
});

describe("entry points", () => {
  const cases: [string, (view: DataView) => void, RegExp][] = [
    ["misaligned", (view) => view.setBigUint64(24, CODE + ELF_HEADERS_BYTES + 1n, true), /entry point 0x10079 is not 2-byte aligned/],
    ["outside every segment", (view) => view.setBigUint64(24, 0x50000n, true), /entry point 0x50000 lies outside every executable \(PF_X\) loadable segment/],
    ["in a segment that is not executable", (view) => view.setUint32(68, 4, true), /entry point 0x10078 lies outside every executable/],
  ];
  for (const [name, patch, message] of cases) {
    it(`an entry point ${name} is refused, naming the file`, () => {
      withTempDir((folder) => {
        const bytes = exitWithResult(new Assembler().li(Reg.a0, 0));
        patch(new DataView(bytes.buffer, bytes.byteOffset));
        const path = writeGuest(folder, "entry.elf", bytes);
        assert.throws(() => runGuest(path), (error: unknown) => error instanceof GuestLoadError && error.message.startsWith(`${path}: `) && message.test(error.message));
      });
    });
  }
});

describe("how a run ends", () => {
  const spin = (): Uint8Array => buildElf(new Assembler().emit(jType(0, 0)).code());
  /** A backstop: without the timeout, runs end here in seconds rather than never. */
  const BACKSTOP_INSTRUCTIONS = 300_000_000;
  const TIMEOUT_MS = 100;
  /** The timeout's slack: a slice of the interpreter loop, or a chunk of a system call. */
  const LATENESS_LIMIT_MS = 400;

  it("a timeout stops a guest spinning in a loop, with stopReason timeout", () => {
    withTempDir((folder) => {
      const path = writeGuest(folder, "spin.elf", spin());
      const result = runGuest(path, { timeoutMs: TIMEOUT_MS, maxInstructions: BACKSTOP_INSTRUCTIONS });
      assert.equal(result.stopReason, "timeout");
      assert.equal(result.exitCode, null);
      assert.ok(result.milliseconds >= TIMEOUT_MS && result.milliseconds < TIMEOUT_MS + LATENESS_LIMIT_MS, `${result.milliseconds} ms`);
    });
  });

  it("a timeout stops a guest looping on long system calls, inside the call", () => {
    withTempDir((folder) => {
      const asm = new Assembler();
      // buffer = mmap(0, 32 MiB, rw, private | anonymous, -1, 0); then getrandom(buffer, 2^40) forever.
      syscall(asm, SYS.mmap, 0n, 1n << 25n, 3n, 0x22n, (1n << 64n) - 1n, 0n);
      asm.mv(Reg.s0, Reg.a0).label("again").mv(Reg.a0, Reg.s0);
      li64(asm, Reg.a1, 1n << 40n);
      asm.li(Reg.a2, 0).li(Reg.a7, SYS.getrandom).ecall().jal(0, "again");
      const path = writeGuest(folder, "random.elf", buildElf(asm.code()));
      const result = runGuest(path, { timeoutMs: TIMEOUT_MS, maxInstructions: 1000 });
      assert.equal(result.stopReason, "timeout");
      assert.ok(result.milliseconds < TIMEOUT_MS + LATENESS_LIMIT_MS, `${result.milliseconds} ms`);
    });
  });

  it("maxInstructions gives instruction-limit, and an exit gives exit with the code", () => {
    withTempDir((folder) => {
      const limited = runGuest(writeGuest(folder, "spin.elf", spin()), { maxInstructions: 1000, timeoutMs: 60_000 });
      assert.deepEqual([limited.stopReason, limited.exitCode, limited.instructions], ["instruction-limit", null, 1000]);
      const exited = runGuest(writeGuest(folder, "exit.elf", exitWithResult(new Assembler().li(Reg.a0, 3))), { timeoutMs: 60_000 });
      assert.deepEqual([exited.stopReason, exited.exitCode], ["exit", 3]);
    });
  });
});

describe("emulator errors", () => {
  it("an error that is no guest fault reaches the caller unchanged, not as a GuestError", () => {
    const space = new AddressSpace();
    const bug = new TypeError("a backend bug");
    const failing: MemoryAccess = Object.assign(Object.create(space.access) as MemoryAccess, {
      fetchInstruction(): number {
        throw bug;
      },
    });
    const hart = new Hart(failing, noSyscalls);
    hart.pc = CODE;
    assert.throws(() => hart.run(10), (error: unknown) => error === bug);
  });

  it("a memory fault of a strict space becomes a GuestError with the pc and the fault as its cause", () => {
    const space = new AddressSpace({ strict: true });
    const hart = new Hart(space.access, noSyscalls);
    hart.pc = CODE;
    assert.throws(() => hart.run(10), (error: unknown) => error instanceof GuestError && error.pc === CODE && error.cause instanceof MemoryFault);
  });
});
