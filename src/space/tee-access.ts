import { secondParcelHigh, type MemoryAccess } from "./backend.js";

/**
 * Forwards every access to `primary` (whose load values it returns) and then shows it to
 * `observer` (a trace recorder, statistics): one way to watch a memory without changing it.
 */
export class TeeAccess implements MemoryAccess {
  /** High 32 bits of the primary's last `load64`. */
  loadHigh = 0;

  /** Sends every access to `primary`, then to `observer`. */
  constructor(
    private readonly primary: MemoryAccess,
    private readonly observer: MemoryAccess,
  ) {}

  /** The primary's byte; the observer sees the same load. */
  load8(lo: number, hi: number): number {
    const value = this.primary.load8(lo, hi);
    this.observer.load8(lo, hi);
    return value;
  }
  /** The primary's u16; the observer sees the same load. */
  load16(lo: number, hi: number): number {
    const value = this.primary.load16(lo, hi);
    this.observer.load16(lo, hi);
    return value;
  }
  /** The primary's u32; the observer sees the same load. */
  load32(lo: number, hi: number): number {
    const value = this.primary.load32(lo, hi);
    this.observer.load32(lo, hi);
    return value;
  }
  /** The primary's u64 (low half returned, high half in `loadHigh`); the observer sees the same load. */
  load64(lo: number, hi: number): number {
    const value = this.primary.load64(lo, hi);
    this.loadHigh = this.primary.loadHigh;
    this.observer.load64(lo, hi);
    return value;
  }
  /** Stores to the primary, then shows the store to the observer. */
  store8(lo: number, hi: number, value: number): void {
    this.primary.store8(lo, hi, value);
    this.observer.store8(lo, hi, value);
  }
  /** Stores to the primary, then shows the store to the observer. */
  store16(lo: number, hi: number, value: number): void {
    this.primary.store16(lo, hi, value);
    this.observer.store16(lo, hi, value);
  }
  /** Stores to the primary, then shows the store to the observer. */
  store32(lo: number, hi: number, value: number): void {
    this.primary.store32(lo, hi, value);
    this.observer.store32(lo, hi, value);
  }
  /** Stores to the primary, then shows the store to the observer. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.primary.store64(lo, hi, valueLo, valueHi);
    this.observer.store64(lo, hi, valueLo, valueHi);
  }
  /** The primary's fetch; the observer sees it as one or two `load16` calls. */
  fetchInstruction(lo: number, hi: number): number {
    const raw = this.primary.fetchInstruction(lo, hi);
    this.observer.load16(lo, hi);
    if ((raw & 3) === 3) this.observer.load16((lo + 2) | 0, secondParcelHigh(lo, hi));
    return raw;
  }
  /** Counts the accesses on both sides. */
  countAccesses(loads: number, stores: number): void {
    this.primary.countAccesses(loads, stores);
    this.observer.countAccesses(loads, stores);
  }
}
