import { PAGE_SIZE_BYTES } from "../space/address.js";
import type { AddressSpace } from "../space/address-space.js";
import { PROT_EXEC, PROT_READ, PROT_WRITE } from "../space/protection.js";
import { parseElf, PF_R, PF_W, PF_X, GuestLoadError, type ElfImage, type LoadSegment } from "./elf.js";
import { writeStartupStack } from "./linux/startup-stack.js";

/** Guest memory layout: the stack ends below 2^38, anonymous mmaps grow up from 2^37. */
export const STACK_TOP = 0x40_0000_0000n;
/** Size of the guest stack mapped below STACK_TOP: 1 MiB. */
export const STACK_BYTES = 1n << 20n;
/** Where anonymous mmaps start (2^37); the image must end below it. */
export const MMAP_BASE = 0x20_0000_0000n;
const PAGE = BigInt(PAGE_SIZE_BYTES);

/** Where and how a loaded program starts. */
export interface LoadedProgram {
  /** The entry point address. */
  entry: bigint;
  /** The initial stack pointer, below argc, argv, envp and auxv. */
  stackPointer: bigint;
  /** First byte after the image, page-aligned: where `brk` starts. */
  breakStart: bigint;
}

/** The address rounded up to a page boundary (also for syscall lengths). */
export function pageAlignUp(value: bigint): bigint {
  return (value + PAGE - 1n) & ~(PAGE - 1n);
}

/** The address rounded down to a page boundary. */
export function pageAlignDown(value: bigint): bigint {
  return value & ~(PAGE - 1n);
}

/**
 * Loads a static RISC-V ELF into `space`: maps each PT_LOAD segment with its permissions
 * (pages shared by two segments get the union), copies the file bytes (the rest of each
 * segment reads as zero: .bss; bare-metal images also get them at their load address, and
 * their heap and stack RAM mapped), maps a 1 MiB stack below STACK_TOP and lays out argc, argv,
 * envp and auxv on it as Linux does (linux/startup-stack.ts). Nothing here goes through the traced hot path.
 */
export function loadProgram(space: AddressSpace, bytes: Uint8Array, file: string, argv: string[], environment: string[] = []): LoadedProgram {
  const image = parseElf(bytes, file);
  const ranges: PageRange[] = [];
  for (const segment of image.segments) {
    const protection =
      (segment.flags & PF_R ? PROT_READ : 0) | (segment.flags & PF_W ? PROT_WRITE : 0) | (segment.flags & PF_X ? PROT_EXEC : 0);
    ranges.push({ start: segment.virtualAddress, end: segment.virtualAddress + segment.memoryBytes, protection });
    if (hasLoadCopy(segment)) ranges.push({ start: segment.physicalAddress, end: segment.physicalAddress + BigInt(segment.fileBytes), protection: PROT_READ });
  }
  // Mapped like the rest of the image, so system calls (and a strict space) see it as the guest's.
  if (image.bareMetalRam !== undefined) ranges.push({ ...image.bareMetalRam, protection: PROT_READ | PROT_WRITE });
  // Checked before anything is mapped: a corrupt size must be an error, not a huge mapping.
  const imageEnd = ranges.reduce((end, range) => (range.end > end ? range.end : end), 0n);
  if (pageAlignUp(imageEnd) > MMAP_BASE) throw new GuestLoadError(file, `image ends at 0x${imageEnd.toString(16)}, above the mmap area`);
  // Writable while the contents go in (a strict space checks the loader's writes too), then
  // each run gets its own protection.
  const runs = protectionRuns(ranges);
  for (const run of runs) space.map(run.start, run.end - run.start, run.protection | PROT_WRITE);
  for (const segment of image.segments) {
    const contents = bytes.subarray(segment.fileOffset, segment.fileOffset + segment.fileBytes);
    if (segment.fileBytes > 0) space.write(segment.virtualAddress, contents);
    if (hasLoadCopy(segment)) space.write(segment.physicalAddress, contents);
  }
  for (const run of runs) if ((run.protection & PROT_WRITE) === 0) space.protect(run.start, run.end - run.start, run.protection);
  space.map(STACK_TOP - STACK_BYTES, STACK_BYTES, "rw-");
  const stackPointer = writeStartupStack(space, STACK_TOP, {
    argv,
    environment,
    executableName: argv[0] ?? file,
    entry: image.entry,
    programHeaderAddress: programHeaderAddress(image),
    programHeaderCount: image.programHeaders.count,
  });
  return { entry: image.entry, stackPointer, breakStart: pageAlignUp(imageEnd) };
}

interface PageRange {
  start: bigint;
  end: bigint;
  protection: number;
}

/**
 * The pages the ranges cover, as runs of equal protection: a page shared by two ranges gets
 * the union of theirs. Works on the ranges' boundaries, so its cost does not grow with their
 * sizes (a segment may reserve gigabytes of .bss).
 */
function protectionRuns(ranges: PageRange[]): PageRange[] {
  // A sweep over the boundaries (a file may hold thousands of program headers): at each, the
  // ranges starting there join and those ending there leave; per protection bit, how many cover.
  const events: { at: bigint; step: 1 | -1; protection: number }[] = [];
  for (const range of ranges) {
    const start = pageAlignDown(range.start);
    const end = pageAlignUp(range.end);
    if (end <= start) continue;
    events.push({ at: start, step: 1, protection: range.protection }, { at: end, step: -1, protection: range.protection });
  }
  events.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const bitCounts = [0, 0, 0];
  let covering = 0;
  const runs: PageRange[] = [];
  for (let index = 0; index < events.length; ) {
    const at = events[index].at;
    for (; index < events.length && events[index].at === at; index++) {
      const event = events[index];
      covering += event.step;
      for (let bit = 0; bit < bitCounts.length; bit++) if (event.protection & (1 << bit)) bitCounts[bit] += event.step;
    }
    if (covering === 0 || index === events.length) continue;
    const end = events[index].at;
    const protection = bitCounts.reduce((union, count, bit) => (count > 0 ? union | (1 << bit) : union), 0);
    const last = runs[runs.length - 1];
    if (last !== undefined && last.end === at && last.protection === protection) last.end = end;
    else runs.push({ start: at, end, protection });
  }
  return runs;
}

/**
 * A bare-metal image (picolibc, newlib) links initialised data to run at its virtual
 * address but stores it at its load (physical) address, and crt0 copies it over: such a
 * segment's bytes go to both places. Linux-style images have equal addresses.
 */
function hasLoadCopy(segment: LoadSegment): boolean {
  return segment.physicalAddress !== segment.virtualAddress && segment.fileBytes > 0;
}

/** Where the program headers are in memory: in the segment whose file bytes hold them (0 if none does). */
function programHeaderAddress(image: ElfImage): bigint {
  const offset = image.programHeaders.fileOffset;
  const holder = image.segments.find((segment) => offset >= BigInt(segment.fileOffset) && offset < BigInt(segment.fileOffset + segment.fileBytes));
  return holder === undefined ? 0n : holder.virtualAddress + offset - BigInt(holder.fileOffset);
}
