/**
 * What every page-frame allocator offers (LLFree and the baselines beside it), so
 * benchmarks and tests drive them alike. Frames are numbered from 0; a run of 2^order
 * frames starts at a multiple of 2^order.
 */
export interface PageFrameAllocator {
  readonly frameCount: number;
  /** The shared buffer other workers attach to. */
  readonly buffer: SharedArrayBuffer;
  /** First frame of 2^order free contiguous frames, now allocated; -1 if there is none. */
  get(order?: number): number;
  /** Frees a run that `get(order)` returned; throws (changing nothing) on misuse. */
  put(frame: number, order?: number): void;
  freeFrames(): number;
  allocatedFrames(): number;
}

export class FrameAllocatorError extends Error {
  override name = "FrameAllocatorError";
}
