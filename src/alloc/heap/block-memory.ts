/**
 * The memory a Heap manages, behind one interface (the heap's analogue of mimalloc's `prim`
 * layer over the OS): where the heap's metadata lives, how the bytes of its blocks are read
 * and written, how the store grows, and what happens to pages the heap takes for blocks or
 * gives back. The heap's algorithms see only byte offsets ("addresses", 0 is null).
 *
 * Here the buffer backings, whose blocks live in the same store as the metadata: an
 * ArrayBuffer or SharedArrayBuffer (fixed size) and a WebAssembly.Memory (grown when the
 * heap is full), whole or a region `[start, end)` of them (the views start at `start`, so
 * the heap's offsets are relative to it). An AddressSpace region is another (space-memory.ts).
 */
import { HeapError } from "./heap-error.js";
import { Geometry } from "./heap-layout.js";
import { DEFAULT_WASM_MAX_BYTES, type HeapOptions } from "./heap-options.js";

/** Block addresses are byte offsets kept in Int32 words (lists, caches, spans): a heap spans at most 2 GiB. */
export const MAX_HEAP_BYTES = 2 ** 31;
const WASM_PAGE_BYTES = 65536;

/** The memories a Heap can be constructed over directly. */
export type HeapBacking = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

/**
 * A heap's memory. The metadata views cover the heap's store from its offset 0 (whole heap
 * pages, at most MAX_HEAP_BYTES); grow() and refresh() replace them. Every address the
 * interface takes is such an offset.
 */
export interface BlockMemory {
  /**
   * Where the views' offset 0 lies in the buffer under them (a heap over a region of a
   * buffer starts there): the Heap adds it to the blocks' offsets it returns and subtracts
   * it from the addresses it is given. Absent: 0.
   */
  readonly startAddress?: number;
  /** Bytes of the metadata store (for a buffer backing, the blocks' bytes too). */
  readonly bytes: Uint8Array;
  /** The same store as Int32 words: the heap's header, descriptors, lists and bitmap. */
  readonly words: Int32Array;
  /** The same store as float64s: the heap's statistics, seen by every worker. */
  readonly floats: Float64Array;
  /** Shared between workers (a SharedArrayBuffer): the heap uses atomics and its page-layer mutex. */
  readonly shared: boolean;
  /**
   * The blocks live in the views' own buffer (a buffer backing): the heap's fast paths then
   * read and write a block's link in `words` themselves, without a call to load32/store32.
   */
  readonly blocksInViews: boolean;
  /** The most bytes the store can grow to (whole heap pages). */
  readonly maxByteLength: number;
  /** Grows the store to at least `minBytes`, with new views; false if it cannot. */
  grow(minBytes: number): boolean;
  /** New views, after another worker grew the store. */
  refresh(): void;
  /** The 32-bit word at `address` of a block (4-byte aligned): a free-list link, or debug mode's size record. */
  load32(address: number): number;
  /** Writes the 32-bit word at `address` of a block. */
  store32(address: number, value: number): void;
  /** The byte at `address` of a block. */
  load8(address: number): number;
  /** Writes the byte at `address` of a block. */
  store8(address: number, value: number): void;
  /** Sets `lengthBytes` bytes from `address` to `byte` (calloc's zeroing, debug mode's poison). */
  fill(address: number, lengthBytes: number, byte: number): void;
  /** Copies `lengthBytes` bytes from `source` to `destination` (realloc; the ranges do not overlap). */
  copy(destination: number, source: number, lengthBytes: number): void;
  /** Pages `[firstPage, firstPage + pageCount)` now hold a span or a large block (the mmap analogue). */
  mapPages(firstPage: number, pageCount: number): void;
  /** Those pages went back to the free pages; true if they now read as zero (the MADV_DONTNEED analogue). */
  unmapPages(firstPage: number, pageCount: number): boolean;
  /** How errors name an address of the heap. */
  formatAddress(address: number): string;
  /**
   * Heap pages of a huge frame, where the memory backs whole 2 MiB-aligned runs of a large
   * block with one (SpaceMemory on a paged space): a large block of at least this many
   * pages then starts on a multiple of it, so that every whole 2 MiB of it gets one. Absent
   * or 0: large blocks start on any page.
   */
  readonly hugeAlignPages?: number;
}

/** A fixed ArrayBuffer or SharedArrayBuffer: metadata and blocks in one buffer, never grown. */
export class BufferMemory implements BlockMemory {
  /** The buffer's bytes (whole heap pages). */
  bytes!: Uint8Array;
  /** The buffer as Int32 words. */
  words!: Int32Array;
  /** The buffer as float64s. */
  floats!: Float64Array;
  /** A SharedArrayBuffer. */
  readonly shared: boolean;
  /** True: the blocks are in the buffer. */
  readonly blocksInViews: boolean = true;
  /** The most bytes of the buffer the heap uses (whole heap pages). */
  readonly maxByteLength: number;
  /** The region's first byte in the buffer (a multiple of the heap page). */
  readonly startAddress: number;
  /** The byte past the most the region may reach in the buffer (its end, or a growable memory's limit). */
  protected readonly endAddress: number;

  /** A heap over bytes `[startAddress, endAddress)` of `buffer` (the end may lie past a growable buffer's current size). */
  constructor(buffer: ArrayBuffer | SharedArrayBuffer, endAddress: number, startAddress = 0) {
    this.shared = buffer instanceof SharedArrayBuffer;
    this.startAddress = startAddress;
    this.endAddress = endAddress;
    this.views(buffer);
    this.maxByteLength = wholePages(endAddress - startAddress);
  }

  /** A fixed buffer does not grow. */
  grow(minBytes: number): boolean {
    void minBytes;
    return false;
  }

  /** A fixed buffer's views never change. */
  refresh(): void {}

  /** The word at `address`, in the buffer. */
  load32(address: number): number {
    return this.words[address >>> 2];
  }

  /** Writes the word at `address`, in the buffer. */
  store32(address: number, value: number): void {
    this.words[address >>> 2] = value;
  }

  /** The byte at `address`, in the buffer. */
  load8(address: number): number {
    return this.bytes[address];
  }

  /** Writes the byte at `address`, in the buffer. */
  store8(address: number, value: number): void {
    this.bytes[address] = value;
  }

  /** Fills bytes of the buffer. */
  fill(address: number, lengthBytes: number, byte: number): void {
    this.bytes.fill(byte, address, address + lengthBytes);
  }

  /** Copies bytes inside the buffer. */
  copy(destination: number, source: number, lengthBytes: number): void {
    this.bytes.copyWithin(destination, source, source + lengthBytes);
  }

  /** The pages are the buffer's: nothing to map. */
  mapPages(firstPage: number, pageCount: number): void {
    void firstPage;
    void pageCount;
  }

  /** Nothing to unmap: the pages keep their bytes (a later calloc zeroes them). */
  unmapPages(firstPage: number, pageCount: number): boolean {
    void firstPage;
    void pageCount;
    return false;
  }

  /** An address as the byte offset in the buffer it is, in hex. */
  formatAddress(address: number): string {
    return `0x${(address + this.startAddress).toString(16)}`;
  }

  /** Views over the region's whole heap pages that `buffer` holds now. */
  protected views(buffer: ArrayBuffer | SharedArrayBuffer): void {
    const usable = wholePages(Math.max(0, Math.min(buffer.byteLength, this.endAddress) - this.startAddress));
    this.bytes = new Uint8Array(buffer, this.startAddress, usable);
    this.words = new Int32Array(buffer, this.startAddress, usable >>> 2);
    this.floats = new Float64Array(buffer, this.startAddress, usable >>> 3);
  }
}

/**
 * A WebAssembly.Memory: a buffer memory over `[startAddress, endAddress)`. When the region
 * is the memory's tail (`growable`), the heap grows the memory (by whole WebAssembly pages)
 * up to `endAddress`; a region with an end of its own never grows it.
 */
export class WasmMemory extends BufferMemory {
  /** A heap over bytes `[startAddress, endAddress)` of `memory` (endAddress at most MAX_HEAP_BYTES). */
  constructor(
    private readonly memory: WebAssembly.Memory,
    startAddress: number,
    endAddress: number,
    private readonly growable: boolean,
  ) {
    super(memory.buffer, endAddress, startAddress);
  }

  /** Grows the memory by whole WebAssembly pages, up to maxByteLength; a region with an end of its own, never. */
  override grow(minBytes: number): boolean {
    if (!this.growable || minBytes > this.maxByteLength) return false;
    try {
      this.memory.grow(Math.ceil((this.startAddress + minBytes - this.memory.buffer.byteLength) / WASM_PAGE_BYTES));
    } catch {
      return false;
    }
    this.refresh();
    return true;
  }

  /** Views over the memory's current buffer (grow() replaces it). */
  override refresh(): void {
    this.views(this.memory.buffer);
  }
}

/**
 * The block memory of a backing, over the region `options.start` .. `options.end` (default:
 * all of it); `options.maxBytes` bounds the growth of a WebAssembly.Memory whose tail the
 * region is. Throws a HeapError naming a region that is unaligned or outside the backing.
 */
export function memoryOfBacking(backing: HeapBacking, options: HeapOptions): BlockMemory {
  const wasm = backing instanceof WebAssembly.Memory;
  const byteLength = wasm ? backing.buffer.byteLength : backing.byteLength;
  const start = options.start ?? 0;
  const growable = wasm && options.end === undefined;
  const end = options.end ?? (wasm ? (options.maxBytes ?? DEFAULT_WASM_MAX_BYTES) : byteLength);
  const region = `heap region [${start}, ${options.end ?? "end"})`;
  checkRegionBound(region, "start", start);
  if (options.end !== undefined) checkRegionBound(region, "end", end);
  if (end > MAX_HEAP_BYTES) {
    const what = options.end !== undefined ? `end ${end}` : wasm ? `maxBytes ${end}` : `a buffer of ${end} bytes`;
    throw new HeapError(`${what}: a heap spans at most 2 GiB (${MAX_HEAP_BYTES} bytes; its block addresses are 31-bit offsets)`);
  }
  if (options.end !== undefined && end > byteLength) throw new HeapError(`${region}: end ${end} is past the ${wasm ? "memory" : "buffer"}'s ${byteLength} bytes`);
  if (!growable && start >= byteLength) throw new HeapError(`${region}: start ${start} is past the ${wasm ? "memory" : "buffer"}'s ${byteLength} bytes`);
  if (start >= end) throw new HeapError(`${region}: start ${start} is not below ${growable ? `the memory's limit (maxBytes) ${end}` : `end ${end}`}`);
  return wasm ? new WasmMemory(backing, start, end, growable) : new BufferMemory(backing, end, start);
}

/** A region's bound must be a byte offset on a heap page boundary (so a page of the heap is a page of the buffer). */
function checkRegionBound(region: string, name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0 || value % Geometry.PageBytes !== 0) throw new HeapError(`${region}: ${name} ${value} is not a multiple of ${Geometry.PageBytes} bytes (the heap's page)`);
}

/** `bytes` rounded down to whole heap pages (arithmetic, not a mask: sizes reach 2^31). */
function wholePages(bytes: number): number {
  return Math.floor(bytes / Geometry.PageBytes) * Geometry.PageBytes;
}

/** Whether `memory` is one of the backings a Heap wraps itself (rather than a BlockMemory). */
export function isHeapBacking(memory: HeapBacking | BlockMemory): memory is HeapBacking {
  return memory instanceof ArrayBuffer || memory instanceof WebAssembly.Memory || (typeof SharedArrayBuffer !== "undefined" && memory instanceof SharedArrayBuffer);
}
