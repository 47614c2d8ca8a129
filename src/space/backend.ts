import { checkAccessEnd, PAGE_OFFSET_MASK, PAGE_SIZE_BYTES, pageNumberOfHalves } from "./address.js";

/** Scratch for the bytes of one page-crossing access (at most 8). */
const crossingBytes = new Uint8Array(8);

/** Counters every backend reports; the AddressSpace turns them into `stats()`. */
export interface BackendCounters {
  /** Loads made, as reported through `countAccesses` (instruction fetches included). */
  loads: number;
  /** Stores made, as reported through `countAccesses`. */
  stores: number;
  /** Pages with an entry in the page table (touched by a load or a store). */
  touchedPages: number;
  /** Pages backed by a private frame of their own (written at least once). */
  residentPages: number;
  /** Bytes of the resident pages: `residentPages` times the page size. */
  residentBytes: number;
  /** Accesses served by the backend's page caches (0 for a backend without them). */
  cacheHits: number;
  /** Accesses that missed the page caches and went to the page table. */
  cacheMisses: number;
  /** 2 MiB runs of pages mapped by one page-table entry to one huge frame (0 for a backend without them). */
  hugeLeaves: number;
}

/**
 * The hot path: little-endian loads and stores of 1, 2, 4 and 8 bytes, addresses as two
 * u32 halves `(lo, hi)` and values as numbers, so emulators and the replayer call it
 * without allocating. A 64-bit load returns the low half (u32) and leaves the high half in
 * `loadHigh`. Backends implement it; so do trace sinks (statistics, recorders), which is
 * what lets one replay loop drive them all.
 *
 * The hot methods do not count: whoever calls them reports how many loads and stores it
 * made through `countAccesses`, in bulk (the replayer once a 32 KiB slice, the hart once a run
 * slice, AddressSpace once a call). A field incremented on every access is a store the
 * next access has to wait for, on the hottest path there is.
 */
export interface MemoryAccess {
  /** High 32 bits of the value returned by the last `load64`. */
  loadHigh: number;

  /** Loads the byte at `(lo, hi)`: 0 to 255. */
  load8(lo: number, hi: number): number;
  /** Loads the little-endian u16 at `(lo, hi)`; a backend throws an AddressError if it runs past 2^64 - 1. */
  load16(lo: number, hi: number): number;
  /** Loads the little-endian u32 at `(lo, hi)`; a backend throws an AddressError if it runs past 2^64 - 1. */
  load32(lo: number, hi: number): number;
  /**
   * Loads the little-endian u64 at `(lo, hi)`: returns its low u32 and leaves the high u32 in
   * `loadHigh`. A backend throws an AddressError if it runs past 2^64 - 1.
   */
  load64(lo: number, hi: number): number;
  /** Stores the low 8 bits of `value` at `(lo, hi)`. */
  store8(lo: number, hi: number, value: number): void;
  /** Stores the low 16 bits of `value`, little-endian; a backend throws an AddressError past 2^64 - 1. */
  store16(lo: number, hi: number, value: number): void;
  /** Stores `value` as a little-endian u32; a backend throws an AddressError past 2^64 - 1. */
  store32(lo: number, hi: number, value: number): void;
  /** Stores the u64 `(valueLo, valueHi)`, little-endian; a backend throws an AddressError past 2^64 - 1. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void;
  /**
   * Instruction fetch: the 16-bit parcel at (lo, hi) and, when its low two bits are 0b11 (a
   * 32-bit instruction), the next parcel in the high half (the result is then an int32). It
   * records as one or two `load16` calls would, in that order, and is one or two loads for
   * `countAccesses`; one call lets a backend check its page once for both parcels.
   * `fetchByParcels` is the plain form.
   */
  fetchInstruction(lo: number, hi: number): number;
  /** Adds accesses made through the methods above to the counters (`stats()` loads and stores). */
  countAccesses(loads: number, stores: number): void;
}

/** What `fetchByParcels` reads parcels through: any MemoryAccess, or a checking adapter. */
export interface ParcelReader {
  /** Loads the little-endian u16 parcel at `(lo, hi)`. */
  load16(lo: number, hi: number): number;
}

/** `fetchInstruction` as one or two `load16` calls: for sinks and wrappers with no shortcut. */
export function fetchByParcels(access: ParcelReader, lo: number, hi: number): number {
  const parcel = access.load16(lo, hi);
  if ((parcel & 3) !== 3) return parcel;
  return parcel | (access.load16((lo + 2) | 0, secondParcelHigh(lo, hi)) << 16);
}

/**
 * High half of the address of the parcel after the one at (lo, hi): carries out of lo when
 * lo + 2 passes the 2^32 line, from an odd address too (a trace may hold one; a hart's pc is even).
 */
export function secondParcelHigh(lo: number, hi: number): number {
  return ((lo + 2) & -2) === 0 ? (hi + 1) | 0 : hi;
}

/**
 * The one interface every memory backend implements: the hot path plus page-level
 * methods. Everything else (bigint addresses, bulk ranges, regions, snapshots) is built
 * once on top of these, in AddressSpace.
 */
export interface MemoryBackend extends MemoryAccess {
  /** Which backend this is: "noop", "map" or "paged". */
  readonly kind: BackendKind;

  /** Copies `lengthBytes` out of one page (offset + length at most the page size). */
  readPage(pageNumber: number, offset: number, dst: Uint8Array, dstOffset: number, lengthBytes: number): void;
  /** Copies `lengthBytes` into one page (offset + length at most the page size). */
  writePage(pageNumber: number, offset: number, src: Uint8Array, srcOffset: number, lengthBytes: number): void;
  /** Releases the pages in [firstPage, firstPage + pageCount): they read as zero again. */
  discardPages(firstPage: number, pageCount: number): void;
  /** A copy-on-write fork: writes to either side never show in the other. */
  fork(): MemoryBackend;
  /** Visits every page that holds data of its own (what an image must save). */
  forEachResidentPage(visit: (pageNumber: number) => void): void;
  /**
   * Incremental checkpoints: the pages written or discarded since the previous call, and
   * recording starts (again) now. Null when the backend cannot tell (the first call, or a
   * backend that does not track): then every page counts.
   */
  takeDirtyPages(): number[] | null;
  /** The backend's counters now: accesses, touched and resident pages, cache hits and misses. */
  counters(): BackendCounters;
  /**
   * Backs the 2 MiB-aligned runs of 512 pages inside [firstPage, firstPage + pageCount) with huge frames where
   * it can; returns how many. Absent: the backend has no huge frames.
   */
  mapHuge?(firstPage: number, pageCount: number): number;
}

/** The backend names `createBackend` accepts. */
export const BACKEND_KINDS = ["noop", "map", "paged"] as const;
/** One of BACKEND_KINDS. */
export type BackendKind = (typeof BACKEND_KINDS)[number];

/** Whether `name` is one of BACKEND_KINDS (a type guard for command-line input). */
export function isBackendKind(name: string): name is BackendKind {
  return (BACKEND_KINDS as readonly string[]).includes(name);
}

/**
 * Load of `widthBytes` that crosses a page boundary, assembled from byte loads.
 * Slow path shared by every backend, through its page-level methods (which count nothing:
 * the caller counts the access); checks the top of the space first.
 */
export function loadCrossing(backend: MemoryBackend, lo: number, hi: number, widthBytes: number): number {
  checkAccessEnd(lo, hi, widthBytes);
  const pageNumber = pageNumberOfHalves(lo, hi);
  const offset = lo & PAGE_OFFSET_MASK;
  const firstPart = PAGE_SIZE_BYTES - offset;
  backend.readPage(pageNumber, offset, crossingBytes, 0, firstPart);
  backend.readPage(pageNumber + 1, 0, crossingBytes, firstPart, widthBytes - firstPart);
  let valueLo = 0;
  let valueHi = 0;
  for (let k = 0; k < widthBytes; k++) {
    if (k < 4) valueLo |= crossingBytes[k] << (8 * k);
    else valueHi |= crossingBytes[k] << (8 * (k - 4));
  }
  backend.loadHigh = valueHi >>> 0;
  return valueLo >>> 0;
}

/** Store of `widthBytes` that crosses a page boundary, split over the two pages. */
export function storeCrossing(
  backend: MemoryBackend,
  lo: number,
  hi: number,
  widthBytes: number,
  valueLo: number,
  valueHi: number,
): void {
  checkAccessEnd(lo, hi, widthBytes);
  for (let k = 0; k < widthBytes; k++) {
    crossingBytes[k] = k < 4 ? valueLo >>> (8 * k) : valueHi >>> (8 * (k - 4));
  }
  const pageNumber = pageNumberOfHalves(lo, hi);
  const offset = lo & PAGE_OFFSET_MASK;
  const firstPart = PAGE_SIZE_BYTES - offset;
  backend.writePage(pageNumber, offset, crossingBytes, 0, firstPart);
  backend.writePage(pageNumber + 1, 0, crossingBytes, firstPart, widthBytes - firstPart);
}
