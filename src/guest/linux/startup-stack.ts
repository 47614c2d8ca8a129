import { PAGE_SIZE_BYTES } from "../../space/address.js";
import type { AddressSpace } from "../../space/address-space.js";
import { PHDR_BYTES } from "../elf.js";

/** What Linux puts on a new program's stack besides its arguments. */
export interface StartupInfo {
  argv: string[];
  /** "KEY=value" entries. */
  environment: string[];
  /** The program's name as given to execve: AT_EXECFN. */
  executableName: string;
  entry: bigint;
  /** The program headers' address in memory (0 when no segment holds them), their count. */
  programHeaderAddress: bigint;
  programHeaderCount: number;
}

const AT_NULL = 0n;
const AT_PHDR = 3n;
const AT_PHENT = 4n;
const AT_PHNUM = 5n;
const AT_PAGESZ = 6n;
const AT_BASE = 7n;
const AT_FLAGS = 8n;
const AT_ENTRY = 9n;
const AT_UID = 11n;
const AT_EUID = 12n;
const AT_GID = 13n;
const AT_EGID = 14n;
const AT_HWCAP = 16n;
const AT_CLKTCK = 17n;
const AT_SECURE = 23n;
const AT_RANDOM = 25n;
const AT_EXECFN = 31n;

/** The ISA letters I, M, A, F, D, C as bits ('A' is bit 0): rv64gc, as qemu-riscv64 reports it. */
const HWCAP_RV64GC = ["I", "M", "A", "F", "D", "C"].reduce((bits, letter) => bits | (1n << BigInt(letter.charCodeAt(0) - 65)), 0n);
/** sysconf(_SC_CLK_TCK): Linux's USER_HZ. */
const CLOCK_TICKS_PER_SECOND = 100n;
const RANDOM_BYTES = 16;
const WORD_BYTES = 8;

/**
 * Lays out a new program's stack below `stackTop` as Linux does (fs/binfmt_elf.c), in
 * qemu-riscv64's auxv order: the executable's name at the top, the environment and argument
 * strings, 16 AT_RANDOM bytes (fixed, so runs repeat), then at the 16-byte aligned stack
 * pointer argc, argv[], NULL, envp[], NULL and the auxiliary vector. Returns the stack pointer.
 */
export function writeStartupStack(space: AddressSpace, stackTop: bigint, info: StartupInfo): bigint {
  const encoder = new TextEncoder();
  let top = stackTop;
  const push = (bytes: Uint8Array): bigint => {
    top -= BigInt(bytes.length);
    space.write(top, bytes);
    return top;
  };
  const pushString = (text: string): bigint => push(encoder.encode(text + "\0"));
  const executableName = pushString(info.executableName);
  const environment = info.environment.map(pushString);
  const argv = info.argv.map(pushString);
  const random = push(Uint8Array.from({ length: RANDOM_BYTES }, (_, index) => (index * 0x9d + 0x3b) & 0xff));
  const auxv = [
    [AT_PHDR, info.programHeaderAddress],
    [AT_PHENT, BigInt(PHDR_BYTES)],
    [AT_PHNUM, BigInt(info.programHeaderCount)],
    [AT_PAGESZ, BigInt(PAGE_SIZE_BYTES)],
    [AT_BASE, 0n],
    [AT_FLAGS, 0n],
    [AT_ENTRY, info.entry],
    [AT_UID, 0n],
    [AT_EUID, 0n],
    [AT_GID, 0n],
    [AT_EGID, 0n],
    [AT_HWCAP, HWCAP_RV64GC],
    [AT_CLKTCK, CLOCK_TICKS_PER_SECOND],
    [AT_RANDOM, random],
    [AT_SECURE, 0n],
    [AT_EXECFN, executableName],
    [AT_NULL, 0n],
  ].flat();
  const words = [BigInt(argv.length), ...argv, 0n, ...environment, 0n, ...auxv];
  const stackPointer = (top - BigInt(words.length * WORD_BYTES)) & ~15n;
  const block = new Uint8Array(words.length * WORD_BYTES);
  const view = new DataView(block.buffer);
  words.forEach((word, index) => view.setBigUint64(index * WORD_BYTES, word, true));
  space.write(stackPointer, block);
  return stackPointer;
}
