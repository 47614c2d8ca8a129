import { PAGE_SHIFT, PAGE_SIZE_BYTES, TWO_POW_32 } from "./address.js";
import { fetchByParcels, loadCrossing, storeCrossing, type BackendCounters, type MemoryBackend } from "./backend.js";
import { FramePool, ZERO_FRAME } from "./frame-pool.js";
import { PageTable } from "./page-table.js";

/**
 * Page geometry as a const enum, so the hot path compiles to literals (module constants
 * cost a context load and count against TurboFan's inlining budget).
 */
const enum Paging {
  Shift = 12,
  OffsetMask = 0xfff,
  /** Last in-page offset at which an access of each width still fits in the page. */
  LastOffset2 = 4094,
  LastOffset4 = 4092,
  LastOffset8 = 4088,
}

/**
 * Direct-mapped page cache size. The reference workload's page reuse distance is 65% at 1
 * and a 32-entry direct-mapped cache hits 99.5%.
 */
const CACHE_SLOTS = 32;
/** A huge frame is 2^HUGE_ORDER page frames: 2 MiB, the x86-64 and RISC-V Sv39/48 megapage. */
export const HUGE_ORDER = 9;
/** Pages of a huge frame. */
export const HUGE_PAGES = 1 << HUGE_ORDER;
const HUGE_PAGE_MASK = HUGE_PAGES - 1;
const CACHE_MASK = CACHE_SLOTS - 1;
/** Tag of an empty slot or register: page-low tags are 20-bit, so -1 never matches. */
const NO_TAG = -1;

/**
 * The fast backend: pooled 4 KiB frames, an open-addressing page table, two direct-mapped
 * page caches in front of it (one for loads, one for stores) and, in front of the load
 * cache, a last-page register for 2-byte loads (instruction fetch).
 *
 * The store cache holds only frames this space owns alone, so copy-on-write after a
 * snapshot costs nothing on the hit path; untouched pages map to the shared zero frame and
 * get a private frame on their first store. `hi` may be passed as u32 or int32.
 */
export class PagedBackend implements MemoryBackend {
  /** Always "paged". */
  readonly kind = "paged" as const;
  /** High 32 bits of the value of the last `load64`. */
  loadHigh = 0;

  private loads = 0;
  private stores = 0;
  private cacheMisses = 0;
  private privatePages = 0;
  /** Pages written or discarded since the last takeDirtyPages (null: not tracking). */
  private dirtyPages: Set<number> | null = null;

  // The 2-byte-load register: page-low tag (20 bits), high half, frame view and byte offset.
  private fetchPageLo = NO_TAG;
  private fetchPageHi = 0;
  private fetchView: DataView;
  private fetchBase = 0;

  // Direct-mapped caches, indexed by the low page bits.
  private readonly readTagLo = new Int32Array(CACHE_SLOTS).fill(NO_TAG);
  private readonly readTagHi = new Int32Array(CACHE_SLOTS);
  private readonly readBases = new Int32Array(CACHE_SLOTS);
  private readonly readViews: DataView[];
  private readonly writeTagLo = new Int32Array(CACHE_SLOTS).fill(NO_TAG);
  private readonly writeTagHi = new Int32Array(CACHE_SLOTS);
  private readonly writeBases = new Int32Array(CACHE_SLOTS);
  private readonly writeViews: DataView[];

  /**
   * A backend on `pool` (by default a private one), `table` and `hugeTable`; a fork passes its parent's pool
   * and copies of its tables.
   */
  constructor(
    private readonly pool: FramePool = new FramePool(),
    private readonly table: PageTable = new PageTable(),
    /**
     * The huge leaves: one entry per 2 MiB-aligned run of 512 pages backed by one huge frame, keyed by the
     * page number shifted right by HUGE_ORDER, giving the run's first frame. A page is in at most one table.
     */
    private readonly hugeTable: PageTable = new PageTable(),
  ) {
    const zeroView = pool.viewOf(ZERO_FRAME);
    this.readViews = new Array<DataView>(CACHE_SLOTS).fill(zeroView);
    this.writeViews = new Array<DataView>(CACHE_SLOTS).fill(zeroView);
    this.fetchView = zeroView;
    table.forEach((_page, frame) => {
      if (frame !== ZERO_FRAME) this.privatePages++;
    });
    this.privatePages += hugeTable.size * HUGE_PAGES;
  }

  // Hot path. A 2-byte load compares its page with the fetch register; other accesses look
  // their page up in the direct-mapped cache of their kind. A miss fills the register or the
  // slot (cache, then page table) and goes on as on a hit. Lessons from profiling the replay
  // loop (node --cpu-prof, --trace-turbo-inlining, callgrind):
  // - keep these methods small, so TurboFan inlines them into the replay loop;
  // - a call that is not inlined boxes every u32 argument >= 2^30 (a heap number per
  //   access, then GC), so the out-of-line miss calls take only the page's low 20 bits and
  //   the high half, and never a value;
  // - 2-byte loads get their own register: instruction fetch reads 16-bit parcels, and a
  //   separate "I-TLB" keeps the code page while data accesses move between pages;
  // - data accesses have no register of their own: on the ExecBlock shape two in three of
  //   them left the page of the one before (of their kind), and each such switch cost an
  //   out-of-line call and four field stores (~100 host instructions), where the cache
  //   lookup costs a few on every access;
  // - frame offsets are `(base + offset) | 0`: a base is below 2^31, and without the `| 0`
  //   TurboFan checks each addition for overflow; a miss call's slot is `| 0` too, so the
  //   slot merged from hit and miss stays an int32, not a tagged value.

  /** Loads a byte through the load cache. */
  load8(lo: number, hi: number): number {
    const slot = this.readSlot(lo >>> Paging.Shift, hi);
    return this.readViews[slot].getUint8((this.readBases[slot] + (lo & Paging.OffsetMask)) | 0);
  }

  /** Loads a little-endian u16 through the 2-byte-load register. */
  load16(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.fetchPageLo || hi !== this.fetchPageHi || offset > Paging.LastOffset2) {
      if (offset > Paging.LastOffset2) return this.loadCrossing(lo, hi, 2);
      this.selectFetchPage(lo >>> Paging.Shift, hi);
    }
    return this.fetchView.getUint16((this.fetchBase + offset) | 0, true);
  }

  /** Loads a little-endian u32 through the load cache. */
  load32(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (offset > Paging.LastOffset4) return this.loadCrossing(lo, hi, 4);
    const slot = this.readSlot(lo >>> Paging.Shift, hi);
    return this.readViews[slot].getUint32((this.readBases[slot] + offset) | 0, true);
  }

  /** Loads a little-endian u64 through the load cache: low half returned, high half in `loadHigh`. */
  load64(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (offset > Paging.LastOffset8) return this.loadCrossing(lo, hi, 8);
    const slot = this.readSlot(lo >>> Paging.Shift, hi);
    const view = this.readViews[slot];
    const at = (this.readBases[slot] + offset) | 0;
    this.loadHigh = view.getUint32((at + 4) | 0, true);
    return view.getUint32(at, true);
  }

  /** Stores a byte through the store cache, copying a shared frame first. */
  store8(lo: number, hi: number, value: number): void {
    const slot = this.writeSlot(lo >>> Paging.Shift, hi);
    this.writeViews[slot].setUint8((this.writeBases[slot] + (lo & Paging.OffsetMask)) | 0, value);
  }

  /** Stores a little-endian u16 through the store cache. */
  store16(lo: number, hi: number, value: number): void {
    const offset = lo & Paging.OffsetMask;
    if (offset > Paging.LastOffset2) return this.storeCrossing(lo, hi, 2, value, 0);
    const slot = this.writeSlot(lo >>> Paging.Shift, hi);
    this.writeViews[slot].setUint16((this.writeBases[slot] + offset) | 0, value, true);
  }

  /** Stores a little-endian u32 through the store cache. */
  store32(lo: number, hi: number, value: number): void {
    const offset = lo & Paging.OffsetMask;
    if (offset > Paging.LastOffset4) return this.storeCrossing(lo, hi, 4, value, 0);
    const slot = this.writeSlot(lo >>> Paging.Shift, hi);
    this.writeViews[slot].setUint32((this.writeBases[slot] + offset) | 0, value, true);
  }

  /** Stores the little-endian u64 `(valueLo, valueHi)` through the store cache. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    const offset = lo & Paging.OffsetMask;
    if (offset > Paging.LastOffset8) return this.storeCrossing(lo, hi, 8, valueLo, valueHi);
    const slot = this.writeSlot(lo >>> Paging.Shift, hi);
    const view = this.writeViews[slot];
    const at = (this.writeBases[slot] + offset) | 0;
    view.setUint32(at, valueLo, true);
    view.setUint32((at + 4) | 0, valueHi, true);
  }

  /**
   * One page check for both parcels of a 32-bit instruction (the 2-byte-load register);
   * a miss or an instruction at the page's end goes the plain way, through load16.
   */
  fetchInstruction(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.fetchPageLo || hi !== this.fetchPageHi || offset > Paging.LastOffset4) {
      return this.fetchByParcels(lo, hi);
    }
    // Both parcels in one read (offset <= 4092 keeps it in the page), split if compressed.
    const word = this.fetchView.getInt32((this.fetchBase + offset) | 0, true);
    return (word & 3) !== 3 ? word & 0xffff : word;
  }

  /** Adds to the load and store counters. */
  countAccesses(loads: number, stores: number): void {
    this.loads += loads;
    this.stores += stores;
  }

  private fetchByParcels(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }

  private loadCrossing(lo: number, hi: number, widthBytes: number): number {
    return loadCrossing(this, lo, hi, widthBytes);
  }

  private storeCrossing(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    storeCrossing(this, lo, hi, widthBytes, valueLo, valueHi);
  }

  /** Points the 2-byte-load register at the page (`pageLo` = its low 20 bits). */
  private selectFetchPage(pageLo: number, hi: number): void {
    const slot = this.readSlot(pageLo, hi);
    this.fetchPageLo = pageLo;
    this.fetchPageHi = hi;
    this.fetchView = this.readViews[slot];
    this.fetchBase = this.readBases[slot];
  }

  /** The load-cache slot holding the page (`pageLo` = its low 20 bits), filled first on a miss. */
  private readSlot(pageLo: number, hi: number): number {
    const slot = pageLo & CACHE_MASK;
    if (this.readTagLo[slot] === pageLo && this.readTagHi[slot] === (hi | 0)) return slot;
    return this.readMiss(pageLo, hi) | 0;
  }

  /** The store-cache slot holding the page, made private to this space first on a miss. */
  private writeSlot(pageLo: number, hi: number): number {
    const slot = pageLo & CACHE_MASK;
    if (this.writeTagLo[slot] === pageLo && this.writeTagHi[slot] === (hi | 0)) return slot;
    return this.writeMiss(pageLo, hi) | 0;
  }

  /** Copies out of the page's frame, or zeros for a page with none. */
  readPage(pageNumber: number, offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    const frame = this.frameOf(pageNumber % TWO_POW_32, Math.floor(pageNumber / TWO_POW_32));
    if (frame < 0) {
      dst.fill(0, dstOffset, dstOffset + lengthBytes);
      return;
    }
    const base = this.pool.baseOf(frame) + offset;
    dst.set(this.pool.bytesOf(frame).subarray(base, base + lengthBytes), dstOffset);
  }

  /** Copies into the page's frame, made private to this backend first. */
  writePage(pageNumber: number, offset: number, src: Uint8Array, srcOffset: number, lengthBytes: number): void {
    const frame = this.ownFrame(pageNumber % TWO_POW_32, Math.floor(pageNumber / TWO_POW_32));
    this.pool.bytesOf(frame).set(src.subarray(srcOffset, srcOffset + lengthBytes), this.pool.baseOf(frame) + offset);
  }

  /**
   * Backs each 2 MiB-aligned run of 512 pages inside the range with one huge frame, when the pool has one free
   * and no page of the run has a frame of its own yet; the others keep taking 4 KiB frames on first write.
   * Returns the number of huge leaves made.
   */
  mapHuge(firstPage: number, pageCount: number): number {
    let made = 0;
    const endRun = Math.floor((firstPage + pageCount) / HUGE_PAGES);
    for (let run = Math.ceil(firstPage / HUGE_PAGES); run < endRun; run++) {
      const runLo = run % TWO_POW_32;
      const runHi = Math.floor(run / TWO_POW_32);
      if (this.hugeTable.get(runLo, runHi) >= 0 || this.runHasFrames(run * HUGE_PAGES)) continue;
      const head = this.pool.allocateRun(HUGE_ORDER);
      // No free huge frame now: the pool is fragmented or full, and the next run would fare no better.
      if (head < 0) break;
      for (let page = run * HUGE_PAGES; page < (run + 1) * HUGE_PAGES; page++) this.table.delete(page % TWO_POW_32, Math.floor(page / TWO_POW_32));
      this.hugeTable.set(runLo, runHi, head);
      this.privatePages += HUGE_PAGES;
      made++;
    }
    // Load-cache slots may map pages of the new leaves to the zero frame.
    if (made > 0) this.invalidateCaches();
    return made;
  }

  /** Number of huge leaves: 2 MiB runs of pages mapped by one entry to one huge frame. */
  get hugeLeaves(): number {
    return this.hugeTable.size;
  }

  /** Releases the frames of the range's pages: they read as zero again, and count as dirty. */
  discardPages(firstPage: number, pageCount: number): void {
    this.invalidateCaches();
    if (this.hugeTable.size > 0) this.discardHuge(firstPage, pageCount);
    if (pageCount <= this.table.size) {
      for (let page = firstPage; page < firstPage + pageCount; page++) {
        const frame = this.table.delete(page % TWO_POW_32, Math.floor(page / TWO_POW_32));
        if (frame > ZERO_FRAME && this.dirtyPages !== null) this.dirtyPages.add(page);
        this.dropFrame(frame);
      }
      return;
    }
    // A range larger than the table: visit the entries instead of the pages.
    const doomed: number[] = [];
    this.table.forEach((page) => {
      if (page >= firstPage && page < firstPage + pageCount) doomed.push(page);
    });
    for (const page of doomed) {
      const frame = this.table.delete(page % TWO_POW_32, Math.floor(page / TWO_POW_32));
      if (frame > ZERO_FRAME && this.dirtyPages !== null) this.dirtyPages.add(page);
      this.dropFrame(frame);
    }
  }

  /** Visits every page with a frame of its own (not the zero frame), the pages of huge leaves included. */
  forEachResidentPage(visit: (pageNumber: number) => void): void {
    this.table.forEach((pageNumber, frame) => {
      if (frame !== ZERO_FRAME) visit(pageNumber);
    });
    this.hugeTable.forEach((run) => {
      for (let page = run * HUGE_PAGES; page < (run + 1) * HUGE_PAGES; page++) visit(page);
    });
  }

  /** The pages written or discarded since the previous call; null on the first call, which starts the tracking. */
  takeDirtyPages(): number[] | null {
    const dirty = this.dirtyPages;
    this.dirtyPages = new Set();
    // Stores that hit a cached page would not be seen: the next store to each page misses.
    this.invalidateCaches();
    return dirty === null ? null : [...dirty];
  }

  /** A copy-on-write fork sharing every frame; the first store to a shared frame, on either side, copies it. */
  fork(): PagedBackend {
    this.table.forEach((_page, frame) => this.pool.retain(frame));
    this.hugeTable.forEach((_run, head) => this.pool.retain(head));
    // Every private frame is shared now: stores must copy first, on both sides.
    this.invalidateCaches();
    return new PagedBackend(this.pool, this.table.clone(), this.hugeTable.clone());
  }

  /** The counters now, with the page-cache hits and misses. */
  counters(): BackendCounters {
    const accesses = this.loads + this.stores;
    return {
      loads: this.loads,
      stores: this.stores,
      touchedPages: this.table.size + this.hugeTable.size * HUGE_PAGES,
      residentPages: this.privatePages,
      residentBytes: this.privatePages * PAGE_SIZE_BYTES,
      cacheHits: accesses - this.cacheMisses,
      cacheMisses: this.cacheMisses,
      hugeLeaves: this.hugeTable.size,
    };
  }

  /** Fills the load-cache slot of the page; an untouched page maps to the zero frame. */
  private readMiss(pageLo: number, hi: number): number {
    this.cacheMisses++;
    const keyLo = (hi << (32 - PAGE_SHIFT)) | pageLo;
    const keyHi = hi >>> PAGE_SHIFT;
    let frame = this.frameOf(keyLo, keyHi);
    if (frame < 0) {
      frame = ZERO_FRAME;
      this.table.set(keyLo, keyHi, ZERO_FRAME);
    }
    const slot = pageLo & CACHE_MASK;
    this.readTagLo[slot] = pageLo;
    this.readTagHi[slot] = hi;
    this.readViews[slot] = this.pool.viewOf(frame);
    this.readBases[slot] = this.pool.baseOf(frame);
    return slot;
  }

  /** Fills the store-cache slot (and the load-cache slot) with a frame this space owns. */
  private writeMiss(pageLo: number, hi: number): number {
    const frame = this.ownFrame((hi << (32 - PAGE_SHIFT)) | pageLo, hi >>> PAGE_SHIFT);
    // Counted once the frame is had: a store that fails (no frame free) is no access.
    this.cacheMisses++;
    const slot = pageLo & CACHE_MASK;
    const view = this.pool.viewOf(frame);
    const base = this.pool.baseOf(frame);
    this.writeTagLo[slot] = pageLo;
    this.writeTagHi[slot] = hi;
    this.writeViews[slot] = view;
    this.writeBases[slot] = base;
    this.readTagLo[slot] = pageLo;
    this.readTagHi[slot] = hi;
    this.readViews[slot] = view;
    this.readBases[slot] = base;
    return slot;
  }

  /** The page's frame, made private first (allocated, or copied if shared). */
  private ownFrame(keyLo: number, keyHi: number): number {
    if (this.dirtyPages !== null) this.dirtyPages.add(keyHi * 2 ** 32 + (keyLo >>> 0));
    // The huge table first, as in frameOf.
    if (this.hugeTable.size > 0) {
      const head = this.hugeTable.get(hugeRunLo(keyLo, keyHi), keyHi >>> HUGE_ORDER);
      if (head >= 0) {
        if (!this.pool.isShared(head)) return head + (keyLo & HUGE_PAGE_MASK);
        // Shared since a fork: copy-on-write a page at a time, so the leaf becomes 512 private pages.
        this.splitHuge(hugeRunLo(keyLo, keyHi), keyHi >>> HUGE_ORDER, head);
      }
    }
    const frame = this.table.get(keyLo, keyHi);
    if (frame >= 0 && !this.pool.isShared(frame)) return frame;
    const fresh = this.pool.allocate();
    if (frame > ZERO_FRAME) {
      this.pool.copyFrame(frame, fresh);
      this.pool.release(frame);
    }
    this.table.set(keyLo, keyHi, fresh);
    // A page that had a (shared) frame of its own was already counted.
    if (frame <= ZERO_FRAME) this.privatePages++;
    // The fetch register and the load-cache slot may still point at the old frame.
    this.readTagLo[keyLo & CACHE_MASK] = NO_TAG;
    this.fetchPageLo = NO_TAG;
    return fresh;
  }

  /**
   * The page's frame: its own, or its place in a huge leaf; -1 if it has none. A page is in
   * one table or the other, never both; the huge table, much the smaller, is asked first when
   * it has leaves, so a miss on a huge page is one lookup, not two.
   */
  private frameOf(keyLo: number, keyHi: number): number {
    if (this.hugeTable.size > 0) {
      const head = this.hugeTable.get(hugeRunLo(keyLo, keyHi), keyHi >>> HUGE_ORDER);
      if (head >= 0) return head + (keyLo & HUGE_PAGE_MASK);
    }
    return this.table.get(keyLo, keyHi);
  }

  /** Whether any of the 512 pages from `firstPage` has a frame of its own. */
  private runHasFrames(firstPage: number): boolean {
    for (let page = firstPage; page < firstPage + HUGE_PAGES; page++) {
      if (this.table.get(page % TWO_POW_32, Math.floor(page / TWO_POW_32)) > ZERO_FRAME) return true;
    }
    return false;
  }

  /**
   * Turns the huge leaf of run `(runLo, runHi)` into 512 entries with private 4 KiB copies of its pages, and
   * drops this space's reference to the huge frame. A huge frame cannot be given back in parts (the frame
   * allocator frees a run whole), so the pages are copied rather than split in place.
   */
  private splitHuge(runLo: number, runHi: number, head: number): void {
    const firstLo = (runLo << HUGE_ORDER) | 0;
    const keyHi = (runHi << HUGE_ORDER) | (runLo >>> (32 - HUGE_ORDER));
    // All 512 frames first: when the source runs out midway, they go back and the leaf stays
    // whole (a half-split leaf would have pages the next attempt overwrites, leaking frames).
    const fresh = SPLIT_FRAMES;
    let taken = 0;
    try {
      for (; taken < HUGE_PAGES; taken++) fresh[taken] = this.pool.allocate();
    } catch (error) {
      for (let index = 0; index < taken; index++) this.pool.release(fresh[index]);
      throw error;
    }
    for (let index = 0; index < HUGE_PAGES; index++) {
      this.pool.copyFrame(head + index, fresh[index]);
      this.table.set(firstLo | index, keyHi, fresh[index]);
    }
    this.hugeTable.delete(runLo, runHi);
    this.pool.release(head, HUGE_ORDER);
    // Cache slots and the fetch register may point into the huge frame.
    this.invalidateCaches();
  }

  /** Drops the huge leaves the range covers whole and splits those it covers in part. */
  private discardHuge(firstPage: number, pageCount: number): void {
    const endPage = firstPage + pageCount;
    const runs: number[] = [];
    const firstRun = Math.floor(firstPage / HUGE_PAGES);
    const endRun = Math.ceil(endPage / HUGE_PAGES);
    if (endRun - firstRun <= this.hugeTable.size) {
      for (let run = firstRun; run < endRun; run++) if (this.hugeTable.get(run % TWO_POW_32, Math.floor(run / TWO_POW_32)) >= 0) runs.push(run);
    } else {
      this.hugeTable.forEach((run) => {
        if (run >= firstRun && run < endRun) runs.push(run);
      });
    }
    for (const run of runs) {
      const runLo = run % TWO_POW_32;
      const runHi = Math.floor(run / TWO_POW_32);
      const runFirstPage = run * HUGE_PAGES;
      if (runFirstPage >= firstPage && runFirstPage + HUGE_PAGES <= endPage) {
        const head = this.hugeTable.delete(runLo, runHi);
        this.pool.release(head, HUGE_ORDER);
        this.privatePages -= HUGE_PAGES;
        if (this.dirtyPages !== null) for (let page = runFirstPage; page < runFirstPage + HUGE_PAGES; page++) this.dirtyPages.add(page);
      } else {
        // The 4 KiB pages then go the usual way.
        this.splitHuge(runLo, runHi, this.hugeTable.get(runLo, runHi));
      }
    }
  }

  private dropFrame(frame: number): void {
    if (frame < 0) return;
    if (frame !== ZERO_FRAME) this.privatePages--;
    this.pool.release(frame);
  }

  private invalidateCaches(): void {
    this.fetchPageLo = NO_TAG;
    this.readTagLo.fill(NO_TAG);
    this.writeTagLo.fill(NO_TAG);
  }
}

/** The frames a split takes, gathered before any is used (splitHuge; not reentrant). */
const SPLIT_FRAMES = new Int32Array(HUGE_PAGES);

/** Low 32 bits of the huge run holding the page `(keyLo, keyHi)`: its page number shifted right by HUGE_ORDER. */
function hugeRunLo(keyLo: number, keyHi: number): number {
  return (keyLo >>> HUGE_ORDER) | (keyHi << (32 - HUGE_ORDER));
}
