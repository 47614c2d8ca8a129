import { fetchByParcels, type BackendCounters, type MemoryBackend } from "./backend.js";

/**
 * Keeps no state: loads return 0, stores vanish. Replaying onto it measures decoding and
 * dispatch alone, the lower bound of replay cost.
 */
export class NoopBackend implements MemoryBackend {
  /** Always "noop". */
  readonly kind = "noop" as const;
  /** Always 0: 64-bit loads read zero. */
  loadHigh = 0;

  /** Returns 0. */
  load8(_lo: number, _hi: number): number {
    return 0;
  }
  /** Returns 0. */
  load16(_lo: number, _hi: number): number {
    return 0;
  }
  /** Returns 0. */
  load32(_lo: number, _hi: number): number {
    return 0;
  }
  /** Returns 0. */
  load64(_lo: number, _hi: number): number {
    return 0;
  }
  /** Does nothing. */
  store8(_lo: number, _hi: number, _value: number): void {}
  /** Does nothing. */
  store16(_lo: number, _hi: number, _value: number): void {}
  /** Does nothing. */
  store32(_lo: number, _hi: number, _value: number): void {}
  /** Does nothing. */
  store64(_lo: number, _hi: number, _valueLo: number, _valueHi: number): void {}
  /** The zero parcel, read through `load16`. */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  /** Does nothing: this backend keeps no counters. */
  countAccesses(): void {}

  /** Fills the destination range with zeros. */
  readPage(_pageNumber: number, _offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    dst.fill(0, dstOffset, dstOffset + lengthBytes);
  }
  /** Does nothing. */
  writePage(): void {}
  /** Does nothing. */
  discardPages(): void {}
  /** Visits nothing: no page holds data. */
  forEachResidentPage(): void {}
  /** Always null: the backend tracks no writes (and holds no pages). */
  takeDirtyPages(): null {
    return null;
  }
  /** Another stateless backend. */
  fork(): NoopBackend {
    return new NoopBackend();
  }
  /** All zeros. */
  counters(): BackendCounters {
    return { loads: 0, stores: 0, touchedPages: 0, residentPages: 0, residentBytes: 0, cacheHits: 0, cacheMisses: 0, hugeLeaves: 0 };
  }
}
