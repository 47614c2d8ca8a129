import { PAGE_SHIFT, PAGE_SIZE_BYTES } from "./address.js";
import type { FrameSource } from "./frame-source.js";

/**
 * Where the bytes of page frames live. Frame 0 is always the shared, never-written zero
 * frame that untouched pages read from; stores number the others from 1.
 */
export interface FrameStore {
  /** A zeroed frame. */
  allocate(): number;
  /** Takes back a frame the caller has zeroed. */
  free(frame: number): void;
  /**
   * First of 2^order zeroed frames with consecutive numbers whose bytes are contiguous in one buffer (a huge
   * frame), or -1 when the store has no such run free or cannot make one.
   */
  allocateRun(order: number): number;
  /** Takes back a run from `allocateRun(order)` that the caller has zeroed. */
  freeRun(frame: number, order: number): void;
  /** A DataView over the buffer holding the frame; the frame starts at `baseOf(frame)`. */
  viewOf(frame: number): DataView;
  /** The bytes of the buffer holding the frame; the frame starts at `baseOf(frame)`. */
  bytesOf(frame: number): Uint8Array;
  /** Byte offset of the frame in `viewOf(frame)` / `bytesOf(frame)`. */
  baseOf(frame: number): number;
}

/** Frame number of the shared, never-written zero frame that untouched pages read from. */
export const ZERO_FRAME = 0;

/**
 * Frames in private buffers that double in size: 64 frames (256 KiB) first, then 64,
 * 128, ... up to 65,536 frames (256 MiB), then more of that size. A small space costs
 * little; a large one grows in few big steps. Chunk k < DOUBLING_CHUNKS holds frames
 * [64 << (k - 1), 64 << k) (chunk 0: [0, 64)).
 */
const FIRST_CHUNK_SHIFT = 6;
const DOUBLING_CHUNKS = 11;
const LARGEST_CHUNK_SHIFT = FIRST_CHUNK_SHIFT + DOUBLING_CHUNKS - 1;
/** Frames held by the doubling chunks: everything below this frame number. */
const DOUBLING_FRAMES = 1 << LARGEST_CHUNK_SHIFT;
/** Room of the free list at first; it doubles when full. */
const INITIAL_FREE_LIST_FRAMES = 64;

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

/** The default store: private pooled buffers, freed frames kept on a free list. */
export class ChunkedFrameStore implements FrameStore {
  private chunkViews: DataView[] = [];
  private chunkBytes: Uint8Array[] = [];
  private freeFrames = new Int32Array(INITIAL_FREE_LIST_FRAMES);
  private freeCount = 0;
  private nextUnused = 0;

  /** Creates the store with its zero frame, frame 0. */
  constructor() {
    if (this.allocate() !== ZERO_FRAME) throw new Error("frame store: zero frame must be frame 0");
  }

  /** A zeroed frame: the latest freed one, else the next unused one (adding a chunk when needed). */
  allocate(): number {
    if (this.freeCount > 0) return this.freeFrames[--this.freeCount];
    const frame = this.nextUnused++;
    if (chunkOf(frame) === this.chunkViews.length) this.addChunk();
    return frame;
  }

  /** Takes back a frame the caller has zeroed, for reuse. */
  free(frame: number): void {
    if (this.freeCount === this.freeFrames.length) {
      const grown = new Int32Array(this.freeFrames.length * 2);
      grown.set(this.freeFrames);
      this.freeFrames = grown;
    }
    this.freeFrames[this.freeCount++] = frame;
  }

  /** -1: chunks are not aligned to huge runs, so huge frames come only from a shared source. */
  allocateRun(_order: number): number {
    return -1;
  }

  /** Never called: `allocateRun` hands out no run. */
  freeRun(frame: number, order: number): void {
    throw new Error(`frame store: free of run ${frame} (order ${order}) that was never handed out`);
  }

  /** The DataView of the chunk holding the frame. */
  viewOf(frame: number): DataView {
    return this.chunkViews[chunkOf(frame)];
  }

  /** The bytes of the chunk holding the frame. */
  bytesOf(frame: number): Uint8Array {
    return this.chunkBytes[chunkOf(frame)];
  }

  /** Byte offset of the frame in its chunk. */
  baseOf(frame: number): number {
    return (frame - chunkFirstFrame(chunkOf(frame))) << PAGE_SHIFT;
  }

  private addChunk(): void {
    const buffer = new ArrayBuffer(chunkFrameCount(this.chunkViews.length) * PAGE_SIZE_BYTES);
    this.chunkViews.push(new DataView(buffer));
    this.chunkBytes.push(new Uint8Array(buffer));
  }
}

/**
 * Frames from a shared source that holds their bytes (a FrameAllocator), so several address
 * spaces (in several workers) draw on one pool and a freed page goes back to it. Store frame
 * k, from 1 up, is source frame k - 1; the zero frame stays private (untouched pages cost no frame).
 */
export class AllocatorFrameStore implements FrameStore {
  private readonly zeroView = new DataView(new ArrayBuffer(PAGE_SIZE_BYTES));
  private readonly zeroBytes = new Uint8Array(this.zeroView.buffer);
  private readonly view: DataView;
  private readonly bytes: Uint8Array;

  /**
   * Takes frames from `allocator`; throws an Error if it holds no frame bytes (a FrameAllocator created
   * without `backed: true`).
   */
  constructor(
    /** The shared source the frames come from. */
    readonly allocator: FrameSource,
  ) {
    if (allocator.frameView === null || allocator.frameBytes === null) {
      throw new Error("an address space's frame allocator must hold its frames' bytes (create it with backed: true)");
    }
    this.view = allocator.frameView;
    this.bytes = allocator.frameBytes;
  }

  /** A zeroed frame from the shared source; throws when the source has no free frame. */
  allocate(): number {
    // Frames come back zeroed (the pool zeroes on release), and start zeroed in a new buffer.
    return this.allocator.getOrThrow(0) + 1;
  }

  /** Returns a zeroed frame to the shared source. */
  free(frame: number): void {
    this.allocator.put(frame - 1, 0);
  }

  /** A run of 2^order frames from the shared source (contiguous bytes in its one buffer), or -1 when none is free. */
  allocateRun(order: number): number {
    const frame = this.allocator.get(order);
    return frame < 0 ? -1 : frame + 1;
  }

  /** Returns a zeroed run to the shared source. */
  freeRun(frame: number, order: number): void {
    this.allocator.put(frame - 1, order);
  }

  /** The private zero page for the zero frame, else the source's view of all its frames. */
  viewOf(frame: number): DataView {
    return frame === ZERO_FRAME ? this.zeroView : this.view;
  }

  /** The private zero page for the zero frame, else the source's bytes of all its frames. */
  bytesOf(frame: number): Uint8Array {
    return frame === ZERO_FRAME ? this.zeroBytes : this.bytes;
  }

  /** Byte offset of the frame in `viewOf(frame)` and `bytesOf(frame)`: 0 for the zero frame. */
  baseOf(frame: number): number {
    return frame === ZERO_FRAME ? 0 : (frame - 1) * PAGE_SIZE_BYTES;
  }
}
