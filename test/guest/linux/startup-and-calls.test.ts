import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { buildFibGuest } from "../../../src/guest/fib-guest.js";
import { loadProgram, STACK_TOP } from "../../../src/guest/loader.js";
import { AddressSpace } from "../../../src/space/address-space.js";
import { syscallHarness } from "../../helpers.js";

const AT = { PHDR: 3n, PHENT: 4n, PHNUM: 5n, PAGESZ: 6n, ENTRY: 9n, HWCAP: 16n, CLKTCK: 17n, SECURE: 23n, RANDOM: 25n, EXECFN: 31n };

function readString(space: AddressSpace, address: bigint): string {
  let text = "";
  for (let at = address; ; at++) {
    const byte = space.load8(at);
    if (byte === 0) return text;
    text += String.fromCharCode(byte);
  }
}

describe("the start-up stack", () => {
  it("holds argc, argv, envp and Linux's auxv at a 16-byte aligned stack pointer", () => {
    const space = new AddressSpace();
    const program = loadProgram(space, buildFibGuest(10), "fib", ["./fib", "arg"], ["A=1", "B=two"]);
    const sp = program.stackPointer;
    assert.equal(sp % 16n, 0n);
    const word = (index: number): bigint => space.load64(sp + BigInt(index * 8));
    assert.equal(word(0), 2n);
    assert.deepEqual([readString(space, word(1)), readString(space, word(2))], ["./fib", "arg"]);
    assert.equal(word(3), 0n);
    assert.deepEqual([readString(space, word(4)), readString(space, word(5))], ["A=1", "B=two"]);
    assert.equal(word(6), 0n);
    const auxv = new Map<bigint, bigint>();
    for (let index = 7; word(index) !== 0n; index += 2) auxv.set(word(index), word(index + 1));
    assert.equal(auxv.get(AT.PAGESZ), 4096n);
    assert.equal(auxv.get(AT.ENTRY), program.entry);
    assert.equal(auxv.get(AT.PHENT), 56n);
    assert.ok((auxv.get(AT.PHNUM) ?? 0n) >= 1n);
    assert.equal(space.load32(auxv.get(AT.PHDR) ?? 0n), 1, "AT_PHDR points at the program headers (PT_LOAD first)");
    assert.equal(auxv.get(AT.HWCAP), 0x112dn, "rv64gc: I, M, A, F, D, C");
    assert.equal(auxv.get(AT.CLKTCK), 100n);
    assert.equal(auxv.get(AT.SECURE), 0n);
    const random = auxv.get(AT.RANDOM) ?? 0n;
    assert.ok(random > sp && random + 16n <= STACK_TOP);
    assert.equal(readString(space, auxv.get(AT.EXECFN) ?? 0n), "./fib");
  });
});

describe("Linux system calls for glibc", () => {
  const SYS = { brk: 214, dup: 23, dup3: 24, fcntl: 25, pipe2: 59, read: 63, write: 64, close: 57, mmap: 222, mremap: 216, munmap: 215, prlimit64: 261, uname: 160, ioctl: 29, rseq: 293, setRobustList: 99, futex: 98, rtSigaction: 134, clockGettime: 113, nanosleep: 101 };
  const BUFFER = 0x10000n;

  it("prlimit64, uname, ioctl and the -ENOSYS of rseq", () => {
    const { space, call } = syscallHarness();
    space.map(BUFFER, 0x1000, "rw-");
    assert.equal(call(SYS.prlimit64, 0n, 3n, 0n, BUFFER), 0n);
    assert.equal(space.load64(BUFFER), 1n << 20n, "RLIMIT_STACK: the stack there is");
    assert.equal(call(SYS.prlimit64, 0n, 99n, 0n, BUFFER), -22n);
    assert.equal(call(SYS.uname, BUFFER), 0n);
    assert.equal(readString(space, BUFFER), "Linux");
    assert.equal(readString(space, BUFFER + 4n * 65n), "riscv64");
    assert.equal(call(SYS.ioctl, 1n, 0x5401n, BUFFER), -25n, "TCGETS: not a terminal");
    assert.equal(call(SYS.ioctl, 9n, 0x5401n, BUFFER), -9n);
    assert.equal(call(SYS.rseq, 0n, 32n, 0n, 0n), -38n);
    assert.equal(call(SYS.setRobustList, BUFFER, 24n), 0n);
    assert.equal(call(SYS.rtSigaction, 11n, 0n, BUFFER, 8n), 0n);
    assert.equal(call(SYS.rtSigaction, 9n, BUFFER, 0n, 8n), -22n, "SIGKILL's action cannot change");
    space.store32(BUFFER, 5);
    assert.equal(call(SYS.futex, BUFFER, 128n, 6n, 0n), -11n, "FUTEX_WAIT on a changed word: EAGAIN");
    assert.equal(call(SYS.futex, BUFFER, 129n, 1n, 0n), 0n, "FUTEX_WAKE wakes nobody");
  });

  it("pipes, dup, dup3 and fcntl share one open file", () => {
    const { space, call, written } = syscallHarness();
    space.map(BUFFER, 0x1000, "rw-");
    assert.equal(call(SYS.pipe2, BUFFER, 0n), 0n);
    const [reader, writer] = [BigInt(space.load32(BUFFER)), BigInt(space.load32(BUFFER + 4n))];
    assert.deepEqual([reader, writer], [3n, 4n]);
    space.write(BUFFER + 16n, new TextEncoder().encode("piped"));
    assert.equal(call(SYS.write, writer, BUFFER + 16n, 5n), 5n);
    assert.equal(call(SYS.read, reader, BUFFER + 32n, 64n), 5n);
    assert.equal(Buffer.from(space.read(BUFFER + 32n, 5)).toString(), "piped");
    assert.equal(call(SYS.read, reader, BUFFER + 32n, 64n), -11n, "empty with a writer left: EAGAIN, never a hang");
    assert.equal(call(SYS.close, writer), 0n);
    assert.equal(call(SYS.read, reader, BUFFER + 32n, 64n), 0n, "no writer: end of file");
    assert.equal(call(SYS.dup3, 1n, 7n, 0n), 7n);
    assert.equal(call(SYS.write, 7n, BUFFER + 16n, 5n), 5n, "fd 7 is stdout now");
    assert.equal(Buffer.from(written[0]).toString(), "piped");
    assert.equal(call(SYS.dup, 7n), 4n, "the lowest free number");
    assert.equal(call(SYS.fcntl, 7n, 1030n, 10n), 10n, "F_DUPFD_CLOEXEC from 10");
    assert.equal(call(SYS.fcntl, 10n, 1n, 0n), 1n, "FD_CLOEXEC set");
    assert.equal(call(SYS.dup3, 7n, 7n, 0n), -22n);
    assert.equal(call(SYS.close, 99n), -9n);
  });

  it("brk: pages a shrinking break gives up read as zero when it grows again, as on Linux", () => {
    const { space, call } = syscallHarness();
    const start = call(SYS.brk, 0n);
    assert.equal(call(SYS.brk, start + 0x3000n), start + 0x3000n);
    space.store64(start + 0x10n, 0x1111n);
    space.store64(start + 0x2010n, 0x2222n);
    assert.equal(call(SYS.brk, start + 0x20n), start + 0x20n);
    assert.equal(call(SYS.brk, start + 0x3000n), start + 0x3000n);
    assert.equal(space.load64(start + 0x2010n), 0n, "a page given up and taken again is zero");
    assert.equal(space.load64(start + 0x10n), 0x1111n, "the page the break still reaches keeps its bytes");
  });

  it("mremap moves a mapping with its contents; time moves on by a sleep", () => {
    const { space, call } = syscallHarness();
    const first = call(SYS.mmap, 0n, 8192n, 3n, 0x22n, -1n, 0n);
    const second = call(SYS.mmap, 0n, 4096n, 3n, 0x22n, -1n, 0n);
    space.store64(first + 8000n, 0x1234n);
    const moved = call(SYS.mremap, first, 8192n, 65536n, 1n);
    assert.ok(moved > second, "moved past the mapping after it");
    assert.equal(space.load64(moved + 8000n), 0x1234n);
    assert.ok(!space.isMapped(first, 8192n));
    assert.equal(call(SYS.mremap, second, 4096n, 65536n, 0n), -12n, "cannot grow in place without MREMAP_MAYMOVE");
    assert.equal(call(SYS.mmap, 0n, 4096n, 3n, 0x02n, 1n, 0n), -19n, "stdout cannot be mapped");
    space.map(BUFFER, 0x1000, "rw-");
    assert.equal(call(SYS.clockGettime, 1n, BUFFER), 0n);
    const before = space.load64(BUFFER);
    space.store64(BUFFER + 16n, 5n);
    space.store64(BUFFER + 24n, 0n);
    assert.equal(call(SYS.nanosleep, BUFFER + 16n, 0n), 0n);
    assert.equal(call(SYS.clockGettime, 1n, BUFFER), 0n);
    assert.equal(space.load64(BUFFER) - before, 5n);
    assert.equal(call(SYS.clockGettime, 99n, BUFFER), -22n);
  });
});
