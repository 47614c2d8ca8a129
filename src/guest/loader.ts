import { PAGE_SIZE_BYTES } from "../space/address.js";
import type { AddressSpace } from "../space/address-space.js";
import { PROT_EXEC, PROT_READ, PROT_WRITE } from "../space/protection.js";
import { parseElf, PF_R, PF_W, PF_X, GuestLoadError, type LoadSegment } from "./elf.js";

/** Guest memory layout: the stack ends below 2^38, anonymous mmaps grow up from 2^37. */
export const STACK_TOP = 0x40_0000_0000n;
export const STACK_BYTES = 1n << 20n;
export const MMAP_BASE = 0x20_0000_0000n;
const PAGE = BigInt(PAGE_SIZE_BYTES);
const AT_NULL = 0n;
const AT_PAGESZ = 6n;

export interface LoadedProgram {
  entry: bigint;
  stackPointer: bigint;
  /** First byte after the image, page-aligned: where `brk` starts. */
  breakStart: bigint;
}

function alignUp(value: bigint): bigint {
  return (value + PAGE - 1n) & ~(PAGE - 1n);
}

function alignDown(value: bigint): bigint {
  return value & ~(PAGE - 1n);
}

/**
 * Loads a static RISC-V ELF into `space`: maps each PT_LOAD segment with its permissions
 * (pages shared by two segments get the union), copies the file bytes (the rest of each
 * segment reads as zero: .bss; bare-metal images also get them at their load address), maps a 1 MiB stack below STACK_TOP and lays out argc, argv,
 * envp and auxv on it as Linux does. Nothing here goes through the traced hot path.
 */
export function loadProgram(space: AddressSpace, bytes: Uint8Array, file: string, argv: string[]): LoadedProgram {
  const image = parseElf(bytes, file);
  const pageProtection = new Map<bigint, number>();
  let imageEnd = 0n;
  const addRange = (start: bigint, end: bigint, protection: number): void => {
    for (let page = alignDown(start); page < end; page += PAGE) pageProtection.set(page, (pageProtection.get(page) ?? 0) | protection);
    if (end > imageEnd) imageEnd = end;
  };
  for (const segment of image.segments) {
    const protection =
      (segment.flags & PF_R ? PROT_READ : 0) | (segment.flags & PF_W ? PROT_WRITE : 0) | (segment.flags & PF_X ? PROT_EXEC : 0);
    addRange(segment.virtualAddress, segment.virtualAddress + segment.memoryBytes, protection);
    if (hasLoadCopy(segment)) addRange(segment.physicalAddress, segment.physicalAddress + BigInt(segment.fileBytes), PROT_READ);
  }
  if (alignUp(imageEnd) > MMAP_BASE) throw new GuestLoadError(file, `image ends at 0x${imageEnd.toString(16)}, above the mmap area`);
  // Map runs of pages with equal protection.
  const pages = [...pageProtection.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  let runStart = -1n;
  let runEnd = -1n;
  let runProtection = -1;
  const flush = (): void => {
    if (runStart >= 0n) space.map(runStart, runEnd - runStart, runProtection);
  };
  for (const page of pages) {
    const protection = pageProtection.get(page)!;
    if (page === runEnd && protection === runProtection) runEnd += PAGE;
    else {
      flush();
      runStart = page;
      runEnd = page + PAGE;
      runProtection = protection;
    }
  }
  flush();
  for (const segment of image.segments) {
    const contents = bytes.subarray(segment.fileOffset, segment.fileOffset + segment.fileBytes);
    if (segment.fileBytes > 0) space.write(segment.virtualAddress, contents);
    if (hasLoadCopy(segment)) space.write(segment.physicalAddress, contents);
  }
  space.map(STACK_TOP - STACK_BYTES, STACK_BYTES, "rw-");
  return { entry: image.entry, stackPointer: writeStartupStack(space, argv), breakStart: alignUp(imageEnd) };
}

/**
 * A bare-metal image (picolibc, newlib) links initialised data to run at its virtual
 * address but stores it at its load (physical) address, and crt0 copies it over: such a
 * segment's bytes go to both places. Linux-style images have equal addresses.
 */
function hasLoadCopy(segment: LoadSegment): boolean {
  return segment.physicalAddress !== segment.virtualAddress && segment.fileBytes > 0;
}

/** Strings at the top of the stack, then (16-byte aligned) argc, argv[], NULL, envp NULL, auxv. */
function writeStartupStack(space: AddressSpace, argv: string[]): bigint {
  const encoder = new TextEncoder();
  let top = STACK_TOP;
  const pointers: bigint[] = [];
  for (const argument of argv) {
    const encoded = encoder.encode(argument + "\0");
    top -= BigInt(encoded.length);
    space.write(top, encoded);
    pointers.push(top);
  }
  const words = [BigInt(argv.length), ...pointers, 0n, 0n, AT_PAGESZ, PAGE, AT_NULL, 0n];
  const stackPointer = (top - BigInt(words.length * 8)) & ~15n;
  const block = new Uint8Array(words.length * 8);
  const view = new DataView(block.buffer);
  words.forEach((word, index) => view.setBigUint64(index * 8, word, true));
  space.write(stackPointer, block);
  return stackPointer;
}
