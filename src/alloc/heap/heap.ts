import { cacheCapacity, CLASS_COUNT, CLASS_SIZES, classOf, MEDIUM_LIMIT_BYTES, SizeLimit, SMALL_CLASS_COUNT, SMALL_CLASS_OF } from "./size-classes.js";
import { HEAP_PAGE_BYTES, HeapStore, MAX_HEAP_BYTES, type HeapBacking } from "./heap-store.js";
import {
  BIN_COUNT,
  CACHE_SLOT_WORDS,
  D,
  DESCRIPTOR_WORDS,
  DIRTY,
  H,
  HEAP_LAYOUT_VERSION,
  HEAP_MAGIC,
  Kind,
  MAX_CACHE_SLOTS,
  MAX_HEAP_WORKERS,
  NO_OWNER,
  SpanBits,
  Geometry,
  Stat,
  W,
  WORKER_WORDS,
} from "./heap-layout.js";
import { lockMutex, unlockMutex } from "../futex-mutex.js";

/**
 * A tiered heap inside memory JavaScript manages itself (ArrayBuffer, SharedArrayBuffer,
 * WebAssembly.Memory). Every piece of allocator state lives in that memory (heap-layout.ts);
 * addresses are byte offsets into it (0 is null).
 *
 * - Small and medium blocks (up to 256 KiB): 104 size classes; each class carves spans (one
 *   or more 16 KiB pages) into blocks: an intrusive free list first, then bump allocation.
 *   No block header: the page descriptor names the class, so free is O(1). A small block a
 *   worker frees first goes to the worker's free-block cache for its class (W.CacheHeads),
 *   which its next malloc of the class takes from: most ops touch no span at all.
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
  /** WebAssembly.Memory: the most it may grow to (default 1 GiB; at most 2 GiB, as for any heap). */
  maxBytes?: number;
  /** Region cache limits: slots (default 16), bytes (default 64 MiB), age in large-block operations (default 100,000). */
  cacheSlots?: number;
  cacheBytes?: number;
  cacheAge?: number;
}

export interface HeapStats {
  /** Usable bytes of live blocks (class sizes, whole pages for large blocks). */
  liveBytes: number;
  liveBlocks: number;
  /** Pages in use (spans, large blocks, cached regions) and their share of the metadata. */
  footprintBytes: number;
  peakFootprintBytes: number;
  heapBytes: number;
  classes: Array<{ sizeBytes: number; liveBlocks: number; spans: number }>;
  regionCache: { hits: number; misses: number; evictions: number; cachedBytes: number };
  decommittedBytes: number;
  /** Blocks freed by other workers, waiting in their owners' inboxes. */
  pendingRemoteFrees: number;
  attachedWorkers: number;
}

export class HeapError extends Error {
  override name = "HeapError";
}

/** Debug mode: a 4-byte canary after the caller's bytes, and the size asked for in the block's last 4 bytes. */
const GUARD_BYTES = 8;
const CANARY = [0xc5, 0xa1, 0x7e, 0x5b];
const POISON = 0xdd;
/** Bound on walks of atomic lists (they never hold more blocks than the heap has granules). */
const MAX_LIST_STEPS = 1 << 28;

export type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

export class Heap {
  private readonly store: HeapStore;
  private words!: Int32Array;
  private bytes!: Uint8Array;
  private floats!: Float64Array;
  private readonly descriptorsWord: number;
  private readonly bitmapWord: number;
  private readonly cacheSlots: number;
  private readonly cacheBytes: number;
  private readonly cacheAge: number;
  private readonly debug: boolean;
  /** Shared memory: other workers may be attached (atomics on shared words, the mutex for page-level work). */
  private readonly shared: boolean;
  /** This worker's slot, and the first word of its record. */
  readonly workerId: number;
  private readonly workerWord: number;
  /** The first word of this worker's free-block cache heads (a field: the fast paths add one number, not two). */
  private readonly cacheHeadsWord: number;
  /** The low half of the kind word of this worker's spans (kind and owner): the free fast path's one test. */
  private readonly ownSpanTag: number;
  /**
   * The fast paths take requests up to this size and frees below this address; both are 0
   * in debug mode and after detach(), which sends every call down the checked path. Set
   * first at the end of the constructor and stored again only when they change, so they
   * stay const fields (see views()) that TurboFan folds into the fast paths.
   */
  private fastSizeLimit!: number;
  private fastAddressEnd!: number;
  private attached = true;
  private lockDepth = 0;
  /** The size-class table of small sizes, held here: a field load is cheaper than a module binding's. */
  private readonly smallClassOf = SMALL_CLASS_OF;

  constructor(backing: HeapBacking, options: HeapOptions = {}) {
    const buffer = backing instanceof WebAssembly.Memory ? backing.buffer : backing;
    const limit = backing instanceof WebAssembly.Memory ? (options.maxBytes ?? 0) : buffer.byteLength;
    if (limit > MAX_HEAP_BYTES) {
      const what = backing instanceof WebAssembly.Memory ? `maxBytes ${limit}` : `a buffer of ${limit} bytes`;
      throw new HeapError(`${what}: a heap spans at most 2 GiB (${MAX_HEAP_BYTES} bytes; its block addresses are 31-bit offsets)`);
    }
    this.shared = buffer instanceof SharedArrayBuffer;
    this.store = new HeapStore(backing, backing instanceof WebAssembly.Memory ? (options.maxBytes ?? 1 << 30) : undefined);
    this.arrayViews();
    this.cacheSlots = Math.min(MAX_CACHE_SLOTS, options.cacheSlots ?? 16);
    this.cacheBytes = options.cacheBytes ?? 64 << 20;
    this.cacheAge = options.cacheAge ?? 100_000;
    const existing = this.words.length > 0 && this.words[H.Magic] === HEAP_MAGIC;
    if (existing && this.words[H.Version] !== HEAP_LAYOUT_VERSION) throw new HeapError(`heap layout version ${this.words[H.Version]}, expected ${HEAP_LAYOUT_VERSION}`);
    this.descriptorsWord = existing ? this.words[H.DescriptorsWord] : H.DescriptorsStart;
    this.bitmapWord = existing ? this.words[H.BitmapWord] : H.DescriptorsStart + (this.store.maxByteLength >>> Geometry.PageShift) * DESCRIPTOR_WORDS;
    if (!existing) this.initialise(options.debug === true, options.blockCache !== false);
    this.debug = this.words[H.Debug] === 1;
    // An ArrayBuffer heap has one worker (slot 0): every handle on it is that worker.
    if (!this.shared) this.words[H.Workers + W.Claimed] = 1;
    this.workerId = this.shared ? this.claimWorker() : 0;
    this.workerWord = H.Workers + this.workerId * WORKER_WORDS;
    this.cacheHeadsWord = this.workerWord + W.CacheHeads;
    this.ownSpanTag = Kind.Span | ((this.workerId + 1) << 8);
    this.views();
  }

  // The fast paths: a small block from this worker's free-block cache (else its head span for
  // the class), and its free back into the cache (else into its span).

  /** A block of at least `sizeBytes` (8-byte aligned); 0 when the heap is full. */
  malloc(sizeBytes: number): number {
    // `| 0` on the out-of-line results (addresses are 31-bit): the merged result is then an
    // int32 rather than a tagged value the fast path's address is boxed into and checked.
    if (sizeBytes <= this.fastSizeLimit && sizeBytes > 0 && (sizeBytes | 0) === sizeBytes) {
      if (sizeBytes > SizeLimit.SmallBytes) return this.mallocFromSpan(classOf(sizeBytes)) | 0;
      const sizeClass = this.smallClassOf[(sizeBytes + 7) >>> 3];
      const words = this.words;
      // `| 0`: word indices are small integers; it spares TurboFan an overflow check per add.
      const headWord = (this.cacheHeadsWord + sizeClass) | 0;
      const address = words[headWord];
      if (address === Geometry.Null) return this.mallocFromSpan(sizeClass) | 0;
      words[headWord] = this.link(address);
      words[(headWord + (W.CacheRoom - W.CacheHeads)) | 0]++;
      this.markLive(address, address >>> Geometry.PageShift);
      return address;
    }
    return this.mallocSlowly(sizeBytes) | 0;
  }

  free(address: number): void {
    // Bits are set only at the starts of live blocks, so an 8-aligned integer address in a
    // span of this worker whose bit is set is one of its live blocks: interior pointers,
    // double frees and foreign pointers all fail one of these tests (and take the checked
    // path, which names the error).
    if ((address >>> 0) === address && (address & 7) === 0 && address < this.fastAddressEnd && address !== 0) {
      const words = this.words;
      const page = address >>> Geometry.PageShift;
      const base = (this.descriptorsWord + (page << Geometry.DescriptorShift)) | 0;
      const kindWord = words[base + D.Kind];
      if ((kindWord & 0xffff) === this.ownSpanTag && this.clearLive(address)) {
        const headWord = (this.cacheHeadsWord + ((kindWord >>> SpanBits.ClassShift) & SpanBits.ClassMask)) | 0;
        const roomWord = (headWord + (W.CacheRoom - W.CacheHeads)) | 0;
        const room = words[roomWord];
        if (room === 0) return this.freeToSpan(address, page, base, kindWord);
        words[roomWord] = room - 1;
        this.setLink(address, words[headWord]);
        words[headWord] = address;
        return;
      }
    }
    this.freeSlowly(address);
  }

  /** Malloc's next try, past the free-block cache: the head span of this worker's list for the class. */
  private mallocFromSpan(sizeClass: number): number {
    const span = this.words[this.workerWord + W.ClassHeads + sizeClass];
    if (span === 0) return this.allocateSmall(sizeClass, false);
    if (!this.hasRoom(span)) return this.mallocFromNextSpan(sizeClass, span);
    return this.carve(span, false);
  }

  /** Free's next step when the cache of the block's class is full (or the class is not cached): into its span. */
  private freeToSpan(address: number, page: number, base: number, kindWord: number): void {
    const words = this.words;
    this.setLink(address, words[base + D.Free]);
    words[base + D.Free] = address;
    if (--words[base + D.Used] === 0 || (kindWord & SpanBits.Linked) === 0) this.settleOwnSpan(page, base);
  }

  /**
   * The head span is full: out of its list (until a block comes back), then the usual search
   * (the next span with room, blocks other workers freed, an adopted or new span). Without
   * the free-block cache a third of larson's mallocs land here; with it, about 1%.
   */
  private mallocFromNextSpan(sizeClass: number, full: number): number {
    this.unlinkSpan(full, this.workerWord + W.ClassHeads + sizeClass);
    return this.allocateSmall(sizeClass, false);
  }

  // The checked paths.

  private mallocSlowly(sizeBytes: number): number {
    this.assertAttached("malloc");
    checkSize(sizeBytes, "malloc");
    if (this.debug) return this.guard(this.allocate(sizeBytes + GUARD_BYTES, false), sizeBytes);
    return this.allocate(sizeBytes, false);
  }

  private freeSlowly(address: number): void {
    if (address === Geometry.Null) return;
    this.assertAttached("free");
    const page = this.validate(address, "free");
    if (this.kindOf(page) !== Kind.Span) {
      this.lock();
      try {
        const head = this.validate(address, "free");
        if (this.debug) this.poison(address, head);
        this.freeLarge(head);
      } finally {
        this.unlock();
      }
      return;
    }
    if (this.debug) this.poison(address, page);
    if (!this.clearLive(address)) throw new HeapError(`free(${this.hex(address)}): not allocated (a double free, racing with another)`);
    const owner = this.ownerOf(page);
    if (owner === this.workerId) this.returnBlock(address, page);
    else this.pushRemote(address, owner);
  }

  /** `malloc` that throws, naming the request, when the heap is full. */
  mallocOrThrow(sizeBytes: number): number {
    const address = this.malloc(sizeBytes);
    if (address === Geometry.Null) throw new HeapError(`out of memory: malloc(${sizeBytes}) with ${this.stats().liveBytes} bytes live in a ${this.store.byteLength}-byte heap`);
    return address;
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  calloc(count: number, sizeBytes: number): number {
    this.assertAttached("calloc");
    checkSize(count, "calloc count");
    checkSize(sizeBytes, "calloc");
    const total = count * sizeBytes;
    if (!Number.isSafeInteger(total) || total > this.store.maxByteLength) throw new HeapError(`calloc(${count}, ${sizeBytes}): ${count} x ${sizeBytes} bytes overflows this heap (at most ${this.store.maxByteLength} bytes)`);
    if (this.debug) return this.guard(this.allocate(total + GUARD_BYTES, true), total);
    return this.allocate(total, true);
  }

  /** A block of at least `sizeBytes` whose address is a multiple of `alignment` (a power of two). */
  alignedAlloc(alignment: number, sizeBytes: number): number {
    this.assertAttached("alignedAlloc");
    checkSize(sizeBytes, "alignedAlloc");
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > this.store.maxByteLength) {
      throw new HeapError(`alignedAlloc: alignment ${alignment} is not a power of two (up to the heap size)`);
    }
    if (this.debug) return this.guard(this.allocateAligned(alignment, sizeBytes + GUARD_BYTES), sizeBytes);
    return this.allocateAligned(alignment, sizeBytes);
  }

  /** A typed array of `length` elements in a fresh block (free it with `free(array.byteOffset)`). */
  mallocAs<T>(type: TypedArrayConstructor<T>, length: number): T | null {
    const address = this.alignedAlloc(Math.max(8, type.BYTES_PER_ELEMENT), length * type.BYTES_PER_ELEMENT);
    return address === Geometry.Null ? null : new type(this.bytes.buffer, address, length);
  }

  /** Resizes, in place when it can (same class, or a large block with free pages after it). */
  realloc(address: number, sizeBytes: number): number {
    this.assertAttached("realloc");
    checkSize(sizeBytes, "realloc");
    if (address === Geometry.Null) return this.malloc(sizeBytes);
    if (this.debug) {
      const requested = this.checkGuard(address, this.validate(address, "realloc"), "realloc");
      const fresh = sizeBytes === 0 ? Geometry.Null : this.malloc(sizeBytes);
      if (fresh === Geometry.Null && sizeBytes > 0) return Geometry.Null;
      if (fresh !== Geometry.Null) this.copyBlock(fresh, address, Math.min(requested, sizeBytes));
      this.free(address);
      return fresh;
    }
    const page = this.validate(address, "realloc");
    if (sizeBytes === 0) {
      this.free(address);
      return Geometry.Null;
    }
    const usable = this.rawUsable(page);
    if (this.kindOf(page) === Kind.Span) {
      if (sizeBytes <= usable && sizeBytes > usable / 2) return address; // same class, or shrinking a little: keep the block
    } else if (sizeBytes > MEDIUM_LIMIT_BYTES) {
      this.lock();
      try {
        if (this.resizeLarge(this.validate(address, "realloc"), pagesFor(sizeBytes))) return address;
      } finally {
        this.unlock();
      }
    }
    const fresh = this.malloc(sizeBytes);
    if (fresh === Geometry.Null) return Geometry.Null;
    this.copyBlock(fresh, address, Math.min(usable, sizeBytes));
    this.free(address);
    return fresh;
  }

  /** Bytes the block at `address` can hold (its class size, or its pages; in debug mode, the size asked for). */
  usableSize(address: number): number {
    const page = this.validate(address, "usableSize");
    if (this.debug) return this.checkGuard(address, page, "usableSize");
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
      this.trimLocked();
    } finally {
      this.unlock();
    }
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
        Atomics.store(this.words, this.workerWord + W.Claimed, 0);
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
    return this.footprintOf(this.floats[H.Stats + Stat.UsedPages]);
  }

  /** Visits every live block: its address and usable size. */
  walk(visit: (address: number, usableBytes: number) => void): void {
    this.lock();
    try {
      for (let page = this.words[H.MetaPages]; page < this.pageCount; ) {
        const kind = this.kindOf(page);
        const run = this.runOf(page, kind);
        if (kind === Kind.Large) visit(page * HEAP_PAGE_BYTES, run * HEAP_PAGE_BYTES);
        else if (kind === Kind.Span) {
          const size = this.descriptor(page, D.Size);
          for (let address = page * HEAP_PAGE_BYTES; address < this.descriptor(page, D.Bump); address += size) if (this.isLive(address)) visit(address, size);
        }
        page += run;
      }
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

  // Small and medium blocks.

  private allocate(sizeBytes: number, zero: boolean): number {
    if (sizeBytes <= MEDIUM_LIMIT_BYTES) return this.allocateSmall(classOf(Math.max(sizeBytes, 1)), zero);
    this.lock();
    try {
      return this.allocateLarge(pagesFor(sizeBytes), zero);
    } finally {
      this.unlock();
    }
  }

  private allocateAligned(alignment: number, sizeBytes: number): number {
    if (alignment <= 8) return this.allocate(sizeBytes, false);
    // A class whose size is a multiple of the alignment: spans start on page boundaries.
    if (alignment <= HEAP_PAGE_BYTES && sizeBytes <= MEDIUM_LIMIT_BYTES) {
      for (let sizeClass = classOf(Math.max(sizeBytes, alignment)); sizeClass < CLASS_COUNT; sizeClass++) {
        if (CLASS_SIZES[sizeClass] % alignment === 0) return this.allocateSmall(sizeClass, false);
      }
    }
    const pages = pagesFor(Math.max(sizeBytes, 1));
    this.lock();
    try {
      const first = this.takeRun(pages, Math.max(1, alignment / HEAP_PAGE_BYTES));
      return first === 0 ? Geometry.Null : this.startLarge(first, pages, false);
    } finally {
      this.unlock();
    }
  }

  /** A block of `sizeClass` from this worker's spans: the first with room, else blocks other workers freed, else an adopted or new span. */
  private allocateSmall(sizeClass: number, zero: boolean): number {
    const headWord = this.workerWord + W.ClassHeads + sizeClass;
    for (let attempt = 0; ; attempt++) {
      for (let span = this.words[headWord]; span !== 0; span = this.words[headWord]) {
        if (this.hasRoom(span)) return this.carve(span, zero);
        this.unlinkSpan(span, headWord); // full: out of the list until a block comes back
      }
      if (attempt > 0 || !this.shared || Atomics.load(this.words, this.workerWord + W.Inbox) === Geometry.Null) break;
      this.drainOwnInbox();
    }
    this.lock();
    let span: number;
    try {
      span = this.adoptSpan(sizeClass) || this.newSpan(sizeClass);
    } finally {
      this.unlock();
    }
    return span === 0 ? Geometry.Null : this.carve(span, zero);
  }

  private hasRoom(span: number): boolean {
    return this.descriptor(span, D.Free) !== Geometry.Null || this.descriptor(span, D.Bump) <= this.descriptor(span, D.Limit);
  }

  /** Takes a block from a span with room. */
  private carve(span: number, zero: boolean): number {
    const words = this.words;
    const base = this.descriptorsWord + (span << Geometry.DescriptorShift);
    let address = words[base + D.Free];
    if (address !== Geometry.Null) words[base + D.Free] = this.link(address);
    else {
      address = words[base + D.Bump];
      words[base + D.Bump] = address + words[base + D.Size];
    }
    words[base + D.Used]++;
    this.markLive(address, span);
    if (zero) this.fillBlock(address, words[base + D.Size], 0);
    return address;
  }

  /** A block back into its span's free list (its bitmap bit already clear); the owner, or the lock holder for an unowned span. */
  private returnBlock(address: number, span: number): void {
    const words = this.words;
    const base = this.descriptorsWord + (span << Geometry.DescriptorShift);
    this.assert(words[base + D.Used] > 0, () => `span at page ${span} gets block ${this.hex(address)} back with no block in use`);
    this.setLink(address, words[base + D.Free]);
    words[base + D.Free] = address;
    words[base + D.Used]--;
    if (this.ownerOf(span) === NO_OWNER) this.settleUnownedSpan(span, base);
    else if (words[base + D.Used] === 0 || (words[base + D.Kind] & SpanBits.Linked) === 0) this.settleOwnSpan(span, base);
  }

  /** After a free into one of this worker's spans: a full span has room again; an empty one stays as its class's spare, or goes back to the pages. */
  private settleOwnSpan(span: number, base: number): void {
    const words = this.words;
    const sizeClass = (words[base + D.Kind] >>> SpanBits.ClassShift) & SpanBits.ClassMask;
    const headWord = this.workerWord + W.ClassHeads + sizeClass;
    if ((words[base + D.Kind] & SpanBits.Linked) === 0) this.linkSpan(span, headWord);
    if (words[base + D.Used] !== 0) return;
    const spareWord = this.workerWord + W.SpareSpans + sizeClass;
    const spare = words[spareWord];
    if (spare === 0 || spare === span || words[this.descriptorsWord + (spare << Geometry.DescriptorShift) + D.Used] !== 0) words[spareWord] = span;
    else this.releaseOwnSpan(span, headWord);
  }

  private releaseOwnSpan(span: number, headWord: number): void {
    this.unlinkSpan(span, headWord);
    this.lock();
    try {
      this.releasePages(span, this.descriptor(span, D.Run));
    } finally {
      this.unlock();
    }
  }

  /** The same for a span no worker owns (the caller holds the lock): it waits in the abandoned list, or goes back to the pages once empty. */
  private settleUnownedSpan(span: number, base: number): void {
    const words = this.words;
    const headWord = H.Abandoned + ((words[base + D.Kind] >>> SpanBits.ClassShift) & SpanBits.ClassMask);
    if (words[base + D.Used] === 0) {
      if ((words[base + D.Kind] & SpanBits.Linked) !== 0) this.unlinkSpan(span, headWord);
      this.releasePages(span, words[base + D.Run]);
    } else if ((words[base + D.Kind] & SpanBits.Linked) === 0) this.linkSpan(span, headWord);
  }

  /** Takes an abandoned span of `sizeClass` with room (the caller holds the lock); 0 if none. */
  private adoptSpan(sizeClass: number): number {
    this.drainOrphans();
    const span = this.words[H.Abandoned + sizeClass];
    if (span === 0) return 0;
    this.unlinkSpan(span, H.Abandoned + sizeClass);
    this.setOwner(span, this.workerId);
    this.linkSpan(span, this.workerWord + W.ClassHeads + sizeClass);
    return span;
  }

  /** A fresh span for `sizeClass`, owned by this worker (the caller holds the lock); 0 if the heap is full. */
  private newSpan(sizeClass: number): number {
    const size = CLASS_SIZES[sizeClass];
    const pages = Math.max(1, Math.ceil((size * 4) / HEAP_PAGE_BYTES));
    const span = this.takeRun(pages, 1);
    if (span === 0) return 0;
    const start = span * HEAP_PAGE_BYTES;
    this.setDescriptor(span, D.Free, Geometry.Null);
    this.setDescriptor(span, D.Used, 0);
    this.setDescriptor(span, D.Bump, start);
    this.setDescriptor(span, D.Limit, start + (Math.floor((pages * HEAP_PAGE_BYTES) / size) - 1) * size);
    this.setDescriptor(span, D.Run, pages);
    this.setDescriptor(span, D.Size, size);
    for (let tail = span + 1; tail < span + pages; tail++) {
      this.setDescriptor(tail, D.Kind, Kind.SpanTail);
      this.setDescriptor(tail, D.Run, span);
    }
    this.takePages(span, pages, false);
    this.usePages(pages);
    // Published last: a racing free of a stale pointer into this page sees a whole span or none.
    Atomics.store(this.words, this.descriptorsWord + (span << Geometry.DescriptorShift) + D.Kind, Kind.Span | ((this.workerId + 1) << 8) | (sizeClass << 16));
    this.linkSpan(span, this.workerWord + W.ClassHeads + sizeClass);
    return span;
  }

  private linkSpan(span: number, headWord: number): void {
    const words = this.words;
    const base = this.descriptorsWord + (span << Geometry.DescriptorShift);
    const head = words[headWord];
    words[base + D.Next] = head;
    words[base + D.Prev] = 0;
    if (head !== 0) words[this.descriptorsWord + (head << Geometry.DescriptorShift) + D.Prev] = span;
    words[headWord] = span;
    words[base + D.Kind] |= SpanBits.Linked;
  }

  private unlinkSpan(span: number, headWord: number): void {
    const words = this.words;
    const base = this.descriptorsWord + (span << Geometry.DescriptorShift);
    const next = words[base + D.Next];
    const previous = words[base + D.Prev];
    if (previous === 0) words[headWord] = next;
    else words[this.descriptorsWord + (previous << Geometry.DescriptorShift) + D.Next] = next;
    if (next !== 0) words[this.descriptorsWord + (next << Geometry.DescriptorShift) + D.Prev] = previous;
    words[base + D.Next] = 0;
    words[base + D.Prev] = 0;
    words[base + D.Kind] &= ~SpanBits.Linked;
  }

  // Remote frees.

  /** A block of another worker's span (or of an unowned one) onto that worker's inbox (or the orphan inbox). */
  private pushRemote(address: number, owner: number): void {
    this.pushAtomic(owner === NO_OWNER ? H.OrphanInbox : H.Workers + owner * WORKER_WORDS + W.Inbox, address);
  }

  private pushAtomic(listWord: number, address: number): void {
    const words = this.words;
    for (;;) {
      const head = Atomics.load(words, listWord);
      this.setLink(address, head);
      if (Atomics.compareExchange(words, listWord, head, address) === head) return;
    }
  }

  /** Blocks other workers freed into this worker's spans go back into their free lists (no lock). */
  private drainOwnInbox(): void {
    let address = Atomics.exchange(this.words, this.workerWord + W.Inbox, Geometry.Null);
    while (address !== Geometry.Null) {
      const next = this.link(address);
      const span = this.blockHead(address);
      // Pushed while the span belonged to this slot's previous worker, which detached since.
      if (this.ownerOf(span) === this.workerId) this.returnBlock(address, span);
      else this.pushAtomic(H.OrphanInbox, address);
      address = next;
    }
  }

  /** Routes the blocks of a list nobody else drains (the caller holds the lock): into unowned spans, or on to their owner's inbox. */
  private drainLocked(listWord: number): void {
    let address = Atomics.exchange(this.words, listWord, Geometry.Null);
    while (address !== Geometry.Null) {
      const next = this.link(address);
      const span = this.blockHead(address);
      const owner = this.ownerOf(span);
      if (owner === NO_OWNER || owner === this.workerId) this.returnBlock(address, span);
      else this.pushRemote(address, owner);
      address = next;
    }
  }

  /** How many blocks of `sizeClass` a worker's free-block cache holds (0 with the cache off). */
  private cacheBlocks(sizeClass: number): number {
    return this.words[H.BlockCache] === 1 ? cacheCapacity(sizeClass) : 0;
  }

  /** Every block in this worker's free-block cache goes back into its span (trim, detach). */
  private flushCache(): void {
    const words = this.words;
    for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) {
      const headWord = this.cacheHeadsWord + sizeClass;
      const roomWord = headWord + (W.CacheRoom - W.CacheHeads);
      for (let address = words[headWord]; address !== Geometry.Null; ) {
        const next = this.link(address);
        words[headWord] = next;
        words[roomWord]++;
        this.returnBlock(address, this.blockHead(address));
        address = next;
      }
      this.assert(words[roomWord] === this.cacheBlocks(sizeClass), () => `worker ${this.workerId}'s cache of class ${CLASS_SIZES[sizeClass]} B emptied with room ${words[roomWord]}, expected ${this.cacheBlocks(sizeClass)}`);
    }
  }

  private drainOrphans(): void {
    if (this.shared && Atomics.load(this.words, H.OrphanInbox) !== Geometry.Null) this.drainLocked(H.OrphanInbox);
  }

  /**
   * First use of a worker slot: its cache rooms, and the slot counts in the footprint. A
   * record is written only then, so slots never claimed cost no memory.
   */
  private openWorkerSlot(worker: number): void {
    const record = H.Workers + worker * WORKER_WORDS;
    for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) this.words[record + W.CacheRoom + sizeClass] = this.cacheBlocks(sizeClass);
    this.words[H.WorkerSlotsUsed] = worker + 1;
  }

  private claimWorker(): number {
    this.lock();
    try {
      for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) {
        const record = H.Workers + worker * WORKER_WORDS;
        if (this.words[record + W.Claimed] !== 0) continue;
        this.words[record + W.Claimed] = 1;
        if (worker >= this.words[H.WorkerSlotsUsed]) this.openWorkerSlot(worker);
        this.drainLocked(record + W.Inbox); // frees that reached this slot after its last worker left
        return worker;
      }
    } finally {
      this.unlock();
    }
    throw new HeapError(`all ${MAX_HEAP_WORKERS} worker slots of this heap are taken: detach() the heaps of workers that are done`);
  }

  /** detach(): every span of this worker becomes unowned (the caller holds the lock). */
  private abandonSpans(): void {
    const spans: number[] = [];
    for (let page = this.words[H.MetaPages]; page < this.pageCount; page += this.runOf(page, this.kindOf(page))) {
      if (this.kindOf(page) === Kind.Span && this.ownerOf(page) === this.workerId) spans.push(page);
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) {
      this.words[this.workerWord + W.ClassHeads + sizeClass] = 0;
      this.words[this.workerWord + W.SpareSpans + sizeClass] = 0;
    }
    for (const span of spans) {
      this.setDescriptor(span, D.Kind, this.descriptor(span, D.Kind) & ~SpanBits.Linked);
      this.setOwner(span, NO_OWNER);
      if (this.hasRoom(span) || this.descriptor(span, D.Used) === 0) this.settleUnownedSpan(span, this.descriptorsWord + (span << Geometry.DescriptorShift));
    }
    this.drainLocked(this.workerWord + W.Inbox);
  }

  private trimLocked(): void {
    while (this.cachedCount() > 0) this.evictCached(0);
    if (this.shared) {
      this.drainOrphans();
      for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) {
        const record = H.Workers + worker * WORKER_WORDS;
        if (this.words[record + W.Claimed] === 0 && Atomics.load(this.words, record + W.Inbox) !== Geometry.Null) this.drainLocked(record + W.Inbox);
      }
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) {
      const headWord = this.workerWord + W.ClassHeads + sizeClass;
      this.words[this.workerWord + W.SpareSpans + sizeClass] = 0;
      for (let span = this.words[headWord]; span !== 0; ) {
        const next = this.descriptor(span, D.Next);
        if (this.descriptor(span, D.Used) === 0) {
          this.unlinkSpan(span, headWord);
          this.releasePages(span, this.descriptor(span, D.Run));
        }
        span = next;
      }
    }
  }

  // Large blocks and the region cache (the caller holds the lock).

  private allocateLarge(pages: number, zero: boolean): number {
    this.tick();
    const cached = this.takeCached(pages);
    if (cached !== 0) {
      this.floats[H.Stats + Stat.CacheHits]++;
      const run = this.descriptor(cached, D.Run);
      this.floats[H.Stats + Stat.CachedPages] -= run;
      this.setDescriptor(cached, D.Kind, Kind.Large);
      this.markLive(cached * HEAP_PAGE_BYTES, cached);
      if (zero) this.zeroDirty(cached, run);
      return cached * HEAP_PAGE_BYTES;
    }
    this.floats[H.Stats + Stat.CacheMisses]++;
    const first = this.takeRun(pages, 1);
    return first === 0 ? Geometry.Null : this.startLarge(first, pages, zero);
  }

  private startLarge(first: number, pages: number, zero: boolean): number {
    this.setDescriptor(first, D.Kind, Kind.Large);
    this.setDescriptor(first, D.Run, pages);
    for (let tail = first + 1; tail < first + pages; tail++) {
      this.setDescriptor(tail, D.Kind, Kind.LargeTail);
      this.setDescriptor(tail, D.Run, first);
    }
    this.takePages(first, pages, zero);
    this.usePages(pages);
    this.markLive(first * HEAP_PAGE_BYTES, first);
    return first * HEAP_PAGE_BYTES;
  }

  private freeLarge(page: number): void {
    this.tick();
    const run = this.descriptor(page, D.Run);
    if (!this.clearLive(page * HEAP_PAGE_BYTES)) throw new HeapError(`free(${this.hex(page * HEAP_PAGE_BYTES)}): not allocated (a double free, racing with another)`);
    if (run * HEAP_PAGE_BYTES > this.cacheBytes || this.cacheSlots === 0) {
      this.releasePages(page, run);
      return;
    }
    while (this.cachedCount() >= this.cacheSlots || (this.floats[H.Stats + Stat.CachedPages] + run) * HEAP_PAGE_BYTES > this.cacheBytes) this.evictCached(0);
    this.setDescriptor(page, D.Kind, Kind.Cached);
    const slot = H.Cache + this.cachedCount() * CACHE_SLOT_WORDS;
    this.words[slot] = page;
    this.words[slot + 1] = run;
    this.words[slot + 2] = this.words[H.Operations];
    this.words[H.CacheSlots]++;
    this.floats[H.Stats + Stat.CachedPages] += run;
  }

  /** Grows (into free pages after it) or shrinks a large block in place. */
  private resizeLarge(page: number, pages: number): boolean {
    const run = this.descriptor(page, D.Run);
    if (pages === run) return true;
    if (pages < run) {
      this.setDescriptor(page, D.Run, pages);
      this.releasePages(page + pages, run - pages);
      return true;
    }
    const next = page + run;
    if (next >= this.pageCount || this.kindOf(next) !== Kind.FreeRun || this.descriptor(next, D.Run) < pages - run) return false;
    const extra = pages - run;
    this.unbin(next);
    const leftover = this.descriptor(next, D.Run) - extra;
    if (leftover > 0) this.makeFreeRun(next + extra, leftover);
    for (let tail = next; tail < next + extra; tail++) {
      this.setDescriptor(tail, D.Kind, Kind.LargeTail);
      this.setDescriptor(tail, D.Run, page);
    }
    this.takePages(next, extra, false);
    this.usePages(extra);
    this.setDescriptor(page, D.Run, pages);
    return true;
  }

  private cachedCount(): number {
    return this.words[H.CacheSlots];
  }

  /** Best fit among cached runs of n to 1.25 n pages; evicts runs past their age first. */
  private takeCached(pages: number): number {
    const now = this.words[H.Operations];
    for (let i = 0; i < this.cachedCount(); ) {
      if (now - this.words[H.Cache + i * CACHE_SLOT_WORDS + 2] > this.cacheAge) this.evictCached(i);
      else i++;
    }
    let best = -1;
    for (let i = 0; i < this.cachedCount(); i++) {
      const run = this.words[H.Cache + i * CACHE_SLOT_WORDS + 1];
      if (run >= pages && run * 4 <= pages * 5 && (best < 0 || run < this.words[H.Cache + best * CACHE_SLOT_WORDS + 1])) best = i;
    }
    if (best < 0) return 0;
    const page = this.words[H.Cache + best * CACHE_SLOT_WORDS];
    this.removeCacheSlot(best);
    return page;
  }

  /** Decommits a cached run: back to the free pages, zeroed lazily if a calloc gets it. */
  private evictCached(index: number): void {
    const page = this.words[H.Cache + index * CACHE_SLOT_WORDS];
    const run = this.words[H.Cache + index * CACHE_SLOT_WORDS + 1];
    this.removeCacheSlot(index);
    this.floats[H.Stats + Stat.CachedPages] -= run;
    this.floats[H.Stats + Stat.CacheEvictions]++;
    this.floats[H.Stats + Stat.DecommittedBytes] += run * HEAP_PAGE_BYTES;
    this.releasePages(page, run);
  }

  private removeCacheSlot(index: number): void {
    const last = this.cachedCount() - 1;
    for (let w = 0; w < CACHE_SLOT_WORDS; w++) this.words[H.Cache + index * CACHE_SLOT_WORDS + w] = this.words[H.Cache + last * CACHE_SLOT_WORDS + w];
    this.words[H.CacheSlots] = last;
  }

  // Page runs (the caller holds the lock).

  /** Takes a run of `pages` pages starting at a multiple of `alignPages`; 0 if none (after growing the store). */
  private takeRun(pages: number, alignPages: number): number {
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = this.findRun(pages, alignPages);
      if (found !== 0) return found;
      if (attempt === 0 && this.cachedCount() > 0) this.trimLocked();
      else if (!this.growPages(pages + alignPages)) break;
    }
    return 0;
  }

  private findRun(pages: number, alignPages: number): number {
    for (let bin = binOf(pages); bin < BIN_COUNT; bin++) {
      for (let run = this.words[H.Bins + bin]; run !== 0; run = this.descriptor(run, D.Next)) {
        const length = this.descriptor(run, D.Run);
        const start = Math.ceil(run / alignPages) * alignPages;
        if (start + pages > run + length) continue;
        this.unbin(run);
        if (start > run) this.makeFreeRun(run, start - run);
        if (start + pages < run + length) this.makeFreeRun(start + pages, run + length - start - pages);
        return start;
      }
    }
    return 0;
  }

  /** Returns pages to the free runs, merged with free neighbours. */
  private releasePages(first: number, pages: number): void {
    this.usePages(-pages);
    if (this.pagesReleased(first, pages)) for (let page = first; page < first + pages; page++) this.setDescriptor(page, D.Flags, 0);
    let start = first;
    let end = first + pages;
    const before = start - 1;
    if (before >= this.words[H.MetaPages]) {
      const kind = this.kindOf(before);
      const head = kind === Kind.FreeRun ? before : kind === Kind.FreeLast ? this.descriptor(before, D.Run) : 0;
      if (head !== 0) {
        this.unbin(head);
        start = head;
      }
    }
    if (end < this.pageCount && this.kindOf(end) === Kind.FreeRun) {
      this.unbin(end);
      end += this.descriptor(end, D.Run);
    }
    this.makeFreeRun(start, end - start);
  }

  private makeFreeRun(first: number, pages: number): void {
    this.setDescriptor(first, D.Kind, Kind.FreeRun);
    this.setDescriptor(first, D.Run, pages);
    if (pages > 1) {
      this.setDescriptor(first + pages - 1, D.Kind, Kind.FreeLast);
      this.setDescriptor(first + pages - 1, D.Run, first);
    }
    const bin = H.Bins + binOf(pages);
    const head = this.words[bin];
    this.setDescriptor(first, D.Next, head);
    this.setDescriptor(first, D.Prev, 0);
    if (head !== 0) this.setDescriptor(head, D.Prev, first);
    this.words[bin] = first;
  }

  private unbin(first: number): void {
    const next = this.descriptor(first, D.Next);
    const previous = this.descriptor(first, D.Prev);
    if (previous === 0) this.words[H.Bins + binOf(this.descriptor(first, D.Run))] = next;
    else this.setDescriptor(previous, D.Next, next);
    if (next !== 0) this.setDescriptor(next, D.Prev, previous);
    this.setDescriptor(first, D.Kind, Kind.Unset);
  }

  private growPages(minimumPages: number): boolean {
    const pageCount = this.pageCount;
    const wanted = Math.max(pageCount * 2, pageCount + minimumPages);
    const target = Math.min(this.words[H.MaxPages], wanted);
    if (target <= pageCount || !this.store.grow(target * HEAP_PAGE_BYTES)) return false;
    this.views();
    this.words[H.PageCount] = target;
    this.releasePages(pageCount, target - pageCount);
    this.usePages(target - pageCount); // releasePages counted them as returned
    return true;
  }

  // Validation.

  /** The first page of the live block at `address` (its span's or its large run's), or a HeapError naming what is wrong. */
  private validate(address: number, what: string): number {
    if (!Number.isInteger(address) || address < 0 || address >= this.store.maxByteLength) throw new HeapError(`${what}(${this.hexOrValue(address)}): not an address in this heap (0 .. ${this.hex(this.store.maxByteLength)})`);
    if (address >= this.bytes.length) this.refreshIfGrown();
    if (address >= this.bytes.length) throw new HeapError(`${what}(${this.hex(address)}): past the end of this heap (${this.hex(this.bytes.length)})`);
    const page = address >>> Geometry.PageShift;
    if (page < this.words[H.MetaPages]) throw new HeapError(`${what}(${this.hex(address)}): inside the heap's own metadata, never returned by malloc`);
    const kind = this.kindOf(page);
    if (kind === Kind.Large || kind === Kind.LargeTail) {
      const head = kind === Kind.Large ? page : this.descriptor(page, D.Run);
      if (this.kindOf(head) === Kind.Large && address === head * HEAP_PAGE_BYTES && this.isLive(address)) return head;
      if (this.kindOf(head) === Kind.Large && page < head + this.descriptor(head, D.Run)) throw new HeapError(`${what}(${this.hex(address)}): an interior pointer into the large block at ${this.hex(head * HEAP_PAGE_BYTES)}`);
    } else if (kind === Kind.Span || kind === Kind.SpanTail) {
      const head = kind === Kind.Span ? page : this.descriptor(page, D.Run);
      if (this.kindOf(head) === Kind.Span && page < head + this.descriptor(head, D.Run)) {
        const size = this.descriptor(head, D.Size);
        const offset = address - head * HEAP_PAGE_BYTES;
        if (offset % size !== 0 || address >= this.descriptor(head, D.Bump)) {
          throw new HeapError(`${what}(${this.hex(address)}): an interior pointer into the ${size}-byte block at ${this.hex(address - (offset % size))}`);
        }
        if (this.isLive(address)) return head;
        throw new HeapError(`${what}(${this.hex(address)}): not allocated (a double free?)`);
      }
    }
    throw new HeapError(`${what}(${this.hex(address)}): not allocated (a double free, or a pointer this heap never returned)`);
  }

  private assertAttached(what: string): void {
    if (!this.attached) throw new HeapError(`${what}: this worker detached from the heap`);
  }

  /** An invariant of the heap; a violation means the heap is corrupt (fail loudly, here). */
  private assert(condition: boolean, message: () => string): void {
    if (!condition) throw new HeapError(`heap corrupt: ${message()}`);
  }

  // Debug mode.

  /** A canary right after the caller's bytes, and their count in the block's last word. */
  private guard(address: number, sizeBytes: number): number {
    if (address === Geometry.Null) return Geometry.Null;
    const usable = this.rawUsable(this.blockHead(address));
    for (let i = 0; i < CANARY.length; i++) this.writeBlockByte(address + sizeBytes + i, CANARY[i]);
    this.setLink(address + usable - 4, sizeBytes);
    return address;
  }

  /** The size asked for, after checking the canary; a HeapError (nothing changed) if it was overwritten. */
  private checkGuard(address: number, page: number, what: string): number {
    const usable = this.rawUsable(page);
    const sizeBytes = this.link(address + usable - 4);
    if (sizeBytes < 0 || sizeBytes > usable - GUARD_BYTES) {
      throw new HeapError(`${what}(${this.hex(address)}): buffer overrun: the block's size record at ${this.hex(address + usable - 4)} was overwritten`);
    }
    for (let i = 0; i < CANARY.length; i++) {
      if (this.readBlockByte(address + sizeBytes + i) !== CANARY[i]) {
        throw new HeapError(`${what}(${this.hex(address)}): buffer overrun past the ${sizeBytes}-byte block: the canary at ${this.hex(address + sizeBytes)} was overwritten`);
      }
    }
    return sizeBytes;
  }

  private poison(address: number, page: number): void {
    this.checkGuard(address, page, "free");
    this.fillBlock(address, this.rawUsable(page), POISON);
  }

  /** The first page of the span or large block holding `address`. */
  private blockHead(address: number): number {
    const page = address >>> Geometry.PageShift;
    const kind = this.kindOf(page);
    return kind === Kind.SpanTail || kind === Kind.LargeTail ? this.descriptor(page, D.Run) : page;
  }

  // Block memory: the bytes of the blocks themselves (free-list links, canaries, zeroing,
  // copies). Here the backing store's; a heap whose blocks live elsewhere (an AddressSpace
  // region, space-heap.ts) overrides these and the page hooks below.

  /** The word at `address` inside a block (a free-list link, or debug mode's size record). */
  protected link(address: number): number {
    return this.words[address >>> 2];
  }

  protected setLink(address: number, value: number): void {
    this.words[address >>> 2] = value;
  }

  protected readBlockByte(address: number): number {
    return this.bytes[address];
  }

  protected writeBlockByte(address: number, value: number): void {
    this.bytes[address] = value;
  }

  protected fillBlock(address: number, lengthBytes: number, byte: number): void {
    this.bytes.fill(byte, address, address + lengthBytes);
  }

  protected copyBlock(destination: number, source: number, lengthBytes: number): void {
    this.bytes.copyWithin(destination, source, source + lengthBytes);
  }

  /** How errors name an address of this heap. */
  protected hex(address: number): string {
    return `0x${address.toString(16)}`;
  }

  private hexOrValue(value: number): string {
    return Number.isInteger(value) && value >= 0 ? this.hex(value) : String(value);
  }

  /** Pages `[first, first + pages)` now hold a span or a large block. */
  protected pagesTaken(first: number, pages: number): void {
    void first;
    void pages;
  }

  /** Pages went back to the free runs; true if they now read as zero (decommitted). */
  protected pagesReleased(first: number, pages: number): boolean {
    void first;
    void pages;
    return false;
  }

  // Statistics and the consistency check (the caller holds the lock).

  private statsLocked(): HeapStats {
    const classes = Array.from({ length: CLASS_COUNT }, (_, i) => ({ sizeBytes: CLASS_SIZES[i], liveBlocks: 0, spans: 0 }));
    let liveBlocks = 0;
    let liveBytes = 0;
    for (let page = this.words[H.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (kind === Kind.Span) {
        const sizeClass = this.classOfSpan(page);
        classes[sizeClass].spans++;
        classes[sizeClass].liveBlocks += this.descriptor(page, D.Used);
        liveBlocks += this.descriptor(page, D.Used);
        liveBytes += this.descriptor(page, D.Used) * CLASS_SIZES[sizeClass];
      } else if (kind === Kind.Large) {
        liveBlocks++;
        liveBytes += run * HEAP_PAGE_BYTES;
      }
      page += run;
    }
    const pending = this.pendingBlocks(false);
    for (const address of [...pending, ...this.cachedBlocks(false)]) {
      const sizeClass = this.classOfSpan(this.blockHead(address));
      classes[sizeClass].liveBlocks--;
      liveBlocks--;
      liveBytes -= CLASS_SIZES[sizeClass];
    }
    const f = this.floats;
    let attachedWorkers = 0;
    for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) if (this.words[H.Workers + worker * WORKER_WORDS + W.Claimed] !== 0) attachedWorkers++;
    return {
      liveBytes,
      liveBlocks,
      footprintBytes: this.footprintOf(f[H.Stats + Stat.UsedPages]),
      peakFootprintBytes: this.footprintOf(f[H.Stats + Stat.PeakUsedPages]),
      heapBytes: this.store.byteLength,
      classes: classes.filter((c) => c.spans > 0),
      regionCache: {
        hits: f[H.Stats + Stat.CacheHits],
        misses: f[H.Stats + Stat.CacheMisses],
        evictions: f[H.Stats + Stat.CacheEvictions],
        cachedBytes: f[H.Stats + Stat.CachedPages] * HEAP_PAGE_BYTES,
      },
      decommittedBytes: f[H.Stats + Stat.DecommittedBytes],
      pendingRemoteFrees: pending.length,
      attachedWorkers,
    };
  }

  /**
   * Blocks in every worker's free-block cache. `strict` (check): each list holds as many
   * blocks as its room says, each a free block of one of the worker's spans of the class.
   */
  private cachedBlocks(strict: boolean): number[] {
    const cached: number[] = [];
    // Slots never claimed have no cache (their records are never written).
    for (let worker = 0; worker < this.words[H.WorkerSlotsUsed]; worker++) {
      const record = H.Workers + worker * WORKER_WORDS;
      for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) {
        const count = this.cacheBlocks(sizeClass) - this.words[record + W.CacheRoom + sizeClass];
        const where = `worker ${worker}'s cache of class ${CLASS_SIZES[sizeClass]} B`;
        if (strict && (count < 0 || count > this.cacheBlocks(sizeClass))) throw new HeapError(`heap corrupt: ${where} counts ${count} blocks`);
        let address = this.words[record + W.CacheHeads + sizeClass];
        for (let held = 0; held < count; held++, address = this.link(address)) {
          const page = address > 0 && address < this.bytes.length && address % 8 === 0 ? address >>> Geometry.PageShift : 0;
          const block = page !== 0 && this.kindOf(page) === Kind.Span && this.classOfSpan(page) === sizeClass && this.ownerOf(page) === worker;
          if (!block || (address - page * HEAP_PAGE_BYTES) % CLASS_SIZES[sizeClass] !== 0) {
            if (!strict) break;
            throw new HeapError(`heap corrupt: ${where} holds ${this.hex(address)} as block ${held + 1} of ${count}, not a block of its spans of that class`);
          }
          if (strict && this.isLive(address)) throw new HeapError(`heap corrupt: ${where} holds live block ${this.hex(address)}`);
          cached.push(address);
        }
        // The list ends where the count does: a longer one means a link was overwritten.
        if (strict && address !== Geometry.Null) throw new HeapError(`heap corrupt: ${where} runs on past its ${count} blocks to ${this.hex(address)}`);
      }
    }
    return cached;
  }

  /** Blocks in every inbox (bounded: with other workers at work, the lists move under the walk). */
  private pendingBlocks(strict: boolean): number[] {
    const pending: number[] = [];
    if (!this.shared) return pending;
    const lists = [H.OrphanInbox];
    for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) lists.push(H.Workers + worker * WORKER_WORDS + W.Inbox);
    for (const listWord of lists) {
      for (let address = Atomics.load(this.words, listWord), steps = 0; address !== Geometry.Null; address = this.link(address), steps++) {
        const page = address >>> Geometry.PageShift;
        const kind = address > 0 && address < this.bytes.length && address % 8 === 0 ? this.kindOf(page) : Kind.Unset;
        if (steps > MAX_LIST_STEPS || (kind !== Kind.Span && kind !== Kind.SpanTail)) {
          if (strict) throw new HeapError(`heap corrupt: inbox at word ${listWord} holds ${this.hex(address)}, not a block of a span (or loops)`);
          break;
        }
        pending.push(address);
      }
    }
    return pending;
  }

  /**
   * Bytes in use for `usedPages` pages: the pages themselves, plus the header, the records
   * of the worker slots ever claimed, and the share of metadata that describes the pages
   * (descriptor and allocation bitmap). Metadata for pages never used, like the records of
   * slots never claimed, is never touched, so (like untouched pages) it costs no memory.
   */
  private footprintOf(usedPages: number): number {
    const metadataPerPage = DESCRIPTOR_WORDS * 4 + HEAP_PAGE_BYTES / 64;
    const headerBytes = (H.Workers + this.words[H.WorkerSlotsUsed] * WORKER_WORDS) * 4;
    return (usedPages - this.words[H.MetaPages]) * (HEAP_PAGE_BYTES + metadataPerPage) + headerBytes;
  }

  private checkLocked(): void {
    const fail = (message: string): never => {
      throw new HeapError(`heap corrupt: ${message}`);
    };
    const binned = new Set<number>();
    for (let bin = 0; bin < BIN_COUNT; bin++) {
      for (let page = this.words[H.Bins + bin], previous = 0; page !== 0; previous = page, page = this.descriptor(page, D.Next)) {
        if (this.kindOf(page) !== Kind.FreeRun) fail(`bin ${bin} holds page ${page}, which is not a free run`);
        if (binOf(this.descriptor(page, D.Run)) !== bin) fail(`free run at page ${page} (${this.descriptor(page, D.Run)} pages) is in bin ${bin}`);
        if (this.descriptor(page, D.Prev) !== previous) fail(`free run at page ${page}: back link ${this.descriptor(page, D.Prev)}, expected ${previous}`);
        if (binned.has(page)) fail(`free run at page ${page} is binned twice`);
        binned.add(page);
      }
    }
    // Span lists: each worker's per class, and the abandoned ones.
    const listed = new Map<number, number>(); // span -> owner of the list it is in
    const checkList = (headWord: number, sizeClass: number, owner: number): void => {
      let empty = 0;
      for (let span = this.words[headWord], previous = 0; span !== 0; previous = span, span = this.descriptor(span, D.Next)) {
        const where = owner === NO_OWNER ? `the abandoned list of class ${CLASS_SIZES[sizeClass]} B` : `worker ${owner}'s list of class ${CLASS_SIZES[sizeClass]} B`;
        if (this.kindOf(span) !== Kind.Span || this.classOfSpan(span) !== sizeClass) fail(`${where} holds page ${span}, not a span of that class`);
        if (this.ownerOf(span) !== owner) fail(`${where} holds the span at page ${span}, owned by ${this.ownerOf(span)}`);
        if ((this.descriptor(span, D.Kind) & SpanBits.Linked) === 0) fail(`${where} holds the span at page ${span}, not marked linked`);
        if (this.descriptor(span, D.Prev) !== previous) fail(`${where}: back link of page ${span} is ${this.descriptor(span, D.Prev)}, expected ${previous}`);
        if (listed.has(span)) fail(`the span at page ${span} is listed twice`);
        listed.set(span, owner);
        if (this.descriptor(span, D.Used) === 0) empty++;
      }
      if (owner === NO_OWNER) return;
      const spare = this.words[H.Workers + owner * WORKER_WORDS + W.SpareSpans + sizeClass];
      if (spare !== 0 && (this.kindOf(spare) !== Kind.Span || this.ownerOf(spare) !== owner || this.classOfSpan(spare) !== sizeClass)) fail(`worker ${owner}'s spare span of class ${CLASS_SIZES[sizeClass]} B is page ${spare}, not one of its spans of that class`);
      if (empty > 1 || (empty === 1 && (spare === 0 || this.descriptor(spare, D.Used) !== 0))) fail(`worker ${owner}'s class ${CLASS_SIZES[sizeClass]} B has ${empty} empty spans besides its spare`);
    };
    const claimed = new Set<number>();
    for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) {
      const record = H.Workers + worker * WORKER_WORDS;
      if (this.words[record + W.Claimed] !== 0) claimed.add(worker);
      for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) checkList(record + W.ClassHeads + sizeClass, sizeClass, worker);
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) checkList(H.Abandoned + sizeClass, sizeClass, NO_OWNER);
    // Blocks freed but still counted used by their spans: in inboxes and free-block caches.
    const pendingBySpan = new Map<number, number>();
    const inboxBlocks = this.pendingBlocks(true);
    for (const address of inboxBlocks) if (this.isLive(address)) fail(`inbox holds live block ${this.hex(address)}`);
    for (const address of [...inboxBlocks, ...this.cachedBlocks(true)]) {
      const span = this.blockHead(address);
      pendingBySpan.set(span, (pendingBySpan.get(span) ?? 0) + 1);
    }
    let liveBlocks = 0;
    let usedPages = this.words[H.MetaPages];
    let cachedPages = 0;
    for (let page = this.words[H.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (run < 1 || page + run > this.pageCount) fail(`page ${page} (kind ${kind}) claims ${run} pages`);
      if (kind === Kind.FreeRun) {
        if (!binned.delete(page)) fail(`free run at page ${page} is in no bin`);
        if (run > 1 && (this.kindOf(page + run - 1) !== Kind.FreeLast || this.descriptor(page + run - 1, D.Run) !== page)) fail(`free run at page ${page}: its last page does not point back`);
      } else if (kind === Kind.Span) {
        usedPages += run;
        const size = this.descriptor(page, D.Size);
        const start = page * HEAP_PAGE_BYTES;
        const bump = this.descriptor(page, D.Bump);
        const owner = this.ownerOf(page);
        if (size !== CLASS_SIZES[this.classOfSpan(page)]) fail(`span at page ${page}: block size ${size}, its class's is ${CLASS_SIZES[this.classOfSpan(page)]}`);
        if (owner !== NO_OWNER && !claimed.has(owner)) fail(`span at page ${page} is owned by worker ${owner}, which is not attached`);
        if (((this.descriptor(page, D.Kind) & SpanBits.Linked) !== 0) !== listed.has(page)) fail(`span at page ${page}: linked bit ${(this.descriptor(page, D.Kind) & SpanBits.Linked) !== 0} but ${listed.has(page) ? "" : "not "}in a list`);
        if (bump < start || bump > this.descriptor(page, D.Limit) + size || (bump - start) % size !== 0) fail(`span at page ${page}: bump address ${this.hex(bump)} outside its blocks`);
        let live = 0;
        for (let address = start; address < bump; address += size) if (this.isLive(address)) live++;
        const pending = pendingBySpan.get(page) ?? 0;
        if (live + pending !== this.descriptor(page, D.Used)) fail(`span at page ${page} (class ${size} B): used count ${this.descriptor(page, D.Used)}, live blocks ${live}, in inboxes and caches ${pending}`);
        let free = 0;
        for (let block = this.descriptor(page, D.Free); block !== Geometry.Null; block = this.link(block)) {
          if (block < start || block >= bump || (block - start) % size !== 0) fail(`span at page ${page}: free list holds ${this.hex(block)}, not one of its blocks`);
          if (this.isLive(block)) fail(`span at page ${page}: free list holds live block ${this.hex(block)}`);
          if (++free > (bump - start) / size) fail(`span at page ${page}: free list loops`);
        }
        if (free + live + pending !== (bump - start) / size) fail(`span at page ${page}: ${free} free + ${live} live + ${pending} in inboxes and caches != ${(bump - start) / size} carved blocks`);
        liveBlocks += live;
        for (let tail = page + 1; tail < page + run; tail++) if (this.kindOf(tail) !== Kind.SpanTail || this.descriptor(tail, D.Run) !== page) fail(`span at page ${page}: page ${tail} is not its tail`);
      } else if (kind === Kind.Large) {
        usedPages += run;
        if (!this.isLive(page * HEAP_PAGE_BYTES)) fail(`large block at page ${page} is not marked live`);
        liveBlocks++;
      } else if (kind === Kind.Cached) {
        usedPages += run;
        cachedPages += run;
      } else {
        fail(`page ${page} has kind ${kind} where a run should start`);
      }
      page += run;
    }
    if (binned.size > 0) fail(`bins hold pages that start no run: ${[...binned].join(", ")}`);
    for (const span of listed.keys()) if (this.kindOf(span) !== Kind.Span) fail(`a list holds page ${span}, which starts no span`);
    const f = this.floats;
    if (f[H.Stats + Stat.UsedPages] !== usedPages) fail(`statistics: ${f[H.Stats + Stat.UsedPages]} pages in use, counted ${usedPages}`);
    if (f[H.Stats + Stat.CachedPages] !== cachedPages) fail(`statistics: ${f[H.Stats + Stat.CachedPages]} cached pages, counted ${cachedPages}`);
    const counted = this.statsLocked().liveBlocks;
    if (counted !== liveBlocks) fail(`statistics: ${counted} live blocks, ${liveBlocks} in the bitmap`);
  }

  // Words.

  /** Takes the page-layer mutex (re-entrant: settling a span under the lock may release its pages). */
  private lock(): void {
    if (!this.shared || this.lockDepth++ > 0) return;
    lockMutex(this.words, H.Lock);
    this.refreshIfGrown();
  }

  private unlock(): void {
    if (this.shared && --this.lockDepth === 0) unlockMutex(this.words, H.Lock);
  }

  /** Another worker grew the shared memory: views over the bigger buffer. */
  private refreshIfGrown(): void {
    if (this.words[H.PageCount] * HEAP_PAGE_BYTES > this.bytes.length) {
      this.store.refresh();
      this.views();
    }
  }

  /** The store's views, and the fast paths' limits that follow from them. */
  private views(): void {
    this.arrayViews();
    const fast = this.attached && this.words[H.Debug] !== 1 && this.words[H.Magic] === HEAP_MAGIC;
    const sizeLimit = fast ? MEDIUM_LIMIT_BYTES : 0;
    const addressEnd = fast ? this.bytes.length : 0;
    if (this.fastSizeLimit !== sizeLimit) this.fastSizeLimit = sizeLimit;
    if (this.fastAddressEnd !== addressEnd) this.fastAddressEnd = addressEnd;
  }

  private arrayViews(): void {
    // Stored only when the store has new views: V8 keeps a field that is never overwritten
    // "const", and TurboFan then embeds the array, its length and its data pointer in the
    // fast paths (a second store, even of the same value, made these fields mutable and cost
    // four loads a word access).
    if (this.words !== this.store.words) {
      this.words = this.store.words;
      this.bytes = this.store.bytes;
      this.floats = this.store.floats;
    }
  }

  private get pageCount(): number {
    return this.words[H.PageCount];
  }

  private descriptor(page: number, field: D): number {
    return this.words[this.descriptorsWord + (page << Geometry.DescriptorShift) + field];
  }

  private setDescriptor(page: number, field: D, value: number): void {
    this.words[this.descriptorsWord + (page << Geometry.DescriptorShift) + field] = value;
  }

  private kindOf(page: number): Kind {
    return this.descriptor(page, D.Kind) & 0xff;
  }

  private classOfSpan(span: number): number {
    return (this.descriptor(span, D.Kind) >>> SpanBits.ClassShift) & SpanBits.ClassMask;
  }

  private ownerOf(span: number): number {
    return ((this.descriptor(span, D.Kind) >>> 8) & 0xff) - 1;
  }

  /** Hands a span to `owner` (under the lock): one atomic store, seen whole by a racing free. */
  private setOwner(span: number, owner: number): void {
    const at = this.descriptorsWord + (span << Geometry.DescriptorShift) + D.Kind;
    Atomics.store(this.words, at, (this.words[at] & ~0xff00) | ((owner + 1) << 8));
  }

  private rawUsable(page: number): number {
    return this.kindOf(page) === Kind.Large ? this.descriptor(page, D.Run) * HEAP_PAGE_BYTES : this.descriptor(page, D.Size);
  }

  private runOf(page: number, kind: Kind): number {
    return kind === Kind.Span || kind === Kind.Large || kind === Kind.Cached || kind === Kind.FreeRun ? this.descriptor(page, D.Run) : 1;
  }

  private isLive(address: number): boolean {
    return (this.words[this.bitmapWord + (address >>> 8)] & (1 << ((address >>> 3) & 31))) !== 0;
  }

  /** Sets a fresh block's bit; a bit already set means a free list handed out a live block (a write after free). */
  private markLive(address: number, span: number): void {
    if (this.shared) return this.markLiveShared(address, span);
    const words = this.words;
    const at = (this.bitmapWord + (address >>> 8)) | 0;
    const bit = 1 << (address >>> 3);
    const old = words[at];
    words[at] = old | bit;
    if ((old & bit) !== 0) this.corruptFreeList(address, span);
  }

  /** Clears a block's bit; false if it was clear already (not allocated: the caller reports it). */
  private clearLive(address: number): boolean {
    if (this.shared) return this.clearLiveShared(address);
    const words = this.words;
    const at = (this.bitmapWord + (address >>> 8)) | 0;
    const bit = 1 << (address >>> 3);
    const old = words[at];
    words[at] = old & ~bit;
    return (old & bit) !== 0;
  }

  // The atomic forms, for shared heaps, out of line: the ArrayBuffer heap's inlined fast
  // paths then carry only the plain read-modify-write (callgrind: the bitmap costs about 23
  // host instructions per tiny-churn op either way).
  private markLiveShared(address: number, span: number): void {
    const bit = 1 << (address >>> 3);
    if ((Atomics.or(this.words, this.bitmapWord + (address >>> 8), bit) & bit) !== 0) this.corruptFreeList(address, span);
  }

  private clearLiveShared(address: number): boolean {
    const bit = 1 << (address >>> 3);
    return (Atomics.and(this.words, this.bitmapWord + (address >>> 8), ~bit) & bit) !== 0;
  }

  private corruptFreeList(address: number, span: number): never {
    throw new HeapError(`heap corrupt: the span at page ${span} handed out ${this.hex(address)}, a block that is still live (its free list was overwritten: a write after free?)`);
  }

  /** Pages just taken for a span or a large block (zeroed first if `zero`): the caller will write them. */
  private takePages(first: number, pages: number, zero: boolean): void {
    this.pagesTaken(first, pages);
    if (zero) this.zeroDirty(first, pages);
    for (let page = first; page < first + pages; page++) this.setDescriptor(page, D.Flags, DIRTY);
  }

  /** calloc of pages: zero those written since they were last zeroed. */
  private zeroDirty(first: number, pages: number): void {
    for (let page = first; page < first + pages; page++) {
      if ((this.descriptor(page, D.Flags) & DIRTY) !== 0) this.fillBlock(page * HEAP_PAGE_BYTES, HEAP_PAGE_BYTES, 0);
    }
  }

  private usePages(pages: number): void {
    const f = this.floats;
    f[H.Stats + Stat.UsedPages] += pages;
    if (f[H.Stats + Stat.UsedPages] > f[H.Stats + Stat.PeakUsedPages]) f[H.Stats + Stat.PeakUsedPages] = f[H.Stats + Stat.UsedPages];
  }

  private tick(): void {
    this.words[H.Operations]++;
  }

  private initialise(debug: boolean, blockCache: boolean): void {
    const maxBytes = this.store.maxByteLength;
    const maxPages = maxBytes >>> Geometry.PageShift;
    const descriptorsWord = this.descriptorsWord;
    const bitmapWord = this.bitmapWord;
    const metaBytes = (bitmapWord + Math.ceil(maxBytes / 256)) * 4;
    const metaPages = Math.ceil(metaBytes / HEAP_PAGE_BYTES);
    if (metaPages >= maxPages) throw new HeapError(`a heap needs more than ${metaPages * HEAP_PAGE_BYTES} bytes (its metadata alone takes that much); got ${maxBytes}`);
    if (this.store.byteLength < (metaPages + 1) * HEAP_PAGE_BYTES && !this.store.grow((metaPages + 1) * HEAP_PAGE_BYTES)) {
      throw new HeapError(`the backing store holds ${this.store.byteLength} bytes; a heap of up to ${maxBytes} bytes needs ${(metaPages + 1) * HEAP_PAGE_BYTES} to start`);
    }
    this.arrayViews(); // the constructor sets the fast paths' limits when it is done
    // Clear only words that are not zero already: reading a fresh buffer's untouched pages
    // maps the kernel's zero page, so the metadata of pages never used stays out of memory.
    const words = this.words;
    for (let word = 0; word < metaBytes >>> 2; word++) if (words[word] !== 0) words[word] = 0;
    const pageCount = this.store.byteLength >>> Geometry.PageShift;
    words[H.Version] = HEAP_LAYOUT_VERSION;
    words[H.PageCount] = pageCount;
    words[H.MaxPages] = maxPages;
    words[H.MetaPages] = metaPages;
    words[H.DescriptorsWord] = descriptorsWord;
    words[H.BitmapWord] = bitmapWord;
    words[H.Debug] = debug ? 1 : 0;
    words[H.BlockCache] = blockCache ? 1 : 0;
    if (!this.shared) this.openWorkerSlot(0);
    this.floats[H.Stats + Stat.UsedPages] = metaPages;
    this.floats[H.Stats + Stat.PeakUsedPages] = metaPages;
    this.makeFreeRun(metaPages, pageCount - metaPages);
    words[H.Magic] = HEAP_MAGIC;
  }
}

function checkSize(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new HeapError(`${what}: size ${value} is not a non-negative integer`);
}

function pagesFor(sizeBytes: number): number {
  return Math.ceil(sizeBytes / HEAP_PAGE_BYTES);
}

function binOf(pages: number): number {
  return Math.min(BIN_COUNT - 1, 31 - Math.clz32(pages));
}

