/**
 * ELF64 parsing for statically linked RISC-V executables: the header, and the program
 * headers the loader needs. Anything else is a GuestLoadError naming the file and problem.
 */
import { readSymbols } from "./elf-sections.js";

const ELF_MAGIC = 0x464c457f; // "\x7fELF" read little-endian
const ELFCLASS64 = 2;
const ELFDATA2LSB = 1;
const ET_EXEC = 2;
const ET_DYN = 3;
const EM_RISCV = 243;
const EHDR_BYTES = 64;
/** Bytes of one ELF64 program header. */
export const PHDR_BYTES = 56;
/** Program header type of a loadable segment. */
export const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const PT_INTERP = 3;
/** Segment flag: executable. */
export const PF_X = 1;
/** Segment flag: writable. */
export const PF_W = 2;
/** Segment flag: readable. */
export const PF_R = 4;

/** An ELF file the guest loader cannot run; names the file and the problem. */
export class GuestLoadError extends Error {
  /** A problem with `file`, in words. */
  constructor(
    /** The ELF file, as given. */
    readonly file: string,
    problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = "GuestLoadError";
  }
}

/** A PT_LOAD segment: where it goes and what it holds. */
export interface LoadSegment {
  /** Virtual address, file offset and sizes, as bigints (64-bit fields). */
  virtualAddress: bigint;
  /** Load (physical) address: bare-metal images keep initial .data here for crt0 to copy. */
  physicalAddress: bigint;
  /** Offset of the segment's bytes in the file. */
  fileOffset: number;
  /** Bytes of the segment in the file; the rest up to `memoryBytes` reads as zero (.bss). */
  fileBytes: number;
  /** Bytes of the segment in memory. */
  memoryBytes: bigint;
  /** PF_R | PF_W | PF_X. */
  flags: number;
}

/** What the loader needs of an ELF file. */
export interface ElfImage {
  /** Address of the first instruction. */
  entry: bigint;
  /** The PT_LOAD segments, in file order. */
  segments: LoadSegment[];
  /**
   * A bare-metal image's heap and stack, [__heap_start, __stack) from its symbol table:
   * RAM its crt0 and sbrk use that no PT_LOAD segment covers. Absent in Linux-style images.
   */
  bareMetalRam?: { start: bigint; end: bigint };
  /** Where the program headers lie in the file, and how many there are (for AT_PHDR and AT_PHNUM). */
  programHeaders: { fileOffset: bigint; count: number };
}

/** The values of the named defined symbols in the file's .symtab (none found: an empty map). */
function findSymbols(bytes: Uint8Array, names: string[]): Map<string, bigint> {
  const wanted = new Set(names);
  return new Map(readSymbols(bytes).filter((symbol) => wanted.has(symbol.name)).map((symbol) => [symbol.name, symbol.value]));
}

/**
 * The header and loadable segments of a static RISC-V ELF64 executable; throws a GuestLoadError for anything
 * else, naming `file`.
 */
export function parseElf(bytes: Uint8Array, file: string): ElfImage {
  const fail = (problem: string): never => {
    throw new GuestLoadError(file, problem);
  };
  if (bytes.length < EHDR_BYTES) fail(`not an ELF file (${bytes.length} bytes, shorter than an ELF header)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (view.getUint32(0, true) !== ELF_MAGIC) fail("not an ELF file (bad magic)");
  if (bytes[4] !== ELFCLASS64) fail(`not a 64-bit ELF file (class ${bytes[4]})`);
  if (bytes[5] !== ELFDATA2LSB) fail("not a little-endian ELF file");
  const type = view.getUint16(16, true);
  const machine = view.getUint16(18, true);
  if (machine !== EM_RISCV) fail(`not a RISC-V executable (machine ${machine})`);
  if (type === ET_DYN) fail("position-independent or dynamic executables are not supported (ET_DYN); link statically");
  if (type !== ET_EXEC) fail(`not an executable (ELF type ${type})`);
  const entry = view.getBigUint64(24, true);
  const phoff = view.getBigUint64(32, true);
  const phentsize = view.getUint16(54, true);
  const phnum = view.getUint16(56, true);
  if (phentsize !== PHDR_BYTES) fail(`unexpected program header size ${phentsize}`);
  if (phoff + BigInt(phnum * PHDR_BYTES) > BigInt(bytes.length)) {
    fail(`program headers (offset ${phoff}, ${phnum} entries) run past the end of the file (${bytes.length} bytes)`);
  }
  const segments: LoadSegment[] = [];
  for (let index = 0; index < phnum; index++) {
    const at = Number(phoff) + index * PHDR_BYTES;
    const kind = view.getUint32(at, true);
    if (kind === PT_INTERP || kind === PT_DYNAMIC) fail("dynamically linked executables are not supported; link statically");
    if (kind !== PT_LOAD) continue;
    const flags = view.getUint32(at + 4, true);
    const offset = view.getBigUint64(at + 8, true);
    const virtualAddress = view.getBigUint64(at + 16, true);
    const physicalAddress = view.getBigUint64(at + 24, true);
    const fileBytes = view.getBigUint64(at + 32, true);
    const memoryBytes = view.getBigUint64(at + 40, true);
    if (offset + fileBytes > BigInt(bytes.length)) {
      fail(`segment ${index}: file bytes [${offset}, ${offset + fileBytes}) run past the end of the file (${bytes.length} bytes)`);
    }
    if (fileBytes > memoryBytes) fail(`segment ${index}: file size ${fileBytes} exceeds memory size ${memoryBytes}`);
    if (virtualAddress + memoryBytes > 1n << 64n || physicalAddress + fileBytes > 1n << 64n) {
      fail(`segment ${index}: runs past the top of the address space`);
    }
    segments.push({ virtualAddress, physicalAddress, fileOffset: Number(offset), fileBytes: Number(fileBytes), memoryBytes, flags });
  }
  if (segments.length === 0) fail("no loadable segments");
  const entryText = `entry point 0x${entry.toString(16)}`;
  // 2-byte alignment suffices: compressed (C extension) instructions are 2 bytes.
  if (entry % 2n !== 0n) fail(`${entryText} is not 2-byte aligned`);
  const executable = segments.some((segment) => segment.flags & PF_X && entry >= segment.virtualAddress && entry < segment.virtualAddress + segment.memoryBytes);
  if (!executable) fail(`${entryText} lies outside every executable (PF_X) loadable segment`);
  const symbols = findSymbols(bytes, ["__heap_start", "__stack"]);
  const heapStart = symbols.get("__heap_start");
  const stackTop = symbols.get("__stack");
  const bareMetalRam = heapStart !== undefined && stackTop !== undefined && heapStart < stackTop ? { start: heapStart, end: stackTop } : undefined;
  return { entry, segments, bareMetalRam, programHeaders: { fileOffset: phoff, count: phnum } };
}
