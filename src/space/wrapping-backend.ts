import type { BackendCounters, BackendKind, MemoryBackend } from "./backend.js";

/**
 * A backend that wraps another on the hot path (strict mode's guard, the hooks) and leaves
 * the page-level methods, counts and counters to it: AddressSpace's bulk operations,
 * images and statistics see the memory under any wrapper.
 */
export abstract class WrappingBackend {
  /** High 32 bits of the value of the last `load64`. */
  loadHigh = 0;

  constructor(
    /** The backend under this one. */
    readonly inner: MemoryBackend,
  ) {}

  /** The kind of the inner backend. */
  get kind(): BackendKind {
    return this.inner.kind;
  }
  /** Counts on the inner backend. */
  countAccesses(loads: number, stores: number): void {
    this.inner.countAccesses(loads, stores);
  }
  /** Page-level read, unchecked: AddressSpace checks bulk ranges itself. */
  readPage(pageNumber: number, offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void {
    this.inner.readPage(pageNumber, offset, dst, dstOffset, lengthBytes);
  }
  /** Page-level write, unchecked: AddressSpace checks bulk ranges itself. */
  writePage(pageNumber: number, offset: number, src: Uint8Array, srcOffset: number, lengthBytes: number): void {
    this.inner.writePage(pageNumber, offset, src, srcOffset, lengthBytes);
  }
  /** Discards on the inner backend. */
  discardPages(firstPage: number, pageCount: number): void {
    this.inner.discardPages(firstPage, pageCount);
  }
  /** The inner backend's resident pages. */
  forEachResidentPage(visit: (pageNumber: number) => void): void {
    this.inner.forEachResidentPage(visit);
  }
  /** The inner backend's dirty pages. */
  takeDirtyPages(): number[] | null {
    return this.inner.takeDirtyPages();
  }
  /** The inner backend's counters. */
  counters(): BackendCounters {
    return this.inner.counters();
  }
}
