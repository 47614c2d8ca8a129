import { BitmapScanAllocator } from "./bitmap-scan.js";
import { FrameAllocator } from "./frame-allocator.js";
import { LockedBuddyAllocator } from "./locked-buddy.js";
import type { PageFrameAllocator } from "./page-frame-allocator.js";

/** LLFree and the baselines beside it, by name, for benchmarks and tests. */
export const FRAME_ALLOCATOR_KINDS = ["llfree", "bitmap-scan", "locked-buddy"] as const;
/** One of FRAME_ALLOCATOR_KINDS. */
export type FrameAllocatorKind = (typeof FRAME_ALLOCATOR_KINDS)[number];

/** A new allocator of `kind` over `frameCount` frames, and worker 0's handle on it. */
export function createFrameAllocator(kind: FrameAllocatorKind, frameCount: number): PageFrameAllocator {
  switch (kind) {
    case "llfree":
      return FrameAllocator.create({ frames: frameCount }, { worker: 0 });
    case "bitmap-scan":
      return BitmapScanAllocator.create(frameCount);
    case "locked-buddy":
      return LockedBuddyAllocator.create(frameCount);
  }
}

/** Worker `worker` of `workers`'s handle on an allocator another thread created. */
export function attachFrameAllocator(kind: FrameAllocatorKind, buffer: SharedArrayBuffer, worker: number, workers: number): PageFrameAllocator {
  switch (kind) {
    case "llfree":
      return FrameAllocator.attach(buffer, { worker, workers });
    case "bitmap-scan":
      return BitmapScanAllocator.attach(buffer, worker, workers);
    case "locked-buddy":
      return LockedBuddyAllocator.attach(buffer);
  }
}
