import type { BackendKind, MemoryBackend } from "./backend.js";
import { FramePool } from "./frame-pool.js";
import type { FrameSource } from "./frame-source.js";
import { AllocatorFrameStore } from "./frame-store.js";
import { MapBackend } from "./map-backend.js";
import { NoopBackend } from "./noop-backend.js";
import { PagedBackend } from "./paged-backend.js";

/** Options of `createBackend`. */
export interface BackendOptions {
  /** Paged backend: take page frames from this shared source (a FrameAllocator created with backed: true). */
  frames?: FrameSource;
}

/**
 * A new, empty backend of the given kind; throws an Error if `options.frames` is given for a backend other
 * than "paged".
 */
export function createBackend(kind: BackendKind, options: BackendOptions = {}): MemoryBackend {
  if (options.frames !== undefined && kind !== "paged") throw new Error(`the ${kind} backend does not take page frames from a frame allocator`);
  switch (kind) {
    case "noop":
      return new NoopBackend();
    case "map":
      return new MapBackend();
    case "paged":
      return new PagedBackend(options.frames === undefined ? new FramePool() : new FramePool(new AllocatorFrameStore(options.frames)));
  }
}
