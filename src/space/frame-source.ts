/**
 * What the paged backend needs of a shared pool of 4 KiB page frames that holds their bytes
 * (a FrameAllocator created with `backed: true` is one). Space owns this interface so it
 * never imports an allocator: allocators sit above space and implement it.
 */
export interface FrameSource {
  /** Bytes of every frame, frame k at byte k * PAGE_SIZE_BYTES; null when the source holds none. */
  readonly frameBytes: Uint8Array | null;
  /** The same bytes as `frameBytes`, for multi-byte loads and stores. */
  readonly frameView: DataView | null;
  /** First frame of a free run of 2^order frames, now allocated, or -1 when none is free (huge frames fall back on it). */
  get(order?: number): number;
  /** First frame of a free run of 2^order frames, now allocated; throws when there is none. */
  getOrThrow(order?: number): number;
  /** Frees a run that `getOrThrow(order)` returned. Spaces zero a frame before they put it, so the frames they get are zeroed. */
  put(frame: number, order?: number): void;
}
