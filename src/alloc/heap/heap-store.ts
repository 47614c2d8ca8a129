/**
 * The memory a Heap manages, behind one interface: an ArrayBuffer or SharedArrayBuffer
 * (fixed size) or a WebAssembly.Memory (grown when the heap is full; a wasm page is 64 KiB,
 * the heap's page size). The heap's algorithms see only byte offsets into `bytes`.
 */
export const HEAP_PAGE_SHIFT = 16;
export const HEAP_PAGE_BYTES = 1 << HEAP_PAGE_SHIFT;

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
    const fixed = backing instanceof WebAssembly.Memory ? 2 ** 32 : this.bytes.length;
    this.maxByteLength = Math.min(fixed, maxByteLength ?? fixed) & ~(HEAP_PAGE_BYTES - 1);
  }

  get byteLength(): number {
    return this.bytes.length;
  }

  /** Grows to at least `minBytes` (WebAssembly.Memory only); false if it cannot. */
  grow(minBytes: number): boolean {
    if (!(this.backing instanceof WebAssembly.Memory) || minBytes > this.maxByteLength) return false;
    const pages = Math.ceil((minBytes - this.bytes.length) / HEAP_PAGE_BYTES);
    try {
      this.backing.grow(pages);
    } catch {
      return false;
    }
    this.refresh();
    return true;
  }

  private refresh(): void {
    const buffer = this.backing instanceof WebAssembly.Memory ? this.backing.buffer : this.backing;
    const usable = buffer.byteLength & ~(HEAP_PAGE_BYTES - 1);
    this.bytes = new Uint8Array(buffer, 0, usable);
    this.words = new Int32Array(buffer, 0, usable >>> 2);
    this.floats = new Float64Array(buffer, 0, usable >>> 3);
  }
}
