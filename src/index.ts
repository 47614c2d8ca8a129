/**
 * The public API, named item by item: no `export *`, so internals (test coordination, slow
 * paths, chunk sizes) stay private and no `const enum` reaches a consumer, whose
 * isolatedModules build could not inline it.
 */

// Addresses and memory.
export {
  PAGE_SHIFT,
  PAGE_SIZE_BYTES,
  MAX_ADDRESS,
  AddressError,
  formatAddress,
  formatBigAddress,
  toBigAddress,
  lowHalf,
  highHalf,
  type Address,
} from "./space/address.js";
export { BACKEND_KINDS, isBackendKind, type BackendKind, type BackendCounters, type MemoryAccess, type MemoryBackend } from "./space/backend.js";
export { createBackend, type BackendOptions } from "./space/create-backend.js";
export { NoopBackend } from "./space/noop-backend.js";
export { MapBackend } from "./space/map-backend.js";
export { PagedBackend } from "./space/paged-backend.js";
export { FramePool } from "./space/frame-pool.js";
export { ChunkedFrameStore, AllocatorFrameStore, type FrameStore } from "./space/frame-store.js";
export type { FrameSource } from "./space/frame-source.js";
export { AddressSpace, type AddressSpaceOptions, type AddressSpaceStats } from "./space/address-space.js";
export {
  PROT_NONE,
  PROT_READ,
  PROT_WRITE,
  PROT_EXEC,
  PROT_RW,
  PROT_ALL,
  parseProtection,
  formatProtection,
  MemoryFault,
  type Protection,
  type AccessKind,
} from "./space/protection.js";
export type { RegionInfo } from "./space/region-map.js";
export { TeeAccess } from "./space/tee-access.js";

// Traces.
export { OP_WRITE, OP_READ, RECORD_HEADER_BYTES, MAX_RECORD_BYTES, isValidWidth, TraceFormatError } from "./trace/format.js";
export { streamTrace, type ChunkConsumer, type StreamOptions } from "./trace/reader.js";
export { TraceWriter } from "./trace/writer.js";
export { TraceRecorder } from "./trace/recorder.js";
export { replayFile, replayChunk, ReplayTally, type ReplayResult } from "./trace/replay.js";
export { TraceStats, REUSE_BUCKETS, type TraceStatsReport } from "./trace/stats.js";
export { generateTrace, TRACE_SHAPES, type TraceShape, type GenerateOptions } from "./trace/generators.js";
export { importLackey, LackeyFormatError, type LackeyImportResult } from "./trace/lackey.js";

// Guests.
export { runGuest, type RunGuestOptions, type RunGuestResult } from "./guest/run-guest.js";
export { Hart, GuestError, type SyscallHandler } from "./guest/hart.js";
export { GuestLoadError, parseElf, type ElfImage, type LoadSegment } from "./guest/elf.js";
export { loadProgram, type LoadedProgram } from "./guest/loader.js";
export { LinuxSyscalls, type GuestIo } from "./guest/syscalls.js";
export { Assembler, buildElf, type ElfOverrides } from "./guest/assembler.js";
export { buildFibGuest } from "./guest/fib-guest.js";

// Allocators.
export { FrameAllocator, type FrameAllocatorOptions, type AttachOptions } from "./alloc/frames/frame-allocator.js";
export { FrameAllocatorError, type PageFrameAllocator } from "./alloc/frames/page-frame-allocator.js";
export { BitmapScanAllocator } from "./alloc/frames/bitmap-scan.js";
export { LockedBuddyAllocator } from "./alloc/frames/locked-buddy.js";
export { FRAME_ALLOCATOR_KINDS, createFrameAllocator, attachFrameAllocator, type FrameAllocatorKind } from "./alloc/frames/allocator-kinds.js";
export { Heap, HeapError, type HeapOptions, type HeapStats } from "./alloc/heap/heap.js";
export type { HeapBacking } from "./alloc/heap/heap-store.js";
export { SpaceHeap } from "./alloc/heap/space-heap.js";
export { MAX_HEAP_WORKERS } from "./alloc/heap/heap-layout.js";
export { CLASS_SIZES, classOf } from "./alloc/heap/size-classes.js";

// Persistence.
export { FileMedium, SimulatedMedium, type PersistMedium, type Durability } from "./durable/medium.js";
export { runCrashTest, CRASH_TEST_KINDS, type CrashTestKind, type CrashTestOptions, type CrashTestReport } from "./crash/crash-test.js";
