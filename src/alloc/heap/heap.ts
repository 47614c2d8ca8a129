import { CLASS_COUNT, CLASS_RECIPROCALS, CLASS_SIZES, classOf, MEDIUM_LIMIT_BYTES } from "./size-classes.js";
import { HEAP_PAGE_BYTES, HEAP_PAGE_SHIFT, HeapStore, type HeapBacking } from "./heap-store.js";
import { lockMutex, unlockMutex } from "../futex-mutex.js";

/**
 * A tiered heap inside memory JavaScript manages itself (ArrayBuffer, SharedArrayBuffer,
 * WebAssembly.Memory). Every piece of allocator state lives in that memory; addresses are
 * byte offsets into it (0 is null).
 *
 * - Small and medium blocks (<= 256 KiB): 104 size classes; each class carves spans (one
 *   or more 16 KiB pages) into blocks: an intrusive free list first, then bump allocation.
 *   No block header: the page descriptor names the class, so free is O(1).
 * - Large blocks: runs of 16 KiB pages from free runs kept in power-of-two bins and merged
 *   with their neighbours on free. A freed large run goes to a region cache (kept whole for
 *   reuse by a request of about its size); eviction (by slot count, bytes or age) returns it
 *   to the free runs and counts it decommitted: its pages are zeroed lazily, only if a
 *   calloc gets them (the MADV_FREE analogue).
 * - An allocation bitmap (a bit per 8-byte granule, set at each live block's start) makes
 *   a double free, a foreign or an interior pointer an error that changes nothing.
 *
 * A SharedArrayBuffer heap can be attached from other workers; every operation then holds
 * the heap's mutex (a futex word in the header). The design the issue asks for (each worker
 * allocating from its own pages, remote frees through an atomic list) is still to come.
 */
const MAGIC = 0x4d534850; // "MSHP"
const VERSION = 1;
const NULL = 0;

const enum H {
  Magic = 0,
  Version = 1,
  PageCount = 2,
  MaxPages = 3,
  MetaPages = 4,
  DescriptorsWord = 5,
  BitmapWord = 6,
  Operations = 7,
  CacheSlots = 8,
  /** The mutex of a SharedArrayBuffer heap (see futex-mutex.ts). */
  Lock = 10,
  /** 1: debug mode (canaries and poisoning), fixed when the heap is created. */
  Debug = 9,
  ClassHeads = 64,
  Bins = ClassHeads + 112,
  Cache = Bins + 32,
  /** Float64 index of the statistics (byte 2048). */
  Stats = 256,
  DescriptorsStart = 1024,
}
const BIN_COUNT = 32;
const MAX_CACHE_SLOTS = 64;
const CACHE_SLOT_WORDS = 3;

const enum Stat {
  LiveBytes = 0,
  LiveBlocks = 1,
  PeakLiveBytes = 2,
  UsedPages = 3,
  PeakUsedPages = 4,
  CacheHits = 5,
  CacheMisses = 6,
  CacheEvictions = 7,
  DecommittedBytes = 8,
  CachedPages = 9,
  Count = 10,
}

/** Page descriptor: 8 words per page. */
const DESCRIPTOR_WORDS = 8;
const enum D {
  Kind = 0,
  Free = 1,
  Used = 2,
  Bump = 3,
  Next = 4,
  Prev = 5,
  Run = 6,
  Flags = 7,
}
const enum Kind {
  Unset = 0,
  FreeRun = 1,
  FreeLast = 2,
  Span = 3,
  SpanTail = 4,
  Large = 5,
  LargeTail = 6,
  Cached = 7,
  Meta = 8,
}
/** Debug mode: a 4-byte canary after the caller's bytes, and the size asked for in the block's last 4 bytes. */
const GUARD_BYTES = 8;
const CANARY = [0xc5, 0xa1, 0x7e, 0x5b];
const POISON = 0xdd;
/** Page flag: written since it was last zeroed (calloc must clear it). */
const DIRTY = 1;

export interface HeapOptions {
  /**
   * Debug mode (chosen when the heap is created): a canary after every block catches
   * buffer overruns at free, and freed memory is poisoned with 0xDD.
   */
  debug?: boolean;
  /** WebAssembly.Memory: the most it may grow to (default 1 GiB). */
  maxBytes?: number;
  /** Region cache limits: slots (default 16), bytes (default 64 MiB), age in heap operations (default 100,000). */
  cacheSlots?: number;
  cacheBytes?: number;
  cacheAge?: number;
}

export interface HeapStats {
  liveBytes: number;
  liveBlocks: number;
  peakLiveBytes: number;
  /**
   * liveBytes: usable bytes of live blocks (class sizes, whole pages for large blocks).
   * footprintBytes: pages in use (spans, large blocks, cached regions) and their metadata.
   */
  footprintBytes: number;
  peakFootprintBytes: number;
  heapBytes: number;
  classes: Array<{ sizeBytes: number; liveBlocks: number; spans: number }>;
  regionCache: { hits: number; misses: number; evictions: number; cachedBytes: number };
  decommittedBytes: number;
}

export class HeapError extends Error {
  override name = "HeapError";
}

type TypedArrayConstructor<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

export class Heap {
  private readonly store: HeapStore;
  private words: Int32Array;
  private bytes: Uint8Array;
  private floats: Float64Array;
  private descriptorsWord = 0;
  private bitmapWord = 0;
  private readonly cacheSlots: number;
  private readonly cacheBytes: number;
  private readonly cacheAge: number;
  private readonly debug: boolean = false;
  /** A SharedArrayBuffer heap: operations hold the heap's mutex. */
  private readonly shared: boolean;

  constructor(backing: HeapBacking, options: HeapOptions = {}) {
    this.shared = backing instanceof SharedArrayBuffer;
    this.store = new HeapStore(backing, backing instanceof WebAssembly.Memory ? (options.maxBytes ?? 1 << 30) : undefined);
    this.words = this.store.words;
    this.bytes = this.store.bytes;
    this.floats = this.store.floats;
    this.cacheSlots = Math.min(MAX_CACHE_SLOTS, options.cacheSlots ?? 16);
    this.cacheBytes = options.cacheBytes ?? 64 << 20;
    this.cacheAge = options.cacheAge ?? 100_000;
    if (this.words.length > 0 && this.words[H.Magic] === MAGIC) {
      this.debug = this.words[H.Debug] === 1;
      if (this.words[H.Version] !== VERSION) throw new HeapError(`heap version ${this.words[H.Version]}, expected ${VERSION}`);
    } else {
      this.initialise();
      this.debug = options.debug === true;
      this.words[H.Debug] = this.debug ? 1 : 0;
    }
    this.descriptorsWord = this.words[H.DescriptorsWord];
    this.bitmapWord = this.words[H.BitmapWord];
  }

  // Allocation.

  /** A block of at least `sizeBytes` (8-byte aligned); 0 when the heap is full. */
  private mallocUnlocked(sizeBytes: number): number {
    checkSize(sizeBytes, "malloc");
    if (this.debug) return this.guard(this.allocate(sizeBytes + GUARD_BYTES, false), sizeBytes);
    return this.allocate(sizeBytes, false);
  }

  /** `malloc` that throws, naming the request, when the heap is full. */
  mallocOrThrow(sizeBytes: number): number {
    const address = this.malloc(sizeBytes);
    if (address === NULL) throw new HeapError(`out of memory: malloc(${sizeBytes}) with ${this.stats().liveBytes} bytes live in a ${this.store.byteLength}-byte heap`);
    return address;
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  private callocUnlocked(count: number, sizeBytes: number): number {
    checkSize(count, "calloc count");
    checkSize(sizeBytes, "calloc");
    const total = count * sizeBytes;
    if (!Number.isSafeInteger(total) || total > this.store.maxByteLength) throw new HeapError(`calloc(${count}, ${sizeBytes}): ${count} x ${sizeBytes} bytes overflows this heap (at most ${this.store.maxByteLength} bytes)`);
    if (this.debug) return this.guard(this.allocate(total + GUARD_BYTES, true), total);
    return this.allocate(total, true);
  }

  /** A block of at least `sizeBytes` whose address is a multiple of `alignment` (a power of two). */
  private alignedAllocUnlocked(alignment: number, sizeBytes: number): number {
    checkSize(sizeBytes, "alignedAlloc");
    if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0 || alignment > this.store.maxByteLength) {
      throw new HeapError(`alignedAlloc: alignment ${alignment} is not a power of two (up to the heap size)`);
    }
    if (this.debug) return this.guard(this.allocateAligned(alignment, sizeBytes + GUARD_BYTES), sizeBytes);
    return this.allocateAligned(alignment, sizeBytes);
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
    const alignPages = Math.max(1, alignment / HEAP_PAGE_BYTES);
    const first = this.takeRun(pages, alignPages);
    if (first === 0) return NULL;
    return this.startLarge(first, pages, false);
  }

  /** Resizes, in place when it can (same class, or a large block with free pages after it). */
  private reallocUnlocked(address: number, sizeBytes: number): number {
    checkSize(sizeBytes, "realloc");
    if (address === NULL) return this.mallocUnlocked(sizeBytes);
    if (this.debug) {
      const requested = this.checkGuard(address, this.validate(address, "realloc"), "realloc");
      const fresh = sizeBytes === 0 ? NULL : this.mallocUnlocked(sizeBytes);
      if (fresh === NULL && sizeBytes > 0) return NULL;
      if (fresh !== NULL) this.bytes.copyWithin(fresh, address, address + Math.min(requested, sizeBytes));
      this.freeUnlocked(address);
      return fresh;
    }
    const page = this.validate(address, "realloc");
    const usable = this.kindOf(page) === Kind.Large ? this.descriptor(page, D.Run) * HEAP_PAGE_BYTES : CLASS_SIZES[this.classOfSpan(this.spanHead(page))];
    if (sizeBytes === 0) {
      this.freeUnlocked(address);
      return NULL;
    }
    if (this.kindOf(page) === Kind.Large) {
      if (sizeBytes > MEDIUM_LIMIT_BYTES && this.resizeLarge(page, pagesFor(sizeBytes))) return address;
    } else if (sizeBytes <= usable && sizeBytes > usable / 2) {
      return address; // same class, or shrinking a little: keep the block
    }
    const fresh = this.mallocUnlocked(sizeBytes);
    if (fresh === NULL) return NULL;
    this.bytes.copyWithin(fresh, address, address + Math.min(usable, sizeBytes));
    this.freeUnlocked(address);
    return fresh;
  }

  private freeUnlocked(address: number): void {
    if (address === NULL) return;
    const page = this.validate(address, "free");
    if (this.debug) {
      this.checkGuard(address, page, "free");
      this.bytes.fill(POISON, address, address + this.rawUsable(page));
    }
    if (this.kindOf(page) === Kind.Large) this.freeLarge(page);
    else this.freeSmall(address, this.spanHead(page));
  }

  /** Bytes the block at `address` can hold (its class size, or its pages; in debug mode, the size asked for). */
  private usableSizeUnlocked(address: number): number {
    const page = this.validate(address, "usableSize");
    if (this.debug) return this.checkGuard(address, page, "usableSize");
    return this.rawUsable(page);
  }

  private rawUsable(page: number): number {
    if (this.kindOf(page) === Kind.Large) return this.descriptor(page, D.Run) * HEAP_PAGE_BYTES;
    return CLASS_SIZES[this.classOfSpan(this.spanHead(page))];
  }

  /** Debug mode: a canary right after the caller's bytes, and their count in the block's last word. */
  private guard(address: number, sizeBytes: number): number {
    if (address === NULL) return NULL;
    const usable = this.rawUsable(address >>> HEAP_PAGE_SHIFT);
    for (let i = 0; i < CANARY.length; i++) this.bytes[address + sizeBytes + i] = CANARY[i];
    this.words[(address + usable - 4) >>> 2] = sizeBytes;
    return address;
  }

  /** Debug mode: the size asked for, after checking the canary; a HeapError (nothing changed) if it was overwritten. */
  private checkGuard(address: number, page: number, what: string): number {
    const usable = this.rawUsable(page);
    const sizeBytes = this.words[(address + usable - 4) >>> 2];
    if (sizeBytes < 0 || sizeBytes > usable - GUARD_BYTES) {
      throw new HeapError(`${what}(${hex(address)}): buffer overrun: the block's size record at ${hex(address + usable - 4)} was overwritten`);
    }
    for (let i = 0; i < CANARY.length; i++) {
      if (this.bytes[address + sizeBytes + i] !== CANARY[i]) {
        throw new HeapError(`${what}(${hex(address)}): buffer overrun past the ${sizeBytes}-byte block: the canary at ${hex(address + sizeBytes)} was overwritten`);
      }
    }
    return sizeBytes;
  }

  /** A typed array of `length` elements in a fresh block (free it with `free(array.byteOffset)`). */
  mallocAs<T>(type: TypedArrayConstructor<T>, length: number): T | null {
    const address = this.alignedAlloc(Math.max(8, type.BYTES_PER_ELEMENT), length * type.BYTES_PER_ELEMENT);
    return address === NULL ? null : new type(this.bytes.buffer, address, length);
  }

  /** Empties the region cache and releases every empty span: their pages go back to the free pages. */
  private trimUnlocked(): void {
    while (this.cachedCount() > 0) this.evictCached(0);
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) {
      for (let span = this.words[H.ClassHeads + sizeClass]; span !== 0; ) {
        const next = this.descriptor(span, D.Next);
        if (this.descriptor(span, D.Used) === 0) {
          this.unlinkClass(span, sizeClass);
          this.releasePages(span, this.descriptor(span, D.Run));
        }
        span = next;
      }
    }
  }

  // The public operations: on a SharedArrayBuffer heap each one holds the heap's mutex, so
  // workers can share the heap safely (one operation at a time; per-worker pages with
  // remote-free lists, so that workers do not wait for each other, are still to come).

  /** A block of at least `sizeBytes` (8-byte aligned); 0 when the heap is full. */
  malloc(sizeBytes: number): number {
    if (!this.shared) return this.mallocUnlocked(sizeBytes);
    lockMutex(this.words, H.Lock);
    try {
      return this.mallocUnlocked(sizeBytes);
    } finally {
      unlockMutex(this.words, H.Lock);
    }
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  calloc(count: number, sizeBytes: number): number {
    return this.locked(() => this.callocUnlocked(count, sizeBytes));
  }

  /** A block of at least `sizeBytes` whose address is a multiple of `alignment` (a power of two). */
  alignedAlloc(alignment: number, sizeBytes: number): number {
    return this.locked(() => this.alignedAllocUnlocked(alignment, sizeBytes));
  }

  /** Resizes, in place when it can (same class, or a large block with free pages after it). */
  realloc(address: number, sizeBytes: number): number {
    return this.locked(() => this.reallocUnlocked(address, sizeBytes));
  }

  free(address: number): void {
    if (!this.shared) return this.freeUnlocked(address);
    lockMutex(this.words, H.Lock);
    try {
      this.freeUnlocked(address);
    } finally {
      unlockMutex(this.words, H.Lock);
    }
  }

  /** Bytes the block at `address` can hold (its class size, or its pages; in debug mode, the size asked for). */
  usableSize(address: number): number {
    return this.locked(() => this.usableSizeUnlocked(address));
  }

  /** Empties the region cache and releases every empty span: their pages go back to the free pages. */
  trim(): void {
    this.locked(() => this.trimUnlocked());
  }

  private locked<T>(operation: () => T): T {
    if (!this.shared) return operation();
    lockMutex(this.words, H.Lock);
    try {
      return operation();
    } finally {
      unlockMutex(this.words, H.Lock);
    }
  }

  // Introspection.

  stats(): HeapStats {
    return this.locked(() => this.statsUnlocked());
  }

  /** Visits every live block: its address and usable size. */
  walk(visit: (address: number, usableBytes: number) => void): void {
    this.locked(() => this.walkUnlocked(visit));
  }

  /**
   * Verifies every invariant (pages tile the heap in runs, free runs in the right bins, span
   * counts and free lists agree with the allocation bitmap, statistics add up); throws
   * naming the first violation.
   */
  check(): void {
    this.locked(() => this.checkUnlocked());
  }

  private statsUnlocked(): HeapStats {
    const classes = Array.from({ length: CLASS_COUNT }, (_, i) => ({ sizeBytes: CLASS_SIZES[i], liveBlocks: 0, spans: 0 }));
    for (let page = this.words[H.MetaPages]; page < this.pageCount; page++) {
      if (this.kindOf(page) !== Kind.Span) continue;
      const sizeClass = this.classOfSpan(page);
      classes[sizeClass].spans++;
      classes[sizeClass].liveBlocks += this.descriptor(page, D.Used);
    }
    const f = this.floats;
    return {
      liveBytes: f[H.Stats + Stat.LiveBytes],
      liveBlocks: f[H.Stats + Stat.LiveBlocks],
      peakLiveBytes: f[H.Stats + Stat.PeakLiveBytes],
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
    };
  }

  /**
   * Bytes in use for `usedPages` pages: the pages themselves, plus the header and the share
   * of metadata that describes them (descriptor and allocation bitmap). Metadata for pages
   * never used is never touched, so (like untouched pages) it costs no memory.
   */
  private footprintOf(usedPages: number): number {
    const metadataPerPage = DESCRIPTOR_WORDS * 4 + HEAP_PAGE_BYTES / 64;
    return (usedPages - this.words[H.MetaPages]) * (HEAP_PAGE_BYTES + metadataPerPage) + H.DescriptorsStart * 4;
  }

  /** Footprint now, in O(1) (stats() also counts per class). */
  footprintBytes(): number {
    return this.footprintOf(this.floats[H.Stats + Stat.UsedPages]);
  }

  /** Visits every live block: its address and usable size. */
  private walkUnlocked(visit: (address: number, usableBytes: number) => void): void {
    for (let page = this.words[H.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (kind === Kind.Large) visit(page * HEAP_PAGE_BYTES, run * HEAP_PAGE_BYTES);
      else if (kind === Kind.Span) {
        const size = CLASS_SIZES[this.classOfSpan(page)];
        const start = page * HEAP_PAGE_BYTES;
        for (let address = start; address + size <= start + this.descriptor(page, D.Bump); address += size) if (this.isLive(address)) visit(address, size);
      }
      page += run;
    }
  }

  /**
   * Verifies every invariant: pages tile the heap in runs; free runs are in the right bin;
   * each span's used count equals its live blocks and its free list holds only dead blocks
   * of the span; the live-block statistics add up. Throws naming the first violation.
   */
  private checkUnlocked(): void {
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
    let liveBlocks = 0;
    let liveBytes = 0;
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
        const size = CLASS_SIZES[this.classOfSpan(page)];
        const start = page * HEAP_PAGE_BYTES;
        const bump = this.descriptor(page, D.Bump);
        let live = 0;
        for (let address = start; address + size <= start + bump; address += size) if (this.isLive(address)) live++;
        if (live !== this.descriptor(page, D.Used)) fail(`span at page ${page} (class ${size} B): used count ${this.descriptor(page, D.Used)}, live blocks ${live}`);
        let free = 0;
        for (let block = this.descriptor(page, D.Free); block !== NULL; block = this.words[block >>> 2]) {
          if (block < start || block >= start + bump || (block - start) % size !== 0) fail(`span at page ${page}: free list holds ${hex(block)}, not one of its blocks`);
          if (this.isLive(block)) fail(`span at page ${page}: free list holds live block ${hex(block)}`);
          if (++free > bump / size) fail(`span at page ${page}: free list loops`);
        }
        if (free + live !== Math.floor(bump / size)) fail(`span at page ${page}: ${free} free + ${live} live != ${Math.floor(bump / size)} carved blocks`);
        liveBlocks += live;
        liveBytes += live * size;
        for (let tail = page + 1; tail < page + run; tail++) if (this.kindOf(tail) !== Kind.SpanTail || this.descriptor(tail, D.Run) !== page) fail(`span at page ${page}: page ${tail} is not its tail`);
      } else if (kind === Kind.Large) {
        usedPages += run;
        if (!this.isLive(page * HEAP_PAGE_BYTES)) fail(`large block at page ${page} is not marked live`);
        liveBlocks++;
        liveBytes += run * HEAP_PAGE_BYTES;
      } else if (kind === Kind.Cached) {
        usedPages += run;
        cachedPages += run;
      } else {
        fail(`page ${page} has kind ${kind} where a run should start`);
      }
      page += run;
    }
    if (binned.size > 0) fail(`bins hold pages that start no run: ${[...binned].join(", ")}`);
    const f = this.floats;
    if (f[H.Stats + Stat.LiveBlocks] !== liveBlocks) fail(`statistics: ${f[H.Stats + Stat.LiveBlocks]} live blocks, counted ${liveBlocks}`);
    if (f[H.Stats + Stat.UsedPages] !== usedPages) fail(`statistics: ${f[H.Stats + Stat.UsedPages]} pages in use, counted ${usedPages}`);
    if (f[H.Stats + Stat.CachedPages] !== cachedPages) fail(`statistics: ${f[H.Stats + Stat.CachedPages]} cached pages, counted ${cachedPages}`);
    if (f[H.Stats + Stat.LiveBytes] !== liveBytes) fail(`statistics: ${f[H.Stats + Stat.LiveBytes]} live bytes, counted ${liveBytes}`);
  }

  // Small and medium blocks.

  private allocate(sizeBytes: number, zero: boolean): number {
    if (sizeBytes <= MEDIUM_LIMIT_BYTES) {
      return this.allocateSmall(classOf(Math.max(sizeBytes, 1)), zero);
    }
    return this.allocateLarge(pagesFor(sizeBytes), zero);
  }

  private allocateSmall(sizeClass: number, zero: boolean): number {
    const size = CLASS_SIZES[sizeClass];
    let span = this.words[H.ClassHeads + sizeClass];
    if (span === 0) {
      span = this.newSpan(sizeClass);
      if (span === 0) return NULL;
    }
    const words = this.words;
    const base = this.descriptorsWord + span * DESCRIPTOR_WORDS;
    let address = words[base + D.Free];
    if (address !== NULL) {
      words[base + D.Free] = words[address >>> 2];
    } else {
      address = span * HEAP_PAGE_BYTES + words[base + D.Bump];
      words[base + D.Bump] += size;
    }
    words[base + D.Used]++;
    if (words[base + D.Free] === NULL && words[base + D.Bump] + size > words[base + D.Run] * HEAP_PAGE_BYTES) {
      this.unlinkClass(span, sizeClass); // full: out of the class's list until a block comes back
    }
    this.setLive(address, true);
    this.adjustLive(size, 1);
    if (zero) this.bytes.fill(0, address, address + size);
    return address;
  }

  private freeSmall(address: number, span: number): void {
    const words = this.words;
    const base = this.descriptorsWord + span * DESCRIPTOR_WORDS;
    const sizeClass = words[base + D.Kind] >>> 8;
    const size = CLASS_SIZES[sizeClass];
    const wasFull = words[base + D.Free] === NULL && words[base + D.Bump] + size > words[base + D.Run] * HEAP_PAGE_BYTES;
    this.setLive(address, false);
    words[address >>> 2] = words[base + D.Free];
    words[base + D.Free] = address;
    const used = --words[base + D.Used];
    this.adjustLive(-size, -1);
    if (wasFull) this.linkClass(span, sizeClass);
    // An empty span goes back to the free pages, unless it is its class's only one.
    if (used === 0 && (this.words[H.ClassHeads + sizeClass] !== span || this.descriptor(span, D.Next) !== 0)) {
      this.unlinkClass(span, sizeClass);
      this.releasePages(span, this.descriptor(span, D.Run));
    }
  }

  private newSpan(sizeClass: number): number {
    const size = CLASS_SIZES[sizeClass];
    const pages = Math.max(1, Math.ceil((size * 4) / HEAP_PAGE_BYTES));
    const span = this.takeRun(pages, 1);
    if (span === 0) return 0;
    this.setDescriptor(span, D.Kind, Kind.Span | (sizeClass << 8));
    this.setDescriptor(span, D.Free, NULL);
    this.setDescriptor(span, D.Used, 0);
    this.setDescriptor(span, D.Bump, 0);
    this.setDescriptor(span, D.Run, pages);
    for (let tail = span + 1; tail < span + pages; tail++) {
      this.setDescriptor(tail, D.Kind, Kind.SpanTail);
      this.setDescriptor(tail, D.Run, span);
    }
    this.markDirty(span, pages);
    this.usePages(pages);
    this.linkClass(span, sizeClass);
    return span;
  }

  // Large blocks and the region cache.

  private allocateLarge(pages: number, zero: boolean): number {
    this.tick();
    const cached = this.takeCached(pages);
    if (cached !== 0) {
      this.floats[H.Stats + Stat.CacheHits]++;
      const run = this.descriptor(cached, D.Run);
      this.floats[H.Stats + Stat.CachedPages] -= run;
      this.setDescriptor(cached, D.Kind, Kind.Large);
      this.setLive(cached * HEAP_PAGE_BYTES, true);
      this.adjustLive(run * HEAP_PAGE_BYTES, 1);
      if (zero) this.zeroDirty(cached, run);
      return cached * HEAP_PAGE_BYTES;
    }
    this.floats[H.Stats + Stat.CacheMisses]++;
    const first = this.takeRun(pages, 1);
    return first === 0 ? NULL : this.startLarge(first, pages, zero);
  }

  private startLarge(first: number, pages: number, zero: boolean): number {
    this.setDescriptor(first, D.Kind, Kind.Large);
    this.setDescriptor(first, D.Run, pages);
    for (let tail = first + 1; tail < first + pages; tail++) {
      this.setDescriptor(tail, D.Kind, Kind.LargeTail);
      this.setDescriptor(tail, D.Run, first);
    }
    if (zero) this.zeroDirty(first, pages);
    this.markDirty(first, pages);
    this.usePages(pages);
    this.setLive(first * HEAP_PAGE_BYTES, true);
    this.adjustLive(pages * HEAP_PAGE_BYTES, 1);
    return first * HEAP_PAGE_BYTES;
  }

  private freeLarge(page: number): void {
    this.tick();
    const run = this.descriptor(page, D.Run);
    this.setLive(page * HEAP_PAGE_BYTES, false);
    this.adjustLive(-run * HEAP_PAGE_BYTES, -1);
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
      this.adjustLive((pages - run) * HEAP_PAGE_BYTES, 0);
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
    this.markDirty(next, extra);
    this.usePages(extra);
    this.setDescriptor(page, D.Run, pages);
    this.adjustLive(extra * HEAP_PAGE_BYTES, 0);
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

  // Page runs.

  /** Takes a run of `pages` pages starting at a multiple of `alignPages`; 0 if none (after growing the store). */
  private takeRun(pages: number, alignPages: number): number {
    for (let attempt = 0; attempt < 3; attempt++) {
      const found = this.findRun(pages, alignPages);
      if (found !== 0) return found;
      if (attempt === 0 && this.cachedCount() > 0) this.trimUnlocked();
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
    this.words = this.store.words;
    this.bytes = this.store.bytes;
    this.floats = this.store.floats;
    this.words[H.PageCount] = target;
    this.releasePages(pageCount, target - pageCount);
    this.usePages(target - pageCount); // releasePages counted them as returned
    return true;
  }

  // Class lists.

  private linkClass(span: number, sizeClass: number): void {
    const head = this.words[H.ClassHeads + sizeClass];
    this.setDescriptor(span, D.Next, head);
    this.setDescriptor(span, D.Prev, 0);
    if (head !== 0) this.setDescriptor(head, D.Prev, span);
    this.words[H.ClassHeads + sizeClass] = span;
  }

  private unlinkClass(span: number, sizeClass: number): void {
    const next = this.descriptor(span, D.Next);
    const previous = this.descriptor(span, D.Prev);
    if (previous === 0) {
      if (this.words[H.ClassHeads + sizeClass] !== span) return; // not linked
      this.words[H.ClassHeads + sizeClass] = next;
    } else this.setDescriptor(previous, D.Next, next);
    if (next !== 0) this.setDescriptor(next, D.Prev, previous);
    this.setDescriptor(span, D.Next, 0);
    this.setDescriptor(span, D.Prev, 0);
  }

  // Validation.

  /** The page of a live block at `address`, or a HeapError naming what is wrong. */
  private validate(address: number, what: string): number {
    // Fast path: the start of a live block in a span's first page (the common free).
    if (address >= 0 && address < this.bytes.length) {
      const page = address >>> HEAP_PAGE_SHIFT;
      const base = this.descriptorsWord + page * DESCRIPTOR_WORDS;
      const kindWord = this.words[base + D.Kind];
      if ((kindWord & 0xff) === Kind.Span) {
        const sizeClass = kindWord >>> 8;
        const offset = address - page * HEAP_PAGE_BYTES;
        // offset % size without a division: exact for offsets below 2^24.
        const index = Math.round(offset * CLASS_RECIPROCALS[sizeClass]);
        if (index * CLASS_SIZES[sizeClass] === offset && offset < this.words[base + D.Bump] && this.isLive(address)) return page;
      }
    }
    return this.validateSlowly(address, what);
  }

  /** Every other case of validate, and the errors. */
  private validateSlowly(address: number, what: string): number {
    if (!Number.isInteger(address) || address < 0 || address >= this.store.byteLength) throw new HeapError(`${what}(${hexOrValue(address)}): not an address in this heap (0 .. ${hex(this.store.byteLength)})`);
    const page = address >>> HEAP_PAGE_SHIFT;
    if (page < this.words[H.MetaPages]) throw new HeapError(`${what}(${hex(address)}): inside the heap's own metadata, never returned by malloc`);
    const kind = this.kindOf(page);
    if (kind === Kind.Large || kind === Kind.LargeTail) {
      const head = kind === Kind.Large ? page : this.descriptor(page, D.Run);
      if (this.kindOf(head) === Kind.Large && address === head * HEAP_PAGE_BYTES && this.isLive(address)) return head;
      if (this.kindOf(head) === Kind.Large && page < head + this.descriptor(head, D.Run)) throw new HeapError(`${what}(${hex(address)}): an interior pointer into the large block at ${hex(head * HEAP_PAGE_BYTES)}`);
    } else if (kind === Kind.Span || kind === Kind.SpanTail) {
      const head = kind === Kind.Span ? page : this.descriptor(page, D.Run);
      if (this.kindOf(head) === Kind.Span && page < head + this.descriptor(head, D.Run)) {
        const size = CLASS_SIZES[this.classOfSpan(head)];
        const offset = address - head * HEAP_PAGE_BYTES;
        if (offset % size !== 0 || offset >= this.descriptor(head, D.Bump)) {
          throw new HeapError(`${what}(${hex(address)}): an interior pointer into the ${size}-byte block at ${hex(address - (offset % size))}`);
        }
        if (this.isLive(address)) return page;
        throw new HeapError(`${what}(${hex(address)}): not allocated (a double free?)`);
      }
    }
    throw new HeapError(`${what}(${hex(address)}): not allocated (a double free, or a pointer this heap never returned)`);
  }

  // Words.

  private get pageCount(): number {
    return this.words[H.PageCount];
  }

  private descriptor(page: number, field: D): number {
    return this.words[this.descriptorsWord + page * DESCRIPTOR_WORDS + field];
  }

  private setDescriptor(page: number, field: D, value: number): void {
    this.words[this.descriptorsWord + page * DESCRIPTOR_WORDS + field] = value;
  }

  private kindOf(page: number): Kind {
    return this.descriptor(page, D.Kind) & 0xff;
  }

  private classOfSpan(span: number): number {
    return this.descriptor(span, D.Kind) >>> 8;
  }

  private spanHead(page: number): number {
    return this.kindOf(page) === Kind.SpanTail ? this.descriptor(page, D.Run) : page;
  }

  private runOf(page: number, kind: Kind): number {
    return kind === Kind.Span || kind === Kind.Large || kind === Kind.Cached || kind === Kind.FreeRun ? this.descriptor(page, D.Run) : 1;
  }

  private isLive(address: number): boolean {
    return (this.words[this.bitmapWord + (address >>> 8)] & (1 << ((address >>> 3) & 31))) !== 0;
  }

  private setLive(address: number, live: boolean): void {
    const at = this.bitmapWord + (address >>> 8);
    const bit = 1 << ((address >>> 3) & 31);
    this.words[at] = live ? this.words[at] | bit : this.words[at] & ~bit;
  }

  private markDirty(first: number, pages: number): void {
    for (let page = first; page < first + pages; page++) this.setDescriptor(page, D.Flags, DIRTY);
  }

  /** calloc of pages: zero those written since they were last zeroed. */
  private zeroDirty(first: number, pages: number): void {
    for (let page = first; page < first + pages; page++) {
      if ((this.descriptor(page, D.Flags) & DIRTY) !== 0) this.bytes.fill(0, page * HEAP_PAGE_BYTES, (page + 1) * HEAP_PAGE_BYTES);
    }
  }

  private usePages(pages: number): void {
    const f = this.floats;
    f[H.Stats + Stat.UsedPages] += pages;
    if (f[H.Stats + Stat.UsedPages] > f[H.Stats + Stat.PeakUsedPages]) f[H.Stats + Stat.PeakUsedPages] = f[H.Stats + Stat.UsedPages];
  }

  private adjustLive(bytes: number, blocks: number): void {
    const f = this.floats;
    f[H.Stats + Stat.LiveBytes] += bytes;
    f[H.Stats + Stat.LiveBlocks] += blocks;
    if (f[H.Stats + Stat.LiveBytes] > f[H.Stats + Stat.PeakLiveBytes]) f[H.Stats + Stat.PeakLiveBytes] = f[H.Stats + Stat.LiveBytes];
  }

  private tick(): void {
    this.words[H.Operations]++;
  }

  private initialise(): void {
    const maxBytes = this.store.maxByteLength;
    const maxPages = maxBytes >>> HEAP_PAGE_SHIFT;
    const descriptorsWord = H.DescriptorsStart;
    const bitmapWord = descriptorsWord + maxPages * DESCRIPTOR_WORDS;
    const metaBytes = (bitmapWord + Math.ceil(maxBytes / 256)) * 4;
    const metaPages = Math.ceil(metaBytes / HEAP_PAGE_BYTES);
    if (metaPages >= maxPages) throw new HeapError(`a heap needs more than ${metaPages * HEAP_PAGE_BYTES} bytes (its metadata alone takes that much); got ${maxBytes}`);
    if (this.store.byteLength < (metaPages + 1) * HEAP_PAGE_BYTES && !this.store.grow((metaPages + 1) * HEAP_PAGE_BYTES)) {
      throw new HeapError(`the backing store holds ${this.store.byteLength} bytes; a heap of up to ${maxBytes} bytes needs ${(metaPages + 1) * HEAP_PAGE_BYTES} to start`);
    }
    this.words = this.store.words;
    this.bytes = this.store.bytes;
    this.floats = this.store.floats;
    this.bytes.fill(0, 0, metaBytes);
    const pageCount = this.store.byteLength >>> HEAP_PAGE_SHIFT;
    this.words[H.Magic] = MAGIC;
    this.words[H.Version] = VERSION;
    this.words[H.PageCount] = pageCount;
    this.words[H.MaxPages] = maxPages;
    this.words[H.MetaPages] = metaPages;
    this.words[H.DescriptorsWord] = descriptorsWord;
    this.words[H.BitmapWord] = bitmapWord;
    for (let page = 0; page < metaPages; page++) this.words[descriptorsWord + page * DESCRIPTOR_WORDS + D.Kind] = Kind.Meta;
    this.descriptorsWord = descriptorsWord;
    this.bitmapWord = bitmapWord;
    this.floats[H.Stats + Stat.UsedPages] = metaPages;
    this.floats[H.Stats + Stat.PeakUsedPages] = metaPages;
    this.makeFreeRun(metaPages, pageCount - metaPages);
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

function hex(value: number): string {
  return `0x${value.toString(16)}`;
}

function hexOrValue(value: number): string {
  return Number.isInteger(value) && value >= 0 ? hex(value) : String(value);
}
