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
const CACHE_MASK = CACHE_SLOTS - 1;
/** Tag of an empty slot or register: page-low tags are 20-bit, so -1 never matches. */
const NO_TAG = -1;

/**
 * The fast backend: pooled 4 KiB frames, an open-addressing page table, two direct-mapped
 * page caches in front of it (one for loads, one for stores) and, in front of those, three
 * last-page registers (2-byte loads, other loads, stores).
 *
 * The store cache and register hold only frames this space owns alone, so copy-on-write
 * after a snapshot costs nothing on the hit path; untouched pages map to the shared zero
 * frame and get a private frame on their first store. `hi` may be passed as u32 or int32;
 * a caller that mixes the two only loses register hits.
 */
export class PagedBackend implements MemoryBackend {
  readonly kind = "paged" as const;
  loadHigh = 0;

  private loads = 0;
  private stores = 0;
  private cacheMisses = 0;
  private privatePages = 0;
  /** Pages written or discarded since the last takeDirtyPages (null: not tracking). */
  private dirtyPages: Set<number> | null = null;

  // Last-page registers: page-low tag (20 bits), high half, frame view and byte offset.
  private fetchPageLo = NO_TAG;
  private fetchPageHi = 0;
  private fetchView: DataView;
  private fetchBase = 0;
  private readPageLo = NO_TAG;
  private readPageHi = 0;
  private readView: DataView;
  private readBase = 0;
  private writePageLo = NO_TAG;
  private writePageHi = 0;
  private writeView: DataView;
  private writeBase = 0;

  // Direct-mapped caches, indexed by the low page bits.
  private readonly readTagLo = new Int32Array(CACHE_SLOTS).fill(NO_TAG);
  private readonly readTagHi = new Int32Array(CACHE_SLOTS);
  private readonly readBases = new Int32Array(CACHE_SLOTS);
  private readonly readViews: DataView[];
  private readonly writeTagLo = new Int32Array(CACHE_SLOTS).fill(NO_TAG);
  private readonly writeTagHi = new Int32Array(CACHE_SLOTS);
  private readonly writeBases = new Int32Array(CACHE_SLOTS);
  private readonly writeViews: DataView[];

  constructor(
    private readonly pool: FramePool = new FramePool(),
    private readonly table: PageTable = new PageTable(),
  ) {
    const zeroView = pool.viewOf(ZERO_FRAME);
    this.readViews = new Array<DataView>(CACHE_SLOTS).fill(zeroView);
    this.writeViews = new Array<DataView>(CACHE_SLOTS).fill(zeroView);
    this.fetchView = zeroView;
    this.readView = zeroView;
    this.writeView = zeroView;
    table.forEach((_page, frame) => {
      if (frame !== ZERO_FRAME) this.privatePages++;
    });
  }

  // Hot path. Each access compares its page with a last-page register; on a miss it points
  // the register at the page (cache, then page table) and goes on as on a hit. Lessons from
  // profiling the replay loop (node --cpu-prof, --trace-turbo-inlining):
  // - keep these methods small, so TurboFan inlines them into the replay loop;
  // - a call that is not inlined boxes every u32 argument >= 2^30 (a heap number per
  //   access, then GC), so the out-of-line select* calls take only the page's low 20 bits
  //   and the high half, and never a value;
  // - 2-byte loads get their own register: instruction fetch reads 16-bit parcels, and a
  //   separate "I-TLB" keeps the code page while data accesses move between pages.

  load8(lo: number, hi: number): number {
    if (lo >>> Paging.Shift !== this.readPageLo || hi !== this.readPageHi) this.selectReadPage(lo >>> Paging.Shift, hi);
    this.loads++;
    return this.readView.getUint8(this.readBase + (lo & Paging.OffsetMask));
  }

  load16(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.fetchPageLo || hi !== this.fetchPageHi || offset > Paging.LastOffset2) {
      if (offset > Paging.LastOffset2) return this.loadCrossing(lo, hi, 2);
      this.selectFetchPage(lo >>> Paging.Shift, hi);
    }
    this.loads++;
    return this.fetchView.getUint16(this.fetchBase + offset, true);
  }

  load32(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.readPageLo || hi !== this.readPageHi || offset > Paging.LastOffset4) {
      if (offset > Paging.LastOffset4) return this.loadCrossing(lo, hi, 4);
      this.selectReadPage(lo >>> Paging.Shift, hi);
    }
    this.loads++;
    return this.readView.getUint32(this.readBase + offset, true);
  }

  load64(lo: number, hi: number): number {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.readPageLo || hi !== this.readPageHi || offset > Paging.LastOffset8) {
      if (offset > Paging.LastOffset8) return this.loadCrossing(lo, hi, 8);
      this.selectReadPage(lo >>> Paging.Shift, hi);
    }
    this.loads++;
    this.loadHigh = this.readView.getUint32(this.readBase + offset + 4, true);
    return this.readView.getUint32(this.readBase + offset, true);
  }

  store8(lo: number, hi: number, value: number): void {
    if (lo >>> Paging.Shift !== this.writePageLo || hi !== this.writePageHi) this.selectWritePage(lo >>> Paging.Shift, hi);
    this.stores++;
    this.writeView.setUint8(this.writeBase + (lo & Paging.OffsetMask), value);
  }

  store16(lo: number, hi: number, value: number): void {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.writePageLo || hi !== this.writePageHi || offset > Paging.LastOffset2) {
      if (offset > Paging.LastOffset2) return this.storeCrossing(lo, hi, 2, value, 0);
      this.selectWritePage(lo >>> Paging.Shift, hi);
    }
    this.stores++;
    this.writeView.setUint16(this.writeBase + offset, value, true);
  }

  store32(lo: number, hi: number, value: number): void {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.writePageLo || hi !== this.writePageHi || offset > Paging.LastOffset4) {
      if (offset > Paging.LastOffset4) return this.storeCrossing(lo, hi, 4, value, 0);
      this.selectWritePage(lo >>> Paging.Shift, hi);
    }
    this.stores++;
    this.writeView.setUint32(this.writeBase + offset, value, true);
  }

  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    const offset = lo & Paging.OffsetMask;
    if (lo >>> Paging.Shift !== this.writePageLo || hi !== this.writePageHi || offset > Paging.LastOffset8) {
      if (offset > Paging.LastOffset8) return this.storeCrossing(lo, hi, 8, valueLo, valueHi);
      this.selectWritePage(lo >>> Paging.Shift, hi);
    }
    this.stores++;
    this.writeView.setUint32(this.writeBase + offset, valueLo, true);
    this.writeView.setUint32(this.writeBase + offset + 4, valueHi, true);
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
    const word = this.fetchView.getInt32(this.fetchBase + offset, true);
    if ((word & 3) !== 3) {
      this.loads++;
      return word & 0xffff;
    }
    this.loads += 2;
    return word;
  }

  private fetchByParcels(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }

  private loadCrossing(lo: number, hi: number, widthBytes: number): number {
    this.loads++;
    return loadCrossing(this, lo, hi, widthBytes);
  }

  private storeCrossing(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    this.stores++;
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

  /** Points the load register at the page. */
  private selectReadPage(pageLo: number, hi: number): void {
    const slot = this.readSlot(pageLo, hi);
    this.readPageLo = pageLo;
    this.readPageHi = hi;
    this.readView = this.readViews[slot];
    this.readBase = this.readBases[slot];
  }

  /** Points the store register at the page, made private to this space first. */
  private selectWritePage(pageLo: number, hi: number): void {
    let slot = pageLo & CACHE_MASK;
    if (this.writeTagLo[slot] !== pageLo || this.writeTagHi[slot] !== (hi | 0)) slot = this.writeMiss(pageLo, hi);
    this.writePageLo = pageLo;
    this.writePageHi = hi;
    this.writeView = this.writeViews[slot];
    this.writeBase = this.writeBases[slot];
  }

  private readSlot(pageLo: number, hi: number): number {
    const slot = pageLo & CACHE_MASK;
    if (this.readTagLo[slot] === pageLo && this.readTagHi[slot] === (hi | 0)) return slot;
    return this.readMiss(pageLo, hi);
  }

  readPage(pageNumber: number, offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    const frame = this.table.get(pageNumber % TWO_POW_32, Math.floor(pageNumber / TWO_POW_32));
    if (frame < 0) {
      dst.fill(0, dstOffset, dstOffset + lengthBytes);
      return;
    }
    const base = this.pool.baseOf(frame) + offset;
    dst.set(this.pool.bytesOf(frame).subarray(base, base + lengthBytes), dstOffset);
  }

  writePage(pageNumber: number, offset: number, src: Uint8Array, srcOffset: number, lengthBytes: number): void {
    const frame = this.ownFrame(pageNumber % TWO_POW_32, Math.floor(pageNumber / TWO_POW_32));
    this.pool.bytesOf(frame).set(src.subarray(srcOffset, srcOffset + lengthBytes), this.pool.baseOf(frame) + offset);
  }

  discardPages(firstPage: number, pageCount: number): void {
    this.invalidateCaches();
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

  forEachResidentPage(visit: (pageNumber: number) => void): void {
    this.table.forEach((pageNumber, frame) => {
      if (frame !== ZERO_FRAME) visit(pageNumber);
    });
  }

  takeDirtyPages(): number[] | null {
    const dirty = this.dirtyPages;
    this.dirtyPages = new Set();
    // Stores that hit a cached page would not be seen: the next store to each page misses.
    this.invalidateCaches();
    return dirty === null ? null : [...dirty];
  }

  fork(): PagedBackend {
    this.table.forEach((_page, frame) => this.pool.retain(frame));
    // Every private frame is shared now: stores must copy first, on both sides.
    this.invalidateCaches();
    return new PagedBackend(this.pool, this.table.clone());
  }

  counters(): BackendCounters {
    const accesses = this.loads + this.stores;
    return {
      loads: this.loads,
      stores: this.stores,
      touchedPages: this.table.size,
      residentPages: this.privatePages,
      residentBytes: this.privatePages * PAGE_SIZE_BYTES,
      cacheHits: accesses - this.cacheMisses,
      cacheMisses: this.cacheMisses,
    };
  }

  /** Fills the load-cache slot of the page; an untouched page maps to the zero frame. */
  private readMiss(pageLo: number, hi: number): number {
    this.cacheMisses++;
    const keyLo = (hi << (32 - PAGE_SHIFT)) | pageLo;
    const keyHi = hi >>> PAGE_SHIFT;
    let frame = this.table.get(keyLo, keyHi);
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
    this.cacheMisses++;
    const frame = this.ownFrame((hi << (32 - PAGE_SHIFT)) | pageLo, hi >>> PAGE_SHIFT);
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
    // Load registers and the load-cache slot may still point at the old frame.
    this.readTagLo[keyLo & CACHE_MASK] = NO_TAG;
    this.readPageLo = NO_TAG;
    this.fetchPageLo = NO_TAG;
    return fresh;
  }

  private dropFrame(frame: number): void {
    if (frame < 0) return;
    if (frame !== ZERO_FRAME) this.privatePages--;
    this.pool.release(frame);
  }

  private invalidateCaches(): void {
    this.fetchPageLo = NO_TAG;
    this.readPageLo = NO_TAG;
    this.writePageLo = NO_TAG;
    this.readTagLo.fill(NO_TAG);
    this.writeTagLo.fill(NO_TAG);
  }
}
