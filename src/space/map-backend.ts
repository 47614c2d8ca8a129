import { PAGE_OFFSET_MASK, PAGE_SIZE_BYTES, pageNumberOfHalves } from "./address.js";
import { fetchByParcels, loadCrossing, storeCrossing, type BackendCounters, type MemoryBackend } from "./backend.js";

/**
 * The naive baseline: a plain JS Map from page number to a 4 KiB page, looked up on every
 * access, pages created on first touch. Snapshots copy every page eagerly.
 */
export class MapBackend implements MemoryBackend {
  /** Always "map". */
  readonly kind = "map" as const;
  /** High 32 bits of the value of the last `load64`. */
  loadHigh = 0;
  private loads = 0;
  private stores = 0;

  /** A backend over `pages` (page number to a 4 KiB page); empty by default, a copy for a fork. */
  constructor(private readonly pages: Map<number, DataView> = new Map()) {}

  /** Loads a byte; creates the page on first touch. */
  load8(lo: number, hi: number): number {
    return this.page(lo, hi).getUint8(lo & PAGE_OFFSET_MASK);
  }

  /** Loads a little-endian u16; creates the page on first touch. */
  load16(lo: number, hi: number): number {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 2) return loadCrossing(this, lo, hi, 2);
    return this.page(lo, hi).getUint16(offset, true);
  }

  /** Loads a little-endian u32; creates the page on first touch. */
  load32(lo: number, hi: number): number {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 4) return loadCrossing(this, lo, hi, 4);
    return this.page(lo, hi).getUint32(offset, true);
  }

  /** Loads a little-endian u64: low half returned, high half in `loadHigh`. */
  load64(lo: number, hi: number): number {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 8) return loadCrossing(this, lo, hi, 8);
    const page = this.page(lo, hi);
    this.loadHigh = page.getUint32(offset + 4, true);
    return page.getUint32(offset, true);
  }

  /** Stores a byte; creates the page on first touch. */
  store8(lo: number, hi: number, value: number): void {
    this.page(lo, hi).setUint8(lo & PAGE_OFFSET_MASK, value);
  }

  /** Stores a little-endian u16; creates the page on first touch. */
  store16(lo: number, hi: number, value: number): void {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 2) return storeCrossing(this, lo, hi, 2, value, 0);
    this.page(lo, hi).setUint16(offset, value, true);
  }

  /** Stores a little-endian u32; creates the page on first touch. */
  store32(lo: number, hi: number, value: number): void {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 4) return storeCrossing(this, lo, hi, 4, value, 0);
    this.page(lo, hi).setUint32(offset, value, true);
  }

  /** Stores the little-endian u64 `(valueLo, valueHi)`. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    const offset = lo & PAGE_OFFSET_MASK;
    if (offset > PAGE_SIZE_BYTES - 8) return storeCrossing(this, lo, hi, 8, valueLo, valueHi);
    const page = this.page(lo, hi);
    page.setUint32(offset, valueLo, true);
    page.setUint32(offset + 4, valueHi, true);
  }

  /** Adds to the load and store counters. */
  countAccesses(loads: number, stores: number): void {
    this.loads += loads;
    this.stores += stores;
  }

  /** The instruction at `(lo, hi)`, read as one or two `load16` calls. */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }

  /** Copies out of the page, or zeros if the page was never touched. */
  readPage(pageNumber: number, offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    const page = this.pages.get(pageNumber);
    if (page === undefined) dst.fill(0, dstOffset, dstOffset + lengthBytes);
    else dst.set(new Uint8Array(page.buffer, offset, lengthBytes), dstOffset);
  }

  /** Copies into the page, creating it first if needed. */
  writePage(pageNumber: number, offset: number, src: Uint8Array, srcOffset: number, lengthBytes: number): void {
    new Uint8Array(this.pageAt(pageNumber).buffer, offset, lengthBytes).set(src.subarray(srcOffset, srcOffset + lengthBytes));
  }

  /** Deletes the pages of the range: they read as zero again. */
  discardPages(firstPage: number, pageCount: number): void {
    if (pageCount <= this.pages.size) {
      for (let page = firstPage; page < firstPage + pageCount; page++) this.pages.delete(page);
      return;
    }
    for (const page of [...this.pages.keys()]) {
      if (page >= firstPage && page < firstPage + pageCount) this.pages.delete(page);
    }
  }

  /** Visits every page ever touched: this backend has no zero frame. */
  forEachResidentPage(visit: (pageNumber: number) => void): void {
    for (const pageNumber of this.pages.keys()) visit(pageNumber);
  }

  /** The naive baseline does not track writes: every checkpoint saves every page. */
  takeDirtyPages(): null {
    return null;
  }

  /** A deep copy: every page is copied now. */
  fork(): MapBackend {
    const copy = new Map<number, DataView>();
    for (const [pageNumber, page] of this.pages) copy.set(pageNumber, new DataView(page.buffer.slice(0)));
    return new MapBackend(copy);
  }

  /** The counters now: every touched page is resident here, and there is no cache. */
  counters(): BackendCounters {
    return {
      loads: this.loads,
      stores: this.stores,
      touchedPages: this.pages.size,
      residentPages: this.pages.size,
      residentBytes: this.pages.size * PAGE_SIZE_BYTES,
      cacheHits: 0,
      cacheMisses: 0,
      hugeLeaves: 0,
    };
  }

  private page(lo: number, hi: number): DataView {
    return this.pageAt(pageNumberOfHalves(lo, hi));
  }

  private pageAt(pageNumber: number): DataView {
    let page = this.pages.get(pageNumber);
    if (page === undefined) {
      page = new DataView(new ArrayBuffer(PAGE_SIZE_BYTES));
      this.pages.set(pageNumber, page);
    }
    return page;
  }
}
