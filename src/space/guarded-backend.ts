import { checkAccessEnd, PAGE_OFFSET_MASK, PAGE_SIZE_BYTES, pageNumberOfHalves, TWO_POW_32 } from "./address.js";
import { fetchByParcels, type MemoryBackend, type ParcelReader } from "./backend.js";
import { MemoryFault, PROT_EXEC, PROT_READ, PROT_WRITE, type AccessKind } from "./protection.js";
import type { RegionMap } from "./region-map.js";
import { WrappingBackend } from "./wrapping-backend.js";

/**
 * What a fault handler decides: check the access again (it mapped or re-protected the
 * pages), or let the fault stand.
 */
export type FaultVerdict = "retry" | "fail";
/** A fault handler: called with the fault, before it is thrown. */
export type FaultHandler = (fault: MemoryFault) => FaultVerdict | void;
/** Retries of one access before its fault stands, whatever the handler says (a handler that maps nothing cannot loop forever). */
const MAX_FAULT_RETRIES = 8;

/**
 * Strict mode: a backend wrapper that lets an access through only if every byte lies in a
 * mapped region whose protection allows it, and otherwise throws a MemoryFault carrying the
 * address, width and access kind. The last region that allowed an access is remembered, so
 * the common case is three comparisons.
 */
export class GuardedBackend extends WrappingBackend implements MemoryBackend {
  private allowedFirstPage = 0;
  private allowedEndPage = 0;
  private allowedProtection = 0;
  /** Called with each fault before it is thrown: "retry" checks the access again (AddressSpace.onFault). */
  faultHandler: FaultHandler | null = null;

  /** Parcel loads that need PROT_EXEC, for fetchByParcels. */
  private readonly executable: ParcelReader = {
    load16: (lo, hi) => {
      this.check(lo, hi, 2, PROT_EXEC);
      return this.inner.load16(lo, hi);
    },
  };

  /** Checks every access against `regions` before it reaches `inner`. */
  constructor(
    inner: MemoryBackend,
    private readonly regions: RegionMap,
  ) {
    super(inner);
  }

  /** Call after the region map changes. */
  forgetRegion(): void {
    this.allowedEndPage = 0;
  }

  /** Loads a byte; throws a MemoryFault unless it is readable. */
  load8(lo: number, hi: number): number {
    this.check(lo, hi, 1, PROT_READ);
    return this.inner.load8(lo, hi);
  }
  /** Loads a u16; throws a MemoryFault unless both bytes are readable. */
  load16(lo: number, hi: number): number {
    this.check(lo, hi, 2, PROT_READ);
    return this.inner.load16(lo, hi);
  }
  /** Loads a u32; throws a MemoryFault unless every byte is readable. */
  load32(lo: number, hi: number): number {
    this.check(lo, hi, 4, PROT_READ);
    return this.inner.load32(lo, hi);
  }
  /** Loads a u64 (high half in `loadHigh`); throws a MemoryFault unless every byte is readable. */
  load64(lo: number, hi: number): number {
    this.check(lo, hi, 8, PROT_READ);
    const value = this.inner.load64(lo, hi);
    this.loadHigh = this.inner.loadHigh;
    return value;
  }
  /** Stores a byte; throws a MemoryFault unless it is writable. */
  store8(lo: number, hi: number, value: number): void {
    this.check(lo, hi, 1, PROT_WRITE);
    this.inner.store8(lo, hi, value);
  }
  /** Stores a u16; throws a MemoryFault unless both bytes are writable. */
  store16(lo: number, hi: number, value: number): void {
    this.check(lo, hi, 2, PROT_WRITE);
    this.inner.store16(lo, hi, value);
  }
  /** Stores a u32; throws a MemoryFault unless every byte is writable. */
  store32(lo: number, hi: number, value: number): void {
    this.check(lo, hi, 4, PROT_WRITE);
    this.inner.store32(lo, hi, value);
  }
  /** Stores a u64; throws a MemoryFault unless every byte is writable. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.check(lo, hi, 8, PROT_WRITE);
    this.inner.store64(lo, hi, valueLo, valueHi);
  }
  /** Instruction fetch needs execute permission: each parcel is checked (a "fetch" fault). */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this.executable, lo, hi);
  }
  /** A guarded fork of the inner backend, with a copy of the region map. */
  fork(): GuardedBackend {
    return new GuardedBackend(this.inner.fork(), this.regions.clone());
  }

  private check(lo: number, hi: number, widthBytes: number, needed: number): void {
    const page = pageNumberOfHalves(lo, hi);
    const lastPage = (lo & PAGE_OFFSET_MASK) + widthBytes > PAGE_SIZE_BYTES ? page + 1 : page;
    if (page >= this.allowedFirstPage && lastPage < this.allowedEndPage && (this.allowedProtection & needed) === needed) return;
    this.checkSlow(lo, hi, widthBytes, needed, page, lastPage);
  }

  private checkSlow(lo: number, hi: number, widthBytes: number, needed: number, page: number, lastPage: number): void {
    checkAccessEnd(lo, hi, widthBytes);
    const access: AccessKind = needed === PROT_WRITE ? "write" : needed === PROT_EXEC ? "fetch" : "read";
    const address = BigInt(hi >>> 0) * BigInt(TWO_POW_32) + BigInt(lo >>> 0);
    for (let attempt = 0; ; attempt++) {
      const denied = this.regions.firstDenied(page, lastPage + 1, needed);
      if (denied < 0) break;
      const reason = this.regions.find(denied) === undefined ? "unmapped" : "protection";
      const fault = new MemoryFault(address, widthBytes, access, reason);
      if (this.faultHandler === null || attempt >= MAX_FAULT_RETRIES || this.faultHandler(fault) !== "retry") throw fault;
    }
    const region = this.regions.find(page)!;
    this.allowedFirstPage = region.firstPage;
    this.allowedEndPage = region.endPage;
    this.allowedProtection = region.protection;
  }
}

