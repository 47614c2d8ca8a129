import {
  AddressError,
  checkRange,
  formatBigAddress,
  highHalf,
  lowHalf,
  PAGE_OFFSET_MASK,
  PAGE_SHIFT,
  PAGE_SIZE_BYTES,
  pageNumberOf,
  toBigAddress,
  type Address,
} from "./address.js";
import type { BackendCounters, BackendKind, MemoryBackend } from "./backend.js";
import { createBackend } from "./create-backend.js";
import type { FrameSource } from "./frame-source.js";
import { GuardedBackend, type FaultHandler } from "./guarded-backend.js";
import { HookedAccess } from "./hooked-access.js";
import { MemoryHooks, type HookCallback, type HookKind, type MemoryEvent, type MemoryHook, type MmioDevice } from "./memory-hooks.js";
import { MemoryFault, parseProtection, PROT_NONE, PROT_READ, PROT_WRITE, type AccessKind, type Protection } from "./protection.js";
import { RegionMap, type RegionInfo } from "./region-map.js";
import { ImageLog } from "./image-file.js";
import type { PersistMedium } from "../durable/medium.js";

/** Options of the AddressSpace constructor, `AddressSpace.load` and `AddressSpace.fromImage`. */
export interface AddressSpaceOptions {
  /** A backend name or instance; default "paged". */
  backend?: BackendKind | MemoryBackend;
  /** Accesses outside a mapping, or against its permissions, throw a MemoryFault. */
  strict?: boolean;
  /**
   * Paged backend: draw page frames from this shared source (a FrameAllocator created with
   * `backed: true`), so unmapped pages return their frames and spaces in several workers share it.
   */
  frames?: FrameSource;
}

/** What `AddressSpace.stats()` reports: the backend's counters, its kind and the number of regions. */
export interface AddressSpaceStats extends BackendCounters {
  /** Which backend the space runs on. */
  backend: BackendKind;
  /** Number of mapped regions. */
  regions: number;
}

/** Bulk operations move at most this much through a scratch buffer at a time. */
const COPY_CHUNK_BYTES = 1 << 16;
/** A MemoryFault reports a bulk access wider than this as this wide (its width is a number). */
const MAX_FAULT_WIDTH_BYTES = 1n << 31n;
const PAGE_SIZE_BIG = BigInt(PAGE_SIZE_BYTES);

/**
 * An emulated, sparse 2^64-byte memory: little-endian loads and stores of 1, 2, 4 and 8
 * bytes at any address (page crossings included), bulk read/write/fill/copy, regions with
 * permissions (enforced in strict mode), copy-on-write snapshots and statistics.
 *
 * Addresses are `bigint` or non-negative safe-integer `number`s; 64-bit values are
 * `bigint`. Emulators and replayers use `access`, the allocation-free hot path with
 * addresses as u32 halves (and report what they did there with `access.countAccesses`).
 */
export class AddressSpace {
  /** Whether accesses outside a mapping, or against its permissions, throw a MemoryFault. */
  readonly strict: boolean;
  /**
   * The space's hooks and MMIO regions, and the stop a hook asked for (runners such as a
   * hart take it between instructions). Add them with addHook, watch and mapMmio.
   */
  readonly hooks = new MemoryHooks();
  private readonly backend: MemoryBackend;
  /** The backend itself, or its strict-mode guard. */
  private readonly baseAccess: MemoryBackend;
  /** `access`: baseAccess, or a HookedAccess over it while a hook or MMIO region exists. */
  private currentAccess: MemoryBackend;
  private readonly regionMap: RegionMap;
  /** Saves, checkpoints and loads of this space (it does no I/O itself). */
  private readonly imageLog: ImageLog;
  /** onContentChange's listeners. */
  private readonly contentListeners: Array<(firstPage: number, endPage: number) => void> = [];

  /**
   * A new empty space on the backend that `options` names (default "paged"); throws an Error if
   * `options.frames` comes with a backend instance. `regionMap` is internal: a snapshot passes its copy of the parent's.
   */
  constructor(options: AddressSpaceOptions = {}, regionMap: RegionMap = new RegionMap()) {
    const backend = options.backend ?? "paged";
    if (typeof backend !== "string" && options.frames !== undefined) throw new Error("frames: pass a backend name, not an instance, to draw page frames from an allocator");
    this.backend = typeof backend === "string" ? createBackend(backend, { frames: options.frames }) : backend;
    this.strict = options.strict === true;
    this.regionMap = regionMap;
    this.baseAccess = this.strict ? new GuardedBackend(this.backend, regionMap) : this.backend;
    this.currentAccess = this.baseAccess;
    const hooked = new HookedAccess(this.baseAccess, this.hooks);
    this.hooks.onChange(() => {
      this.currentAccess = this.hooks.active ? hooked : this.baseAccess;
    });
    this.imageLog = new ImageLog(this.backend, regionMap);
  }

  /**
   * The hot path: the backend itself, or its strict-mode guard, and while a hook or MMIO
   * region exists a HookedAccess over it. It changes when the first hook or region comes
   * and the last goes: a caller that keeps it re-reads it then (`hooks.onChange`).
   */
  get access(): MemoryBackend {
    return this.currentAccess;
  }

  /**
   * The backend itself, or its strict-mode guard, never hooked: what a translator reads code
   * through without firing hooks or recording, and what `access` is while no hook exists.
   */
  get plainAccess(): MemoryBackend {
    return this.baseAccess;
  }

  /**
   * Calls `listener(firstPage, endPage)` after every change this object's own methods make to
   * the bytes or mappings of pages [firstPage, endPage): scalar and bulk writes, map, unmap,
   * protect. Stores through `access` (the hot path) are not reported: a translator watches
   * those itself. Returns a function that removes the listener.
   */
  onContentChange(listener: (firstPage: number, endPage: number) => void): () => void {
    this.contentListeners.push(listener);
    return () => {
      const index = this.contentListeners.indexOf(listener);
      if (index >= 0) this.contentListeners.splice(index, 1);
    };
  }

  private contentChanged(start: bigint, lengthBytes: bigint | number): void {
    if (this.contentListeners.length === 0 || lengthBytes === 0 || lengthBytes === 0n) return;
    const firstPage = pageNumberOf(start);
    const endPage = pageNumberOf(start + BigInt(lengthBytes) - 1n) + 1;
    for (const listener of this.contentListeners) listener(firstPage, endPage);
  }

  private pagesChanged(firstPage: number, endPage: number): void {
    for (const listener of this.contentListeners) listener(firstPage, endPage);
  }

  /** Which backend the space runs on. */
  get backendKind(): BackendKind {
    return this.backend.kind;
  }

  // Scalar loads and stores; each counts itself once it has happened (a fault counts nothing).

  /**
   * Loads the byte at `address`; throws an AddressError for an address outside the space, a MemoryFault when
   * strict mode denies it.
   */
  load8(address: Address): number {
    const at = toBigAddress(address);
    const value = this.access.load8(lowHalf(at), highHalf(at));
    this.access.countAccesses(1, 0);
    return value;
  }
  /** Loads the little-endian u16 at `address`; throws as `load8` does, and an AddressError if it runs past 2^64 - 1. */
  load16(address: Address): number {
    const at = toBigAddress(address);
    const value = this.access.load16(lowHalf(at), highHalf(at));
    this.access.countAccesses(1, 0);
    return value;
  }
  /** Loads the little-endian u32 at `address`; throws as `load16` does. */
  load32(address: Address): number {
    const at = toBigAddress(address);
    const value = this.access.load32(lowHalf(at), highHalf(at));
    this.access.countAccesses(1, 0);
    return value;
  }
  /** Loads the little-endian u64 at `address` as a bigint; throws as `load16` does. */
  load64(address: Address): bigint {
    const at = toBigAddress(address);
    const low = this.access.load64(lowHalf(at), highHalf(at));
    this.access.countAccesses(1, 0);
    return (BigInt(this.access.loadHigh) << 32n) | BigInt(low);
  }
  /**
   * Stores the byte `value` (0..255) at `address`; throws a RangeError for a value that does not fit,
   * otherwise as `load8` does.
   */
  store8(address: Address, value: number): void {
    const at = toBigAddress(address);
    this.access.store8(lowHalf(at), highHalf(at), checkValue(value, 0xff));
    this.access.countAccesses(0, 1);
    this.contentChanged(at, 1);
  }
  /** Stores `value` (0..0xffff) little-endian at `address`; throws as `store8` and `load16` do. */
  store16(address: Address, value: number): void {
    const at = toBigAddress(address);
    this.access.store16(lowHalf(at), highHalf(at), checkValue(value, 0xffff));
    this.access.countAccesses(0, 1);
    this.contentChanged(at, 2);
  }
  /** Stores `value` (0..0xffffffff) little-endian at `address`; throws as `store8` and `load16` do. */
  store32(address: Address, value: number): void {
    const at = toBigAddress(address);
    this.access.store32(lowHalf(at), highHalf(at), checkValue(value, 0xffffffff));
    this.access.countAccesses(0, 1);
    this.contentChanged(at, 4);
  }
  /** Stores `value`, taken modulo 2^64, little-endian at `address`; throws as `load16` does. */
  store64(address: Address, value: bigint | number): void {
    const at = toBigAddress(address);
    const bits = BigInt.asUintN(64, BigInt(value));
    this.access.store64(lowHalf(at), highHalf(at), Number(bits & 0xffffffffn), Number(bits >> 32n));
    this.access.countAccesses(0, 1);
    this.contentChanged(at, 8);
  }

  // Bulk operations.

  /** Copies `lengthBytes` starting at `address` out of the space. */
  read(address: Address, lengthBytes: number): Uint8Array {
    const start = checkRange(address, lengthBytes);
    this.checkAllowed(start, lengthBytes, "read");
    const out = new Uint8Array(lengthBytes);
    this.forEachPagePiece(start, lengthBytes, (pageNumber, offset, done, pieceBytes) =>
      this.backend.readPage(pageNumber, offset, out, done, pieceBytes),
    );
    return out;
  }

  /**
   * Copies `bytes` into the space at `address`; throws an AddressError past 2^64 - 1, a MemoryFault when
   * strict mode denies a write.
   */
  write(address: Address, bytes: Uint8Array): void {
    const start = checkRange(address, bytes.length);
    this.checkAllowed(start, bytes.length, "write");
    this.forEachPagePiece(start, bytes.length, (pageNumber, offset, done, pieceBytes) =>
      this.backend.writePage(pageNumber, offset, bytes, done, pieceBytes),
    );
    this.contentChanged(start, bytes.length);
  }

  /** Sets `lengthBytes` bytes to `byte`; whole pages filled with 0 are released instead. */
  fill(address: Address, lengthBytes: number | bigint, byte: number): void {
    const length = BigInt(lengthBytes);
    const start = checkRange(address, length);
    checkValue(byte, 0xff);
    this.checkAllowed(start, length, "write");
    const pattern = new Uint8Array(PAGE_SIZE_BYTES).fill(byte);
    let at = start;
    const end = start + length;
    while (at < end) {
      const offset = Number(at & BigInt(PAGE_OFFSET_MASK));
      const pageNumber = pageNumberOf(at);
      if (byte === 0 && offset === 0 && end - at >= PAGE_SIZE_BIG) {
        // A run of whole zero pages is the state of untouched memory: drop the frames.
        const pageCount = Number((end - at) / PAGE_SIZE_BIG);
        this.backend.discardPages(pageNumber, pageCount);
        at += BigInt(pageCount) * PAGE_SIZE_BIG;
        continue;
      }
      const pieceBytes = Number(minBig(end - at, BigInt(PAGE_SIZE_BYTES - offset)));
      this.backend.writePage(pageNumber, offset, pattern, 0, pieceBytes);
      at += BigInt(pieceBytes);
    }
    this.contentChanged(start, length);
  }

  /** Copies `lengthBytes` from `source` to `destination`; overlapping ranges are handled. */
  copy(destination: Address, source: Address, lengthBytes: number | bigint): void {
    const length = BigInt(lengthBytes);
    const from = checkRange(source, length);
    const to = checkRange(destination, length);
    this.checkAllowed(from, length, "read");
    this.checkAllowed(to, length, "write");
    if (length === 0n || from === to) return;
    const chunkBytes = BigInt(COPY_CHUNK_BYTES);
    const scratch = new Uint8Array(COPY_CHUNK_BYTES);
    // Copying backwards when the destination overlaps the source's tail keeps unread
    // source bytes intact; each chunk is read whole before it is written.
    const backwards = to > from && to < from + length;
    let done = 0n;
    while (done < length) {
      const pieceBytes = minBig(length - done, chunkBytes);
      const offset = backwards ? length - done - pieceBytes : done;
      const piece = scratch.subarray(0, Number(pieceBytes));
      this.forEachPagePiece(from + offset, piece.length, (pageNumber, pageOffset, pieceDone, bytes) =>
        this.backend.readPage(pageNumber, pageOffset, piece, pieceDone, bytes),
      );
      this.forEachPagePiece(to + offset, piece.length, (pageNumber, pageOffset, pieceDone, bytes) =>
        this.backend.writePage(pageNumber, pageOffset, piece, pieceDone, bytes),
      );
      done += pieceBytes;
    }
    this.contentChanged(to, length);
  }

  // Regions.

  /**
   * Maps `sizeBytes` (rounded up to whole pages) at the page-aligned `address` with the
   * given protection ("rw-", "r-x", or PROT_* flags). Overlapping a mapping is an error.
   */
  map(address: Address, sizeBytes: number | bigint, protection: Protection): void {
    const [firstPage, endPage] = this.pageSpan(address, sizeBytes, "map");
    this.regionMap.map(firstPage, endPage, parseProtection(protection));
    this.regionsChanged();
    this.pagesChanged(firstPage, endPage);
  }

  /** Whether the backend can back 2 MiB-aligned runs with huge frames (`mapHuge`): the paged one. */
  get hasHugeFrames(): boolean {
    return this.backend.mapHuge !== undefined;
  }

  /**
   * Backs each 2 MiB-aligned run of 512 pages inside the range (page aligned) with one huge frame, mapped by one
   * page-table entry, where the backend can: on the paged backend, when its frame source has a free order-9
   * run and no page of the run holds data yet. The other pages keep taking 4 KiB frames on first write, so
   * contents never depend on it. Returns the number of huge leaves made; 0 on other backends.
   */
  mapHuge(address: Address, sizeBytes: number | bigint): number {
    const [firstPage, endPage] = this.pageSpan(address, sizeBytes, "mapHuge");
    return this.backend.mapHuge?.(firstPage, endPage - firstPage) ?? 0;
  }

  /** Unmaps the pages of the range; their contents are released and read as zero again. */
  unmap(address: Address, sizeBytes: number | bigint): void {
    let [firstPage, endPage] = this.pageSpan(address, sizeBytes, "unmap");
    // A device region goes whole: its pages outside the range are unmapped too.
    for (const device of this.hooks.removeMmio(BigInt(firstPage) * PAGE_SIZE_BIG, BigInt(endPage) * PAGE_SIZE_BIG - 1n)) {
      firstPage = Math.min(firstPage, pageNumberOf(device.start));
      endPage = Math.max(endPage, pageNumberOf(device.start) + device.sizeBytes / PAGE_SIZE_BYTES);
    }
    this.regionMap.unmap(firstPage, endPage);
    this.backend.discardPages(firstPage, endPage - firstPage);
    this.regionsChanged();
    this.pagesChanged(firstPage, endPage);
  }

  /**
   * Sets the protection of the whole pages of a mapped range; throws an AddressError for an unaligned address
   * or a size not positive, a RangeError if a page is not mapped.
   */
  protect(address: Address, sizeBytes: number | bigint, protection: Protection): void {
    const [firstPage, endPage] = this.pageSpan(address, sizeBytes, "protect");
    this.regionMap.protect(firstPage, endPage, parseProtection(protection));
    this.regionsChanged();
    this.pagesChanged(firstPage, endPage);
  }

  /** Whether every page of the range is mapped (with any protection). */
  isMapped(address: Address, sizeBytes: number | bigint): boolean {
    const [firstPage, endPage] = this.pageSpan(address, sizeBytes, "isMapped");
    return this.regionMap.firstDenied(firstPage, endPage, PROT_NONE) < 0;
  }

  /** The mapped regions in address order. */
  regions(): RegionInfo[] {
    return this.regionMap.list();
  }

  // Hooks, watchpoints, MMIO and fault handling (memory-hooks.ts). Hooks see the accesses
  // made through `access` and the scalar methods above; bulk reads and writes, images and
  // snapshots work on memory and see neither hooks nor devices.

  /**
   * Calls `callback` for every access of `kinds` that overlaps `lengthBytes` at `address`
   * (by any byte), after it happened; "stop" from it ends a run (HookResult). Hooks are
   * called in the order they were added; `remove()` the handle to stop them.
   */
  addHook(kinds: HookKind | readonly HookKind[], address: Address, lengthBytes: number | bigint, callback: HookCallback): MemoryHook {
    const [first, last] = byteSpan(address, lengthBytes, "addHook");
    return this.hooks.add(kinds, first, last, callback);
  }

  /**
   * A watchpoint: a hook on reads, writes or both ("access") of the range that stops the run
   * after the instruction that made the access; `seen` gets the access first.
   */
  watch(kind: "read" | "write" | "access", address: Address, lengthBytes: number | bigint, seen?: (event: MemoryEvent) => void): MemoryHook {
    const kinds: HookKind[] = kind === "access" ? ["read", "write"] : [kind];
    return this.addHook(kinds, address, lengthBytes, (event) => {
      seen?.(event);
      return "stop";
    });
  }

  /**
   * Maps `sizeBytes` (whole pages, at most 4 GiB) at the page-aligned `address` to `device`:
   * loads and stores there call it, of any width and across pages, and one only partly
   * inside faults ("device"). The region is mapped with `protection` (default "rw-"), so
   * strict mode allows it; `unmap` of any of its pages removes it whole.
   */
  mapMmio(address: Address, sizeBytes: number, device: MmioDevice, protection: Protection = "rw-"): void {
    const [firstPage, endPage] = this.pageSpan(address, sizeBytes, "mapMmio");
    const start = BigInt(firstPage) * PAGE_SIZE_BIG;
    this.hooks.addMmio(start, (endPage - firstPage) * PAGE_SIZE_BYTES, device);
    try {
      this.map(start, sizeBytes, protection);
    } catch (error) {
      this.hooks.removeMmio(start, start);
      throw error;
    }
  }

  /**
   * Strict mode: `handler` sees each fault before it is thrown, and may map or re-protect
   * pages and answer "retry" to check the access again (8 times at most), or let it stand.
   * null removes it. A space that is not strict never faults: it throws an Error.
   */
  onFault(handler: FaultHandler | null): void {
    if (!(this.baseAccess instanceof GuardedBackend)) throw new Error("onFault: only a strict AddressSpace faults (new AddressSpace({ strict: true }))");
    this.baseAccess.faultHandler = handler;
  }

  // Snapshots and statistics.

  /** A copy-on-write fork: writing to either side never changes the other. */
  snapshot(): AddressSpace {
    return new AddressSpace({ backend: this.backend.fork(), strict: this.strict }, this.regionMap.clone());
  }

  // Images (see image-file.ts).

  /**
   * Writes the whole space (every page with data, and the region map) to `path`
   * atomically: a new file, made durable, renamed over the old one.
   */
  save(path: string): void {
    this.imageLog.save(path);
  }

  /**
   * Appends to `path` the pages written or discarded since this space's last save,
   * checkpoint or load of `path` (and the region map), as one checksummed segment made
   * durable with fdatasync. A crash at any moment leaves `load` the previous checkpoint or
   * this one. If `path` is not this space's image, or the backend cannot track writes
   * (noop, map), it saves the whole space instead.
   */
  checkpoint(path: string): void {
    this.imageLog.checkpoint(path);
  }

  /** `checkpoint` onto a medium holding an image log named `key` (tests: a power-loss simulator). */
  checkpointTo(medium: PersistMedium, key: string): void {
    this.imageLog.checkpointTo(medium, key);
  }

  /** An address space from an image file: its last complete checkpoint. */
  static load(path: string, options: AddressSpaceOptions = {}): AddressSpace {
    const space = new AddressSpace(options);
    space.imageLog.load(path);
    return space;
  }

  /** An address space from the bytes of an image log (`source` names it in errors, and keys the next checkpoint). */
  static fromImage(bytes: Uint8Array, source: string, options: AddressSpaceOptions = {}): AddressSpace {
    const space = new AddressSpace(options);
    space.imageLog.restore(bytes, source);
    return space;
  }

  /** Sequence number of the checkpoint this space last saved or loaded (0: a full save), or -1. */
  get imageSequence(): number {
    return this.imageLog.sequence;
  }

  /** Counters of the space now: accesses, touched and resident pages, cache use, regions. */
  stats(): AddressSpaceStats {
    return { backend: this.backend.kind, ...this.backend.counters(), regions: this.regionMap.count };
  }

  /** Calls `visit` for each in-page piece of [start, start + lengthBytes). */
  private forEachPagePiece(
    start: bigint,
    lengthBytes: number,
    visit: (pageNumber: number, offset: number, done: number, pieceBytes: number) => void,
  ): void {
    let pageNumber = pageNumberOf(start);
    let offset = Number(start & BigInt(PAGE_OFFSET_MASK));
    let done = 0;
    while (done < lengthBytes) {
      const pieceBytes = Math.min(lengthBytes - done, PAGE_SIZE_BYTES - offset);
      visit(pageNumber, offset, done, pieceBytes);
      done += pieceBytes;
      pageNumber++;
      offset = 0;
    }
  }

  /** In strict mode, throws a MemoryFault at the first byte of the range that is denied. */
  private checkAllowed(start: bigint, lengthBytes: number | bigint, access: AccessKind): void {
    const length = BigInt(lengthBytes);
    if (!this.strict || length === 0n) return;
    const needed = access === "read" ? PROT_READ : PROT_WRITE;
    const firstPage = pageNumberOf(start);
    const denied = this.regionMap.firstDenied(firstPage, pageNumberOf(start + length - 1n) + 1, needed);
    if (denied < 0) return;
    const faultAt = denied === firstPage ? start : BigInt(denied) << BigInt(PAGE_SHIFT);
    const reason = this.regionMap.find(denied) === undefined ? "unmapped" : "protection";
    throw new MemoryFault(faultAt, Number(minBig(length, MAX_FAULT_WIDTH_BYTES)), access, reason);
  }

  private pageSpan(address: Address, sizeBytes: number | bigint, what: string): [number, number] {
    const start = toBigAddress(address);
    if ((start & BigInt(PAGE_OFFSET_MASK)) !== 0n) {
      throw new AddressError(`${what}: address ${formatBigAddress(start)} is not page-aligned (4 KiB)`);
    }
    const size = BigInt(sizeBytes);
    if (size <= 0n) throw new AddressError(`${what}: size ${size} must be positive`);
    checkRange(start, size);
    const firstPage = pageNumberOf(start);
    return [firstPage, firstPage + Number((size + PAGE_SIZE_BIG - 1n) / PAGE_SIZE_BIG)];
  }

  private regionsChanged(): void {
    if (this.baseAccess instanceof GuardedBackend) this.baseAccess.forgetRegion();
  }
}

/** First and last byte of `lengthBytes` at `address` (at least one byte, within the space). */
function byteSpan(address: Address, lengthBytes: number | bigint, what: string): [bigint, bigint] {
  const length = BigInt(lengthBytes);
  if (length <= 0n) throw new AddressError(`${what}: length ${length} must be positive`);
  const start = checkRange(address, length);
  return [start, start + length - 1n];
}

function checkValue(value: number, max: number): number {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`value ${value} does not fit (expected an integer in 0..${max})`);
  }
  return value;
}

function minBig(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}
