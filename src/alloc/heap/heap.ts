/**
 * The Heap: the allocator's public face and its fast paths. The fast paths (a small block
 * from this worker's free-block cache, and its free back) stay in this class, which extends
 * the heap's core (heap-core.ts and the layers below it): they run on the state as fields
 * of their own receiver, with no object between, so TurboFan inlines them whole.
 * Everything colder lives in the layers and in heap-stats.ts, heap-check.ts and
 * debug-guard.ts.
 */
import { DEBUG_CHECKS } from "../../util/debug.js";
import { isHeapBacking, memoryOfBacking, type BlockMemory, type HeapBacking } from "./block-memory.js";
import { GUARD_BYTES } from "./debug-guard.js";
import { HeapCore } from "./heap-core.js";
import { HeapError } from "./heap-error.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, KindWord, SpanBits, Stat, WorkerWord } from "./heap-layout.js";
import type { HeapOptions } from "./heap-options.js";
import type { HeapStats } from "./heap-stats.js";
import { pagesFor } from "./page-runs.js";
import { CLASS_COUNT, CLASS_SIZES, classOf, SizeLimit } from "./size-classes.js";

// The error and the option and statistics types, where the Heap's users have always found them.
export { HeapError } from "./heap-error.js";
export type { CachePolicy, HeapOptions } from "./heap-options.js";
export type { HeapStats } from "./heap-stats.js";

/** A typed-array class (Float64Array, Int32Array, ...): what mallocAs makes a view with. */
export type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * A tiered heap inside memory JavaScript manages itself (ArrayBuffer, SharedArrayBuffer,
 * WebAssembly.Memory, or any BlockMemory), whole or a region `[start, end)` of it
 * (HeapOptions.start and end: above a WebAssembly module's data and stack, say). Every
 * piece of allocator state lives in that memory or region (heap-layout.ts); addresses are
 * byte offsets into the whole memory (0 is null).
 *
 * - Small and medium blocks (up to 256 KiB): 104 size classes; each class carves spans (one
 *   to four 4 KiB pages for small blocks, more for medium ones) into blocks: an intrusive free list first, then bump allocation.
 *   No block header: the page descriptor names the class, so free is O(1). A small block a
 *   worker frees first goes to the worker's free-block cache for its class
 *   (WorkerWord.CacheHeads), which its next malloc of the class takes from: most ops touch
 *   no span at all.
 * - Large blocks: runs of 4 KiB pages from free runs kept in power-of-two bins and merged
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
export class Heap extends HeapCore {
  /** This worker's slot (0 on an ArrayBuffer heap). */
  declare readonly workerId: number;

  /** A heap in `backing` (formatted unless it holds one already), attached as a worker. */
  constructor(backing: HeapBacking | BlockMemory, options: HeapOptions = {}) {
    const memory = isHeapBacking(backing) ? memoryOfBacking(backing, options) : backing;
    // Blocks outside the memory's views (an AddressSpace region): the Heap whose block links
    // go through the memory. The class, chosen once, keeps that test out of the fast paths.
    if (!memory.blocksInViews && new.target !== IndirectBlocksHeap) {
      if (new.target !== Heap) throw new HeapError("a subclass of Heap takes only a memory whose blocks are in its views (BlockMemory.blocksInViews)");
      return new IndirectBlocksHeap(memory, options);
    }
    super(memory, options);
  }

  // The fast paths: a small block from this worker's free-block cache (else its head span for
  // the class), and its free back into the cache (else into its span).

  /** A block of at least `sizeBytes` (8-byte aligned); 0 when the heap is full. */
  malloc(sizeBytes: number): number {
    // `| 0` on the out-of-line results (addresses are 31-bit): the merged result is then an
    // int32 rather than a tagged value the fast path's address is boxed into and checked.
    if (sizeBytes <= this.fastSizeLimit && sizeBytes > 0 && (sizeBytes | 0) === sizeBytes) {
      if (sizeBytes > SizeLimit.SmallBytes) return this.mallocFromSpan(classOf(sizeBytes)) | 0;
      const sizeClass = this.smallClassOf[(sizeBytes + (Geometry.GranuleBytes - 1)) >>> Geometry.GranuleShift];
      const words = this.words;
      // `| 0`: word indices are small integers; it spares TurboFan an overflow check per add.
      const headWord = (this.cacheHeadsWord + sizeClass) | 0;
      const address = words[headWord];
      if (address === Geometry.Null) return this.mallocFromSpan(sizeClass) | 0;
      words[headWord] = this.link(address);
      words[(headWord + (WorkerWord.CacheRoom - WorkerWord.CacheHeads)) | 0]++;
      this.markLive(address);
      return (address + this.startAddress) | 0;
    }
    return this.mallocSlowly(sizeBytes) | 0;
  }

  /** Frees the block at `address` (0 is ignored); a HeapError, changing nothing, if it is not a live block of this heap. */
  free(address: number): void {
    // Bits are set only at the starts of live blocks, so an 8-aligned integer address in a
    // span of this worker whose bit is set is one of its live blocks: interior pointers,
    // double frees and foreign pointers all fail one of these tests (and take the checked
    // path, which names the error). The region's start is a multiple of a page, so the
    // offset is 8-aligned when the address is.
    if ((address >>> 0) === address && (address & (Geometry.GranuleBytes - 1)) === 0) {
      const offset = address - this.startAddress;
      if (offset < this.fastAddressEnd && offset > 0) {
        const words = this.words;
        const page = offset >>> Geometry.PageShift;
        const base = (this.descriptorsWord + (page << Geometry.DescriptorShift)) | 0;
        const kindWord = words[base + DescriptorWord.Kind];
        if ((kindWord & KindWord.SpanOwnerMask) === this.ownSpanTag && this.clearLive(offset)) {
          const headWord = (this.cacheHeadsWord + ((kindWord >>> SpanBits.ClassShift) & SpanBits.ClassMask)) | 0;
          const roomWord = (headWord + (WorkerWord.CacheRoom - WorkerWord.CacheHeads)) | 0;
          const room = words[roomWord];
          if (room === 0) return this.freeToSpan(offset, base);
          words[roomWord] = room - 1;
          this.setLink(offset, words[headWord]);
          words[headWord] = offset;
          return;
        }
      }
    }
    this.freeSlowly(address);
  }

  /**
   * Malloc's next try, past the free-block cache: the head span of this worker's list for the
   * class. Like every path malloc returns from, it returns the caller's address (the region's
   * start added here, not in malloc, whose bytecode size decides whether TurboFan inlines it).
   */
  private mallocFromSpan(sizeClass: number): number {
    const span = this.words[this.workerWord + WorkerWord.ClassHeads + sizeClass];
    if (span === 0) return this.mallocFromNewSpan(sizeClass);
    if (!this.hasRoom(span)) return this.mallocFromNextSpan(sizeClass, span);
    return (this.carve(span, false) + this.startAddress) | 0;
  }

  /**
   * Free's next step when the cache of the block's class is full (or the class is not
   * cached): into its span, found through the page's SpanHead (no branch for a tail page:
   * a branch and a second function here cost malloc its place in callers' inlining budget).
   */
  private freeToSpan(address: number, pageBase: number): void {
    const words = this.words;
    const span = words[pageBase + DescriptorWord.SpanHead];
    const base = (this.descriptorsWord + (span << Geometry.DescriptorShift)) | 0;
    this.setLink(address, words[base + DescriptorWord.Free]);
    words[base + DescriptorWord.Free] = address;
    if (--words[base + DescriptorWord.Used] === 0 || (words[base + DescriptorWord.Kind] & SpanBits.Linked) === 0) this.settleOwnSpan(span, base);
  }

  /**
   * The head span is full: out of its list (until a block comes back), then the usual search
   * (the next span with room, blocks other workers freed, an adopted or new span). Without
   * the free-block cache a third of larson's mallocs land here; with it, about 1%.
   */
  private mallocFromNextSpan(sizeClass: number, full: number): number {
    this.unlinkSpan(full, this.workerWord + WorkerWord.ClassHeads + sizeClass);
    return this.mallocFromNewSpan(sizeClass);
  }

  /** The search for a span with room, out of line (it may find none: the null test stays out of malloc's inlined code). */
  private mallocFromNewSpan(sizeClass: number): number {
    return this.addressOf(this.allocateSmall(sizeClass, false));
  }

  // The checked paths.

  private mallocSlowly(sizeBytes: number): number {
    this.assertAttached("malloc");
    checkSize(sizeBytes, "malloc");
    if (this.debug) return this.addressOf(this.guard(this.allocate(sizeBytes + GUARD_BYTES, false), sizeBytes));
    return this.addressOf(this.allocate(sizeBytes, false));
  }

  private freeSlowly(address: number): void {
    if (address === Geometry.Null) return;
    this.assertAttached("free");
    const offset = this.offsetOf(address);
    const page = this.validate(offset, "free");
    if (this.kindOf(page) !== Kind.Span) {
      this.lock();
      try {
        const head = this.validate(offset, "free");
        if (this.debug) this.poison(offset, head);
        this.freeLarge(head);
      } finally {
        this.unlock();
      }
      return;
    }
    if (this.debug) this.poison(offset, page);
    if (!this.clearLive(offset)) throw new HeapError(`free(${this.hex(offset)}): not allocated (a double free, racing with another)`);
    const owner = this.ownerOf(page);
    if (owner === this.workerId) this.returnBlock(offset, page);
    else this.pushRemote(offset, owner);
  }

  /** `malloc` that throws, naming the request, when the heap is full. */
  mallocOrThrow(sizeBytes: number): number {
    const address = this.malloc(sizeBytes);
    if (address === Geometry.Null) throw new HeapError(`out of memory: malloc(${sizeBytes}) with ${this.stats().liveBytes} bytes live in a ${this.memory.bytes.length}-byte heap`);
    return address;
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  calloc(count: number, sizeBytes: number): number {
    this.assertAttached("calloc");
    checkSize(count, "calloc count");
    checkSize(sizeBytes, "calloc");
    const total = count * sizeBytes;
    const maxBytes = this.memory.maxByteLength;
    if (!Number.isSafeInteger(total) || total > maxBytes) throw new HeapError(`calloc(${count}, ${sizeBytes}): ${count} x ${sizeBytes} bytes overflows this heap (at most ${maxBytes} bytes)`);
    if (this.debug) return this.addressOf(this.guard(this.allocate(total + GUARD_BYTES, true), total));
    return this.addressOf(this.allocate(total, true));
  }

  /** A block of at least `sizeBytes` whose address is a multiple of `alignment` (a power of two). */
  alignedAlloc(alignment: number, sizeBytes: number): number {
    this.assertAttached("alignedAlloc");
    checkSize(sizeBytes, "alignedAlloc");
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > this.memory.maxByteLength) {
      throw new HeapError(`alignedAlloc: alignment ${alignment} is not a power of two (up to the heap size)`);
    }
    // The heap aligns its offsets: an address is as aligned only if the region's start is.
    if (this.startAddress % alignment !== 0) throw new HeapError(`alignedAlloc: alignment ${alignment}: this heap's region starts at ${this.hex(0)}, not a multiple of it`);
    if (this.debug) return this.addressOf(this.guard(this.allocateAligned(alignment, sizeBytes + GUARD_BYTES), sizeBytes));
    return this.addressOf(this.allocateAligned(alignment, sizeBytes));
  }

  /** A typed array of `length` elements in a fresh block (free it with `free(array.byteOffset)`). */
  mallocAs<T>(type: TypedArrayConstructor<T>, length: number): T | null {
    const address = this.alignedAlloc(Math.max(Geometry.GranuleBytes, type.BYTES_PER_ELEMENT), length * type.BYTES_PER_ELEMENT);
    return address === Geometry.Null ? null : new type(this.bytes.buffer, address, length);
  }

  /** Resizes, in place when it can (same class, or a large block with free pages after it). */
  realloc(address: number, sizeBytes: number): number {
    this.assertAttached("realloc");
    checkSize(sizeBytes, "realloc");
    if (address === Geometry.Null) return this.malloc(sizeBytes);
    const offset = this.offsetOf(address);
    if (this.debug) {
      const requested = this.checkGuard(offset, this.validate(offset, "realloc"), "realloc");
      const fresh = sizeBytes === 0 ? Geometry.Null : this.malloc(sizeBytes);
      if (fresh === Geometry.Null && sizeBytes > 0) return Geometry.Null;
      if (fresh !== Geometry.Null) this.memory.copy(this.offsetOf(fresh), offset, Math.min(requested, sizeBytes));
      this.free(address);
      return fresh;
    }
    const page = this.validate(offset, "realloc");
    if (sizeBytes === 0) {
      this.free(address);
      return Geometry.Null;
    }
    const usable = this.rawUsable(page);
    if (this.kindOf(page) === Kind.Span) {
      if (sizeBytes <= usable && sizeBytes > usable / 2) return address; // same class, or shrinking a little: keep the block
    } else if (sizeBytes > SizeLimit.MediumBytes) {
      this.lock();
      try {
        if (this.resizeLarge(this.validate(offset, "realloc"), pagesFor(sizeBytes))) return address;
      } finally {
        this.unlock();
      }
    }
    const fresh = this.malloc(sizeBytes);
    if (fresh === Geometry.Null) return Geometry.Null;
    this.memory.copy(this.offsetOf(fresh), offset, Math.min(usable, sizeBytes));
    this.free(address);
    return fresh;
  }

  /** Bytes the block at `address` can hold (its class size, or its pages; in debug mode, the size asked for). */
  usableSize(address: number): number {
    const offset = this.offsetOf(address);
    const page = this.validate(offset, "usableSize");
    if (this.debug) return this.checkGuard(offset, page, "usableSize");
    return this.rawUsable(page);
  }

  /**
   * Gives back what this worker holds: empties its free-block cache into the spans, collects
   * blocks freed to it, returns its empty spans to the free pages, empties the region cache,
   * and handles the inboxes nobody drains.
   */
  trim(): void {
    this.assertAttached("trim");
    this.flushCache();
    if (this.shared) this.drainOwnInbox();
    this.lock();
    try {
      this.reclaimLocked();
      // Postcondition; with other workers at work their spans move under the check.
      if (DEBUG_CHECKS && !this.shared) this.checkLocked();
    } finally {
      this.unlock();
    }
  }

  /**
   * Takes new views of a WebAssembly.Memory that code other than this heap grew (a module's
   * own `memory.grow`): growing a memory replaces its buffer, and the heap's views would be
   * of the old, detached one. Call it before the heap's next call: until then the fast paths
   * see no blocks (malloc may return 0) and the checked paths throw a HeapError saying so.
   * Only a region with an `end` may be grown under the heap; a tail region grows with the
   * heap alone (the bytes past it are the heap's to take).
   */
  refresh(): void {
    this.memory.refresh();
    this.views();
  }

  /**
   * Leaves a SharedArrayBuffer heap: this worker's spans pass to the heap (another worker
   * adopts them when it needs a span of their class; their blocks stay valid and can be
   * freed by anyone), and its slot is free for the next worker. This object is unusable
   * afterwards. A worker that ends without detaching keeps its slot and its spans.
   */
  detach(): void {
    if (!this.attached) return;
    if (this.shared) {
      this.flushCache();
      this.drainOwnInbox();
      this.lock();
      try {
        this.abandonSpans();
        Atomics.store(this.words, this.workerWord + WorkerWord.Claimed, 0);
      } finally {
        this.unlock();
      }
    }
    this.attached = false;
    this.views();
  }

  // Introspection.

  /** Statistics; exact when no other worker is working on the heap at the same time. */
  stats(): HeapStats {
    this.lock();
    try {
      return this.statsLocked();
    } finally {
      this.unlock();
    }
  }

  /** Footprint now, in O(1) (stats() also counts blocks). */
  footprintBytes(): number {
    return this.footprintOf(this.floats[HeaderWord.Stats + Stat.UsedPages]);
  }

  /** Visits every live block: its address and usable size. */
  walk(visit: (address: number, usableBytes: number) => void): void {
    const startAddress = this.startAddress;
    this.lock();
    try {
      this.walkLocked((offset, usableBytes) => visit(offset + startAddress, usableBytes));
    } finally {
      this.unlock();
    }
  }

  /**
   * Verifies every invariant (pages tile the heap in runs, free runs in the right bins, span
   * lists, owners, counts and free lists agree with the allocation bitmap and the inboxes,
   * statistics add up); throws naming the first violation. Call it when no other worker is
   * working on the heap.
   */
  check(): void {
    this.lock();
    try {
      this.checkLocked();
    } finally {
      this.unlock();
    }
  }

  // Addresses the callers see and the heap's offsets.

  /** The address of the heap's block `offset` (0 stays null). */
  private addressOf(offset: number): number {
    return offset === Geometry.Null ? Geometry.Null : (offset + this.startAddress) | 0;
  }

  /** The heap's offset of a caller's non-null `address` (a value that is no integer stays as given, for validate to name). */
  private offsetOf(address: number): number {
    return Number.isInteger(address) ? address - this.startAddress : address;
  }

  // Blocks of any size, past the fast paths.

  private allocate(sizeBytes: number, zero: boolean): number {
    if (sizeBytes <= SizeLimit.MediumBytes) return this.allocateSmall(classOf(Math.max(sizeBytes, 1)), zero);
    this.lock();
    try {
      return this.allocateLarge(pagesFor(sizeBytes), zero);
    } finally {
      this.unlock();
    }
  }

  private allocateAligned(alignment: number, sizeBytes: number): number {
    if (alignment <= Geometry.GranuleBytes) return this.allocate(sizeBytes, false);
    // A class whose size is a multiple of the alignment: spans start on page boundaries.
    if (alignment <= Geometry.PageBytes && sizeBytes <= SizeLimit.MediumBytes) {
      for (let sizeClass = classOf(Math.max(sizeBytes, alignment)); sizeClass < CLASS_COUNT; sizeClass++) {
        if (CLASS_SIZES[sizeClass] % alignment === 0) return this.allocateSmall(sizeClass, false);
      }
    }
    const pages = pagesFor(Math.max(sizeBytes, 1));
    this.lock();
    try {
      const first = this.takeRun(pages, Math.max(1, alignment / Geometry.PageBytes));
      return first === 0 ? Geometry.Null : this.startLarge(first, pages, false);
    } finally {
      this.unlock();
    }
  }
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new HeapError(`${what}: size ${value} is not a non-negative integer`);
}

/** A Heap over a memory whose blocks live outside its views: block links through the memory's calls. */
class IndirectBlocksHeap extends Heap {
  /** The word at `address` of a block, from the memory. */
  protected override link(address: number): number {
    return this.memory.load32(address);
  }

  /** Writes the word at `address` of a block, through the memory. */
  protected override setLink(address: number, value: number): void {
    this.memory.store32(address, value);
  }
}
