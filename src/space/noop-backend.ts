import { fetchByParcels, type BackendCounters, type MemoryBackend } from "./backend.js";

/**
 * Keeps no state: loads return 0, stores vanish. Replaying onto it measures decoding and
 * dispatch alone, the lower bound of replay cost.
 */
export class NoopBackend implements MemoryBackend {
  readonly kind = "noop" as const;
  loadHigh = 0;

  load8(_lo: number, _hi: number): number {
    return 0;
  }
  load16(_lo: number, _hi: number): number {
    return 0;
  }
  load32(_lo: number, _hi: number): number {
    return 0;
  }
  load64(_lo: number, _hi: number): number {
    return 0;
  }
  store8(_lo: number, _hi: number, _value: number): void {}
  store16(_lo: number, _hi: number, _value: number): void {}
  store32(_lo: number, _hi: number, _value: number): void {}
  store64(_lo: number, _hi: number, _valueLo: number, _valueHi: number): void {}
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  countAccesses(): void {}

  readPage(_pageNumber: number, _offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    dst.fill(0, dstOffset, dstOffset + lengthBytes);
  }
  writePage(): void {}
  discardPages(): void {}
  forEachResidentPage(): void {}
  takeDirtyPages(): null {
    return null;
  }
  fork(): NoopBackend {
    return new NoopBackend();
  }
  counters(): BackendCounters {
    return { loads: 0, stores: 0, touchedPages: 0, residentPages: 0, residentBytes: 0, cacheHits: 0, cacheMisses: 0 };
  }
}
