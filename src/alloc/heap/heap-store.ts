import { Geometry } from "./heap-layout.js";

/**
 * The memory a Heap manages, behind one interface: an ArrayBuffer or SharedArrayBuffer
 * (fixed size) or a WebAssembly.Memory (grown when the heap is full). The heap's
 * algorithms see only byte offsets into `bytes`.
 *
 * Heap pages are 16 KiB (Geometry.PageShift; 64 KiB pages cost larson 25% of its live bytes).
 */
export const HEAP_PAGE_SHIFT = Geometry.PageShift;
export const HEAP_PAGE_BYTES = 1 << HEAP_PAGE_SHIFT;
/** Block addresses are byte offsets kept in Int32 words (lists, caches, spans): a heap spans at most 2 GiB. */
export const MAX_HEAP_BYTES = 2 ** 31;
const WASM_PAGE_BYTES = 65536;

export type HeapBacking = ArrayBuffer | SharedArrayBuffer | WebAssembly.Memory;

export class HeapStore {
  bytes!: Uint8Array;
  words!: Int32Array;
  /** Heap statistics live in the store too (as float64s), so a second worker sees them. */
  floats!: Float64Array;
  readonly maxByteLength: number;

  constructor(
    private readonly backing: HeapBacking,
    maxByteLength?: number,
  ) {
    this.refresh();
    const fixed = backing instanceof WebAssembly.Memory ? MAX_HEAP_BYTES : this.bytes.length;
    this.maxByteLength = wholePages(Math.min(fixed, maxByteLength ?? fixed));
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** Grows to at least `minBytes` (WebAssembly.Memory only); false if it cannot. */
  grow(minBytes: number): boolean {
    if (!(this.backing instanceof WebAssembly.Memory) || minBytes > this.maxByteLength) return false;
    const pages = Math.ceil((minBytes - this.bytes.length) / WASM_PAGE_BYTES);
    try {
      this.backing.grow(pages);
    } catch {
      return false;
    }
    this.refresh();
    return true;
  }

  /** Views over the current buffer (after this or another worker grew the memory). */
  refresh(): void {
    const buffer = this.backing instanceof WebAssembly.Memory ? this.backing.buffer : this.backing;
    const usable = wholePages(Math.min(buffer.byteLength, MAX_HEAP_BYTES));
    this.bytes = new Uint8Array(buffer, 0, usable);
    this.words = new Int32Array(buffer, 0, usable >>> 2);
    this.floats = new Float64Array(buffer, 0, usable >>> 3);
  }
}

/** `bytes` rounded down to whole heap pages (arithmetic, not a mask: sizes reach 2^31). */
function wholePages(bytes: number): number {
  return Math.floor(bytes / HEAP_PAGE_BYTES) * HEAP_PAGE_BYTES;
}
