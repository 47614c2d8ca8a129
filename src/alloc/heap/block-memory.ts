/**
 * The memory a Heap manages, behind one interface (the heap's analogue of mimalloc's `prim`
 * layer over the OS): where the heap's metadata lives, how the bytes of its blocks are read
 * and written, how the store grows, and what happens to pages the heap takes for blocks or
 * gives back. The heap's algorithms see only byte offsets ("addresses", 0 is null).
 *
 * Here the buffer backings, whose blocks live in the same store as the metadata: an
 * ArrayBuffer or SharedArrayBuffer (fixed size) and a WebAssembly.Memory (grown when the
 * heap is full). An AddressSpace region is another (space-memory.ts).
 */
import { HeapError } from "./heap-error.js";
import { Geometry } from "./heap-layout.js";

/** Block addresses are byte offsets kept in Int32 words (lists, caches, spans): a heap spans at most 2 GiB. */
export const MAX_HEAP_BYTES = 2 ** 31;
const WASM_PAGE_BYTES = 65536;

/** The memories a Heap can be constructed over directly. */
export type HeapBacking = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

/**
 * A heap's memory. The metadata views cover the store from offset 0 (whole heap pages,
 * at most MAX_HEAP_BYTES); grow() and refresh() replace them.
 */
export interface BlockMemory {
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

  /** A heap over `buffer` that may reach `maxBytes` (a buffer's own size, unless it can grow). */
  constructor(buffer: ArrayBuffer | SharedArrayBuffer, maxBytes: number) {
    this.shared = buffer instanceof SharedArrayBuffer;
    this.views(buffer);
    this.maxByteLength = wholePages(maxBytes);
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

  /** An address as the offset it is, in hex. */
  formatAddress(address: number): string {
    return `0x${address.toString(16)}`;
  }

  /** Views over `buffer`'s whole heap pages. */
  protected views(buffer: ArrayBuffer | SharedArrayBuffer): void {
    const usable = wholePages(Math.min(buffer.byteLength, MAX_HEAP_BYTES));
    this.bytes = new Uint8Array(buffer, 0, usable);
    this.words = new Int32Array(buffer, 0, usable >>> 2);
    this.floats = new Float64Array(buffer, 0, usable >>> 3);
  }
}

/** A WebAssembly.Memory: a buffer memory that grows (by whole WebAssembly pages) up to `maxBytes`. */
export class WasmMemory extends BufferMemory {
  /** A heap over `memory` that may grow it to `maxBytes` (at most MAX_HEAP_BYTES). */
  constructor(
    private readonly memory: WebAssembly.Memory,
    maxBytes: number,
  ) {
    super(memory.buffer, maxBytes);
  }

  /** Grows the memory by whole WebAssembly pages, up to maxByteLength. */
  override grow(minBytes: number): boolean {
    if (minBytes > this.maxByteLength) return false;
    try {
      this.memory.grow(Math.ceil((minBytes - this.bytes.length) / WASM_PAGE_BYTES));
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

/** The block memory of a backing: `maxBytes` bounds a WebAssembly.Memory's growth. */
export function memoryOfBacking(backing: HeapBacking, maxBytes: number): BlockMemory {
  const wasm = backing instanceof WebAssembly.Memory;
  const limit = wasm ? maxBytes : backing.byteLength;
  if (limit > MAX_HEAP_BYTES) {
    const what = wasm ? `maxBytes ${limit}` : `a buffer of ${limit} bytes`;
    throw new HeapError(`${what}: a heap spans at most 2 GiB (${MAX_HEAP_BYTES} bytes; its block addresses are 31-bit offsets)`);
  }
  return wasm ? new WasmMemory(backing, maxBytes) : new BufferMemory(backing, backing.byteLength);
}

/** `bytes` rounded down to whole heap pages (arithmetic, not a mask: sizes reach 2^31). */
function wholePages(bytes: number): number {
  return Math.floor(bytes / Geometry.PageBytes) * Geometry.PageBytes;
}

/** Whether `memory` is one of the backings a Heap wraps itself (rather than a BlockMemory). */
export function isHeapBacking(memory: HeapBacking | BlockMemory): memory is HeapBacking {
  return memory instanceof ArrayBuffer || memory instanceof WebAssembly.Memory || (typeof SharedArrayBuffer !== "undefined" && memory instanceof SharedArrayBuffer);
}
