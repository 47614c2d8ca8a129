import { PAGE_SHIFT, PAGE_SIZE_BYTES } from "./address.js";

/** Frames per pooled buffer: 4096 frames = 16 MiB, so a pool grows in few large steps. */
const FRAMES_PER_CHUNK_SHIFT = 12;
const FRAMES_PER_CHUNK = 1 << FRAMES_PER_CHUNK_SHIFT;
const CHUNK_BYTES = FRAMES_PER_CHUNK * PAGE_SIZE_BYTES;
/** Reference count that never drops to zero: the shared zero frame lives forever. */
const PINNED_REFCOUNT = 0x3fffffff;

/** Frame 0 is the shared, never-written zero frame that untouched pages read from. */
export const ZERO_FRAME = 0;

/**
 * 4 KiB page frames in large pooled buffers, with reference counts for copy-on-write.
 * Several page tables (a space and its snapshots) share one pool.
 */
export class FramePool {
  private chunkViews: DataView[] = [];
  private chunkBytes: Uint8Array[] = [];
  private refCounts = new Int32Array(FRAMES_PER_CHUNK);
  private freeFrames = new Int32Array(64);
  private freeCount = 0;
  private nextUnused = 0;
  private liveFrames = 0;

  constructor() {
    const zero = this.allocate();
    if (zero !== ZERO_FRAME) throw new Error("frame pool: zero frame must be frame 0");
    this.refCounts[ZERO_FRAME] = PINNED_REFCOUNT;
  }

  /** A zeroed frame with reference count 1. */
  allocate(): number {
    let frame: number;
    if (this.freeCount > 0) {
      frame = this.freeFrames[--this.freeCount];
    } else {
      frame = this.nextUnused++;
      if ((frame & (FRAMES_PER_CHUNK - 1)) === 0) this.addChunk();
    }
    if (this.refCounts[frame] !== 0) throw new Error(`frame pool: frame ${frame} handed out while in use`);
    this.refCounts[frame] = 1;
    this.liveFrames++;
    return frame;
  }

  retain(frame: number): void {
    if (frame === ZERO_FRAME) return;
    if (this.refCounts[frame] <= 0) throw new Error(`frame pool: retain of free frame ${frame}`);
    this.refCounts[frame]++;
  }

  release(frame: number): void {
    if (frame === ZERO_FRAME) return;
    const count = this.refCounts[frame];
    if (count <= 0) throw new Error(`frame pool: release of free frame ${frame}`);
    this.refCounts[frame] = count - 1;
    if (count === 1) {
      // Zero on release, so allocate() hands out clean frames without a check.
      this.bytesOf(frame).fill(0, this.baseOf(frame), this.baseOf(frame) + PAGE_SIZE_BYTES);
      if (this.freeCount === this.freeFrames.length) {
        const grown = new Int32Array(this.freeFrames.length * 2);
        grown.set(this.freeFrames);
        this.freeFrames = grown;
      }
      this.freeFrames[this.freeCount++] = frame;
      this.liveFrames--;
    }
  }

  isShared(frame: number): boolean {
    return this.refCounts[frame] > 1;
  }

  copyFrame(from: number, to: number): void {
    const src = this.bytesOf(from);
    const base = this.baseOf(from);
    this.bytesOf(to).set(src.subarray(base, base + PAGE_SIZE_BYTES), this.baseOf(to));
  }

  viewOf(frame: number): DataView {
    return this.chunkViews[frame >>> FRAMES_PER_CHUNK_SHIFT];
  }

  bytesOf(frame: number): Uint8Array {
    return this.chunkBytes[frame >>> FRAMES_PER_CHUNK_SHIFT];
  }

  /** Byte offset of the frame inside its chunk. */
  baseOf(frame: number): number {
    return (frame & (FRAMES_PER_CHUNK - 1)) << PAGE_SHIFT;
  }

  /** Frames handed out and not yet released (the zero frame included). */
  get liveFrameCount(): number {
    return this.liveFrames;
  }

  private addChunk(): void {
    const buffer = new ArrayBuffer(CHUNK_BYTES);
    this.chunkViews.push(new DataView(buffer));
    this.chunkBytes.push(new Uint8Array(buffer));
    const needed = this.chunkViews.length * FRAMES_PER_CHUNK;
    if (needed > this.refCounts.length) {
      const grown = new Int32Array(needed * 2);
      grown.set(this.refCounts);
      this.refCounts = grown;
    }
  }
}
