import { PAGE_SIZE_BYTES } from "./address.js";
import { ChunkedFrameStore, ZERO_FRAME, type FrameStore } from "./frame-store.js";

export { ZERO_FRAME } from "./frame-store.js";

/** Reference count that never drops to zero: the shared zero frame lives forever. */
const PINNED_REFCOUNT = 0x3fffffff;
/** Frames the reference counts have room for at first; the array doubles as frames appear. */
const INITIAL_COUNTED_FRAMES = 64;

/**
 * 4 KiB page frames from a store, with reference counts for copy-on-write. Several page
 * tables (a space and its snapshots) share one pool.
 */
export class FramePool {
  private refCounts = new Int32Array(INITIAL_COUNTED_FRAMES);

  /** Takes frames from `store` (by default private buffers); frame 0 is the shared zero frame and is never freed. */
  constructor(private readonly store: FrameStore = new ChunkedFrameStore()) {
    this.refCounts[ZERO_FRAME] = PINNED_REFCOUNT;
  }

  /** A zeroed frame with reference count 1. */
  allocate(): number {
    return this.counted(this.store.allocate());
  }

  /**
   * A zeroed run of 2^order frames with consecutive numbers and contiguous bytes, or -1 when the store has
   * none. The run counts its references as one: on its first frame, so `retain`, `isShared` and
   * `release(frame, order)` take that frame.
   */
  allocateRun(order: number): number {
    const frame = this.store.allocateRun(order);
    return frame < 0 ? -1 : this.counted(frame);
  }

  private counted(frame: number): number {
    if (frame >= this.refCounts.length) {
      const grown = new Int32Array(Math.max(frame + 1, this.refCounts.length * 2));
      grown.set(this.refCounts);
      this.refCounts = grown;
    }
    if (this.refCounts[frame] !== 0) throw new Error(`frame pool: frame ${frame} handed out while in use`);
    this.refCounts[frame] = 1;
    return frame;
  }

  /** Adds a reference to an allocated frame (a page table that now shares it); throws an Error if the frame is free. */
  retain(frame: number): void {
    if (frame === ZERO_FRAME) return;
    if (this.refCounts[frame] <= 0) throw new Error(`frame pool: retain of free frame ${frame}`);
    this.refCounts[frame]++;
  }

  /**
   * Drops a reference to a frame, or to the run of 2^order frames from `allocateRun(order)` that starts there;
   * at the last one it is zeroed and returned to the store. Throws an Error if the frame is free.
   */
  release(frame: number, order = 0): void {
    if (frame === ZERO_FRAME) return;
    const count = this.refCounts[frame];
    if (count <= 0) throw new Error(`frame pool: release of free frame ${frame}`);
    this.refCounts[frame] = count - 1;
    if (count !== 1) return;
    // Zero on release, so allocate() hands out clean frames without a check.
    this.bytesOf(frame).fill(0, this.baseOf(frame), this.baseOf(frame) + (PAGE_SIZE_BYTES << order));
    if (order === 0) this.store.free(frame);
    else this.store.freeRun(frame, order);
  }

  /** Whether more than one page table holds the frame, so a write must copy it first. */
  isShared(frame: number): boolean {
    return this.refCounts[frame] > 1;
  }

  /** Copies the page-size bytes of frame `from` into frame `to`. */
  copyFrame(from: number, to: number): void {
    const base = this.baseOf(from);
    this.bytesOf(to).set(this.bytesOf(from).subarray(base, base + PAGE_SIZE_BYTES), this.baseOf(to));
  }

  /** A DataView over the buffer holding the frame; the frame starts at `baseOf(frame)`. */
  viewOf(frame: number): DataView {
    return this.store.viewOf(frame);
  }

  /** The bytes of the buffer holding the frame; the frame starts at `baseOf(frame)`. */
  bytesOf(frame: number): Uint8Array {
    return this.store.bytesOf(frame);
  }

  /** Byte offset of the frame in `viewOf(frame)` and `bytesOf(frame)`. */
  baseOf(frame: number): number {
    return this.store.baseOf(frame);
  }
}
