/**
 * The Heap: the allocator's public face and its fast paths. The fast paths (a small block
 * from this worker's free-block cache, and its free back) stay in this class, on the
 * fields of its core, so that TurboFan inlines them whole; everything colder lives in the
 * core's layers (heap-core.ts and below) and in heap-stats.ts, heap-check.ts and
 * debug-guard.ts.
 */
import { DEBUG_CHECKS } from "../../util/debug.js";
import { HEAP_PAGE_BYTES, isHeapBacking, memoryOfBacking, type BlockMemory, type HeapBacking } from "./block-memory.js";
import { checkGuard, guard, GUARD_BYTES, poison } from "./debug-guard.js";
import { checkLocked, validate } from "./heap-check.js";
import { HeapCore } from "./heap-core.js";
import { HeapError } from "./heap-error.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, KindWord, SpanBits, Stat, WorkerWord } from "./heap-layout.js";
import { DEFAULT_WASM_MAX_BYTES, type HeapOptions } from "./heap-options.js";
import { footprintOf, statsLocked, walkLocked, type HeapStats } from "./heap-stats.js";
import { pagesFor } from "./page-runs.js";
import { CLASS_COUNT, CLASS_SIZES, classOf, MEDIUM_LIMIT_BYTES, SizeLimit } from "./size-classes.js";

// The error and the option and statistics types, where the Heap's users have always found them.
export { HeapError } from "./heap-error.js";
export type { HeapOptions } from "./heap-options.js";
export type { HeapStats } from "./heap-stats.js";

/** A typed-array class (Float64Array, Int32Array, ...): what mallocAs makes a view with. */
export type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * A tiered heap inside memory JavaScript manages itself (ArrayBuffer, SharedArrayBuffer,
 * WebAssembly.Memory, or any BlockMemory). Every piece of allocator state lives in that
 * memory (heap-layout.ts); addresses are byte offsets into it (0 is null).
 *
 * - Small and medium blocks (up to 256 KiB): 104 size classes; each class carves spans (one
 *   or more 16 KiB pages) into blocks: an intrusive free list first, then bump allocation.
 *   No block header: the page descriptor names the class, so free is O(1). A small block a
 *   worker frees first goes to the worker's free-block cache for its class
 *   (WorkerWord.CacheHeads), which its next malloc of the class takes from: most ops touch
 *   no span at all.
 * - Large blocks: runs of 16 KiB pages from free runs kept in power-of-two bins and merged
 *   with their neighbours on free. A freed large run goes to a region cache (kept whole for
 *   reuse by a request of about its size); eviction (by slot count, bytes or age) returns it
 *   to the free runs and counts it decommitted: its pages are zeroed lazily, only if a
 *   calloc gets them (the MADV_FREE analogue).
 * - An allocation bitmap (a bit per 8-byte granule, set at each live block's start) makes
 *   a double free, a foreign or an interior pointer an error that changes nothing.
 *
 * Workers (as in mimalloc): each Heap object is a worker with its own spans, which only it
 * allocates from and frees into, without locks. A block freed by another worker has its
 * bitmap bit cleared atomically (so a racing double free still fails) and is pushed onto
 * the owner's inbox, an atomic list the owner drains when a class runs out of room. Page
 * runs, large blocks, the region cache and the spans of detached workers are shared: a
 * futex mutex in the header guards them (taken only for page-level work, never for a small
 * block's malloc or free). On an ArrayBuffer heap there is one worker and no atomics.
 */
export class Heap {
  private readonly core: HeapCore;
  /** This worker's slot (0 on an ArrayBuffer heap). */
  readonly workerId: number;

  /** A heap in `backing` (formatted unless it holds one already), attached as a worker. */
  constructor(backing: HeapBacking | BlockMemory, options: HeapOptions = {}) {
    const memory = isHeapBacking(backing) ? memoryOfBacking(backing, options.maxBytes ?? DEFAULT_WASM_MAX_BYTES) : backing;
    this.core = new HeapCore(memory, options);
    this.workerId = this.core.workerId;
  }

  // The fast paths: a small block from this worker's free-block cache (else its head span for
  // the class), and its free back into the cache (else into its span).

  /** A block of at least `sizeBytes` (8-byte aligned); 0 when the heap is full. */
  malloc(sizeBytes: number): number {
    const core = this.core;
    // `| 0` on the out-of-line results (addresses are 31-bit): the merged result is then an
    // int32 rather than a tagged value the fast path's address is boxed into and checked.
    if (sizeBytes <= core.fastSizeLimit && sizeBytes > 0 && (sizeBytes | 0) === sizeBytes) {
      if (sizeBytes > SizeLimit.SmallBytes) return this.mallocFromSpan(classOf(sizeBytes)) | 0;
      const sizeClass = core.smallClassOf[(sizeBytes + (Geometry.GranuleBytes - 1)) >>> Geometry.GranuleShift];
      const words = core.words;
      // `| 0`: word indices are small integers; it spares TurboFan an overflow check per add.
      const headWord = (core.cacheHeadsWord + sizeClass) | 0;
      const address = words[headWord];
      if (address === Geometry.Null) return this.mallocFromSpan(sizeClass) | 0;
      words[headWord] = core.link(address);
      words[(headWord + (WorkerWord.CacheRoom - WorkerWord.CacheHeads)) | 0]++;
      core.markLive(address, address >>> Geometry.PageShift);
      return address;
    }
    return this.mallocSlowly(sizeBytes) | 0;
  }

  /** Frees the block at `address` (0 is ignored); a HeapError, changing nothing, if it is not a live block of this heap. */
  free(address: number): void {
    const core = this.core;
    // Bits are set only at the starts of live blocks, so an 8-aligned integer address in a
    // span of this worker whose bit is set is one of its live blocks: interior pointers,
    // double frees and foreign pointers all fail one of these tests (and take the checked
    // path, which names the error).
    if ((address >>> 0) === address && (address & (Geometry.GranuleBytes - 1)) === 0 && address < core.fastAddressEnd && address !== 0) {
      const words = core.words;
      const page = address >>> Geometry.PageShift;
      const base = (core.descriptorsWord + (page << Geometry.DescriptorShift)) | 0;
      const kindWord = words[base + DescriptorWord.Kind];
      if ((kindWord & KindWord.KindOwnerMask) === core.ownSpanTag && core.clearLive(address)) {
        const headWord = (core.cacheHeadsWord + ((kindWord >>> SpanBits.ClassShift) & SpanBits.ClassMask)) | 0;
        const roomWord = (headWord + (WorkerWord.CacheRoom - WorkerWord.CacheHeads)) | 0;
        const room = words[roomWord];
        if (room === 0) return this.freeToSpan(address, page, base, kindWord);
        words[roomWord] = room - 1;
        core.setLink(address, words[headWord]);
        words[headWord] = address;
        return;
      }
    }
    this.freeSlowly(address);
  }

  /** Malloc's next try, past the free-block cache: the head span of this worker's list for the class. */
  private mallocFromSpan(sizeClass: number): number {
    const core = this.core;
    const span = core.words[core.workerWord + WorkerWord.ClassHeads + sizeClass];
    if (span === 0) return core.allocateSmall(sizeClass, false);
    if (!core.hasRoom(span)) return this.mallocFromNextSpan(sizeClass, span);
    return core.carve(span, false);
  }

  /** Free's next step when the cache of the block's class is full (or the class is not cached): into its span. */
  private freeToSpan(address: number, page: number, base: number, kindWord: number): void {
    const core = this.core;
    const words = core.words;
    core.setLink(address, words[base + DescriptorWord.Free]);
    words[base + DescriptorWord.Free] = address;
    if (--words[base + DescriptorWord.Used] === 0 || (kindWord & SpanBits.Linked) === 0) core.settleOwnSpan(page, base);
  }

  /**
   * The head span is full: out of its list (until a block comes back), then the usual search
   * (the next span with room, blocks other workers freed, an adopted or new span). Without
   * the free-block cache a third of larson's mallocs land here; with it, about 1%.
   */
  private mallocFromNextSpan(sizeClass: number, full: number): number {
    const core = this.core;
    core.unlinkSpan(full, core.workerWord + WorkerWord.ClassHeads + sizeClass);
    return core.allocateSmall(sizeClass, false);
  }

  // The checked paths.

  private mallocSlowly(sizeBytes: number): number {
    this.core.assertAttached("malloc");
    checkSize(sizeBytes, "malloc");
    if (this.core.debug) return guard(this.core, this.allocate(sizeBytes + GUARD_BYTES, false), sizeBytes);
    return this.allocate(sizeBytes, false);
  }

  private freeSlowly(address: number): void {
    if (address === Geometry.Null) return;
    const core = this.core;
    core.assertAttached("free");
    const page = validate(core, address, "free");
    if (core.kindOf(page) !== Kind.Span) {
      core.lock();
      try {
        const head = validate(core, address, "free");
        if (core.debug) poison(core, address, head);
        core.freeLarge(head);
      } finally {
        core.unlock();
      }
      return;
    }
    if (core.debug) poison(core, address, page);
    if (!core.clearLive(address)) throw new HeapError(`free(${core.hex(address)}): not allocated (a double free, racing with another)`);
    const owner = core.ownerOf(page);
    if (owner === core.workerId) core.returnBlock(address, page);
    else core.pushRemote(address, owner);
  }

  /** `malloc` that throws, naming the request, when the heap is full. */
  mallocOrThrow(sizeBytes: number): number {
    const address = this.malloc(sizeBytes);
    if (address === Geometry.Null) throw new HeapError(`out of memory: malloc(${sizeBytes}) with ${this.stats().liveBytes} bytes live in a ${this.core.memory.bytes.length}-byte heap`);
    return address;
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  calloc(count: number, sizeBytes: number): number {
    const core = this.core;
    core.assertAttached("calloc");
    checkSize(count, "calloc count");
    checkSize(sizeBytes, "calloc");
    const total = count * sizeBytes;
    const maxBytes = core.memory.maxByteLength;
    if (!Number.isSafeInteger(total) || total > maxBytes) throw new HeapError(`calloc(${count}, ${sizeBytes}): ${count} x ${sizeBytes} bytes overflows this heap (at most ${maxBytes} bytes)`);
    if (core.debug) return guard(core, this.allocate(total + GUARD_BYTES, true), total);
    return this.allocate(total, true);
  }

  /** A block of at least `sizeBytes` whose address is a multiple of `alignment` (a power of two). */
  alignedAlloc(alignment: number, sizeBytes: number): number {
    const core = this.core;
    core.assertAttached("alignedAlloc");
    checkSize(sizeBytes, "alignedAlloc");
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > core.memory.maxByteLength) {
      throw new HeapError(`alignedAlloc: alignment ${alignment} is not a power of two (up to the heap size)`);
    }
    if (core.debug) return guard(core, this.allocateAligned(alignment, sizeBytes + GUARD_BYTES), sizeBytes);
    return this.allocateAligned(alignment, sizeBytes);
  }

  /** A typed array of `length` elements in a fresh block (free it with `free(array.byteOffset)`). */
  mallocAs<T>(type: TypedArrayConstructor<T>, length: number): T | null {
    const address = this.alignedAlloc(Math.max(Geometry.GranuleBytes, type.BYTES_PER_ELEMENT), length * type.BYTES_PER_ELEMENT);
    return address === Geometry.Null ? null : new type(this.core.bytes.buffer, address, length);
  }

  /** Resizes, in place when it can (same class, or a large block with free pages after it). */
  realloc(address: number, sizeBytes: number): number {
    const core = this.core;
    core.assertAttached("realloc");
    checkSize(sizeBytes, "realloc");
    if (address === Geometry.Null) return this.malloc(sizeBytes);
    if (core.debug) {
      const requested = checkGuard(core, address, validate(core, address, "realloc"), "realloc");
      const fresh = sizeBytes === 0 ? Geometry.Null : this.malloc(sizeBytes);
      if (fresh === Geometry.Null && sizeBytes > 0) return Geometry.Null;
      if (fresh !== Geometry.Null) core.memory.copy(fresh, address, Math.min(requested, sizeBytes));
      this.free(address);
      return fresh;
    }
    const page = validate(core, address, "realloc");
    if (sizeBytes === 0) {
      this.free(address);
      return Geometry.Null;
    }
    const usable = core.rawUsable(page);
    if (core.kindOf(page) === Kind.Span) {
      if (sizeBytes <= usable && sizeBytes > usable / 2) return address; // same class, or shrinking a little: keep the block
    } else if (sizeBytes > MEDIUM_LIMIT_BYTES) {
      core.lock();
      try {
        if (core.resizeLarge(validate(core, address, "realloc"), pagesFor(sizeBytes))) return address;
      } finally {
        core.unlock();
      }
    }
    const fresh = this.malloc(sizeBytes);
    if (fresh === Geometry.Null) return Geometry.Null;
    core.memory.copy(fresh, address, Math.min(usable, sizeBytes));
    this.free(address);
    return fresh;
  }

  /** Bytes the block at `address` can hold (its class size, or its pages; in debug mode, the size asked for). */
  usableSize(address: number): number {
    const page = validate(this.core, address, "usableSize");
    if (this.core.debug) return checkGuard(this.core, address, page, "usableSize");
    return this.core.rawUsable(page);
  }

  /**
   * Gives back what this worker holds: empties its free-block cache into the spans, collects
   * blocks freed to it, returns its empty spans to the free pages, empties the region cache,
   * and handles the inboxes nobody drains.
   */
  trim(): void {
    const core = this.core;
    core.assertAttached("trim");
    core.flushCache();
    if (core.shared) core.drainOwnInbox();
    core.lock();
    try {
      core.reclaimLocked();
      // Postcondition; with other workers at work their spans move under the check.
      if (DEBUG_CHECKS && !core.shared) checkLocked(core);
    } finally {
      core.unlock();
    }
  }

  /**
   * Leaves a SharedArrayBuffer heap: this worker's spans pass to the heap (another worker
   * adopts them when it needs a span of their class; their blocks stay valid and can be
   * freed by anyone), and its slot is free for the next worker. This object is unusable
   * afterwards. A worker that ends without detaching keeps its slot and its spans.
   */
  detach(): void {
    const core = this.core;
    if (!core.attached) return;
    if (core.shared) {
      core.flushCache();
      core.drainOwnInbox();
      core.lock();
      try {
        core.abandonSpans();
        Atomics.store(core.words, core.workerWord + WorkerWord.Claimed, 0);
      } finally {
        core.unlock();
      }
    }
    core.attached = false;
    core.views();
  }

  // Introspection.

  /** Statistics; exact when no other worker is working on the heap at the same time. */
  stats(): HeapStats {
    this.core.lock();
    try {
      return statsLocked(this.core);
    } finally {
      this.core.unlock();
    }
  }

  /** Footprint now, in O(1) (stats() also counts blocks). */
  footprintBytes(): number {
    return footprintOf(this.core, this.core.floats[HeaderWord.Stats + Stat.UsedPages]);
  }

  /** Visits every live block: its address and usable size. */
  walk(visit: (address: number, usableBytes: number) => void): void {
    this.core.lock();
    try {
      walkLocked(this.core, visit);
    } finally {
      this.core.unlock();
    }
  }

  /**
   * Verifies every invariant (pages tile the heap in runs, free runs in the right bins, span
   * lists, owners, counts and free lists agree with the allocation bitmap and the inboxes,
   * statistics add up); throws naming the first violation. Call it when no other worker is
   * working on the heap.
   */
  check(): void {
    this.core.lock();
    try {
      checkLocked(this.core);
    } finally {
      this.core.unlock();
    }
  }

  // Blocks of any size, past the fast paths.

  private allocate(sizeBytes: number, zero: boolean): number {
    const core = this.core;
    if (sizeBytes <= MEDIUM_LIMIT_BYTES) return core.allocateSmall(classOf(Math.max(sizeBytes, 1)), zero);
    core.lock();
    try {
      return core.allocateLarge(pagesFor(sizeBytes), zero);
    } finally {
      core.unlock();
    }
  }

  private allocateAligned(alignment: number, sizeBytes: number): number {
    const core = this.core;
    if (alignment <= Geometry.GranuleBytes) return this.allocate(sizeBytes, false);
    // A class whose size is a multiple of the alignment: spans start on page boundaries.
    if (alignment <= HEAP_PAGE_BYTES && sizeBytes <= MEDIUM_LIMIT_BYTES) {
      for (let sizeClass = classOf(Math.max(sizeBytes, alignment)); sizeClass < CLASS_COUNT; sizeClass++) {
        if (CLASS_SIZES[sizeClass] % alignment === 0) return core.allocateSmall(sizeClass, false);
      }
    }
    const pages = pagesFor(Math.max(sizeBytes, 1));
    core.lock();
    try {
      const first = core.takeRun(pages, Math.max(1, alignment / HEAP_PAGE_BYTES));
      return first === 0 ? Geometry.Null : core.startLarge(first, pages, false);
    } finally {
      core.unlock();
    }
  }
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new HeapError(`${what}: size ${value} is not a non-negative integer`);
}
