/** What a Heap can be configured with, and each default, named once with its unit. */

/** A WebAssembly.Memory heap grows to at most this many bytes unless HeapOptions.maxBytes says otherwise. */
export const DEFAULT_WASM_MAX_BYTES = 1 << 30;
/** Freed large blocks the region cache keeps at most, by default. */
export const DEFAULT_CACHE_SLOTS = 16;
/** Bytes the region cache keeps at most, by default. */
export const DEFAULT_CACHE_BYTES = 64 << 20;
/** Large-block operations a cached region waits for reuse before it is decommitted, by default. */
export const DEFAULT_CACHE_AGE_OPS = 100_000;
/** How the region cache chooses its limits, by default (HeapOptions.cachePolicy). */
export const DEFAULT_CACHE_POLICY: CachePolicy = "adaptive";

/**
 * The region cache's policy: "fixed" keeps cacheSlots and cacheAgeOps as given; "adaptive"
 * (region-cache.ts) treats them as the most slots and the middle age, and moves the limits
 * within them from what the last large-block operations did.
 */
export type CachePolicy = "fixed" | "adaptive";

/** Options of a Heap; the ones fixed when the heap is created are ignored by a worker attaching to it. */
export interface HeapOptions {
  /**
   * Debug mode (chosen when the heap is created): a canary after every block catches
   * buffer overruns at free, and freed memory is poisoned with 0xDD.
   */
  debug?: boolean;
  /**
   * The free-block cache (default on; chosen when the heap is created): a freed small block
   * waits in its worker's cache for the class and the next malloc of the class takes it back
   * without touching spans (about twice the speed on larson). Off, every free goes back to
   * its span, and mallocs fill the most recently freed-into span first, which lets the others
   * drain and go back to the pages: a smaller footprint under random churn, as exact slot
   * reuse keeps every span's occupancy as it was (figures in docs/design/heap.md).
   */
  blockCache?: boolean;
  /**
   * WebAssembly.Memory: the most bytes the heap may grow the memory to (default 1 GiB; at
   * most 2 GiB, as for any heap), when the heap's region is the memory's tail (no `end`).
   * The heap's metadata is sized for this limit (about 1/50 of it), so keep it near the use.
   */
  maxBytes?: number;
  /**
   * The byte offset in the backing where the heap's region starts (default 0): the heap
   * reads and writes only bytes from here to `end`, its header and metadata included, so
   * the bytes below (a WebAssembly module's data and stack) are never touched. A multiple
   * of 4 KiB (the heap's page). Block addresses stay byte offsets into the whole backing
   * (a wasm module can use them as pointers); an `alignedAlloc` alignment above 4 KiB
   * needs a start that is a multiple of it. Every worker attaching to a heap passes the
   * same region.
   */
  start?: number;
  /**
   * The byte offset where the heap's region ends (exclusive; a multiple of 4 KiB, within
   * the backing). Omitted: the backing's end, and for a WebAssembly.Memory the region is
   * its tail, which the heap grows the memory for (up to `maxBytes`). Given, the heap never
   * grows the memory: a full region makes malloc return 0.
   */
  end?: number;
  /** Region cache: freed large blocks it keeps at most (default 16, at most 64). */
  cacheSlots?: number;
  /** Region cache: bytes it keeps at most (default 64 MiB); a larger block is never cached. */
  cacheBytes?: number;
  /** Region cache: large-block operations a cached block waits for reuse before it is decommitted (default 100,000). */
  cacheAgeOps?: number;
  /** Region cache: "adaptive" (the default) or "fixed" limits (CachePolicy); fixed when the heap is created. */
  cachePolicy?: CachePolicy;
}
