/**
 * What every page-frame allocator offers (LLFree and the baselines beside it), so
 * benchmarks and tests drive them alike. Frames are numbered from 0; a run of 2^order
 * frames starts at a multiple of 2^order.
 */
export interface PageFrameAllocator {
  /** Frames managed (4 KiB each). */
  readonly frameCount: number;
  /** The shared buffer other workers attach to. */
  readonly buffer: SharedArrayBuffer;
  /** First frame of 2^order free contiguous frames, now allocated; -1 if there is none. */
  get(order?: number): number;
  /** Frees a run that `get(order)` returned; throws (changing nothing) on misuse. */
  put(frame: number, order?: number): void;
  /** Frames free (exact while no worker is inside get or put). */
  freeFrames(): number;
  /** Frames allocated: frameCount less freeFrames(). */
  allocatedFrames(): number;
}

/** A page-frame allocator refused a call (misuse, a file that is no allocator) or found its state corrupt. */
export class FrameAllocatorError extends Error {
  /** The error's name, as stack traces show it. */
  override name = "FrameAllocatorError";
}
