import { PAGE_SHIFT, PAGE_SIZE_BYTES } from "./address.js";

/**
 * Frames live in pooled buffers that double in size: 64 frames (256 KiB) first, then 64,
 * 128, ... up to 65,536 frames (256 MiB), then more of that size. A small space costs
 * little; a large one grows in few big steps. Chunk k < DOUBLING_CHUNKS holds frames
 * [64 << (k - 1), 64 << k) (chunk 0: [0, 64)).
 */
const FIRST_CHUNK_SHIFT = 6;
const DOUBLING_CHUNKS = 11;
const LARGEST_CHUNK_SHIFT = FIRST_CHUNK_SHIFT + DOUBLING_CHUNKS - 1;
/** Frames held by the doubling chunks: everything below this frame number. */
const DOUBLING_FRAMES = 1 << LARGEST_CHUNK_SHIFT;

function chunkOf(frame: number): number {
  if (frame < DOUBLING_FRAMES) return frame < 1 << FIRST_CHUNK_SHIFT ? 0 : 32 - Math.clz32(frame >>> FIRST_CHUNK_SHIFT);
  return DOUBLING_CHUNKS + ((frame - DOUBLING_FRAMES) >>> LARGEST_CHUNK_SHIFT);
}

function chunkFirstFrame(chunk: number): number {
  if (chunk === 0) return 0;
  if (chunk < DOUBLING_CHUNKS) return (1 << FIRST_CHUNK_SHIFT) << (chunk - 1);
  return DOUBLING_FRAMES + ((chunk - DOUBLING_CHUNKS) << LARGEST_CHUNK_SHIFT);
}

function chunkFrameCount(chunk: number): number {
  return chunk === 0 ? 1 << FIRST_CHUNK_SHIFT : chunk < DOUBLING_CHUNKS ? chunkFirstFrame(chunk) : 1 << LARGEST_CHUNK_SHIFT;
}
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
  private refCounts = new Int32Array(1 << FIRST_CHUNK_SHIFT);
  private freeFrames = new Int32Array(64);
  private freeCount = 0;
  private nextUnused = 0;

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
      if (chunkOf(frame) === this.chunkViews.length) this.addChunk();
    }
    if (this.refCounts[frame] !== 0) throw new Error(`frame pool: frame ${frame} handed out while in use`);
    this.refCounts[frame] = 1;
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
    return this.chunkViews[chunkOf(frame)];
  }

  bytesOf(frame: number): Uint8Array {
    return this.chunkBytes[chunkOf(frame)];
  }

  /** Byte offset of the frame inside its chunk. */
  baseOf(frame: number): number {
    return (frame - chunkFirstFrame(chunkOf(frame))) << PAGE_SHIFT;
  }

  private addChunk(): void {
    const chunk = this.chunkViews.length;
    const buffer = new ArrayBuffer(chunkFrameCount(chunk) * PAGE_SIZE_BYTES);
    this.chunkViews.push(new DataView(buffer));
    this.chunkBytes.push(new Uint8Array(buffer));
    const needed = chunkFirstFrame(chunk) + chunkFrameCount(chunk);
    if (needed > this.refCounts.length) {
      const grown = new Int32Array(needed * 2);
      grown.set(this.refCounts);
      this.refCounts = grown;
    }
  }
}
