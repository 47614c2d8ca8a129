/** Allocators: the tiered Heap and the page-frame allocators: `memspace/alloc`. */
export { FrameAllocator, type FrameAllocatorOptions, type AttachOptions } from "../alloc/frames/frame-allocator.js";
export { FrameAllocatorError, type PageFrameAllocator } from "../alloc/frames/page-frame-allocator.js";
export { BitmapScanAllocator } from "../alloc/frames/bitmap-scan.js";
export { LockedBuddyAllocator } from "../alloc/frames/locked-buddy.js";
export { FRAME_ALLOCATOR_KINDS, createFrameAllocator, attachFrameAllocator, type FrameAllocatorKind } from "../alloc/frames/allocator-kinds.js";
export { Heap, HeapError, type CachePolicy, type HeapOptions, type HeapStats, type TypedArrayConstructor } from "../alloc/heap/heap.js";
export type { FrameLayout } from "../alloc/frames/layout.js";
/** The hook interleaving tests use to pause a frame allocator between its atomic steps. */
export type { SyncHook } from "../alloc/frames/sync-hook.js";
export type { BlockMemory, HeapBacking } from "../alloc/heap/block-memory.js";
export { SpaceHeap } from "../alloc/heap/space-heap.js";
export { MAX_HEAP_WORKERS } from "../alloc/heap/heap-layout.js";
export { CLASS_SIZES, classOf } from "../alloc/heap/size-classes.js";
