/**
 * The hart's memory as the interpreter sees it while a translator runs: every access goes
 * to the hart's memory, stores over translated code drop it (as a block's stores do), and
 * a fetch the translated code already made is answered once from its bits, not made again.
 */
import type { MemoryAccess } from "../../space/backend.js";
import type { CodeCache } from "./code-cache.js";

/** The interpreter runs no region: its stores drop code but end nothing. */
const NO_REGION_RUNNING: readonly number[] = [];

export class InterpreterAccess implements MemoryAccess {
  loadHigh = 0;
  /** Bits of a fetch already made, which the next fetch returns instead of fetching; null for none. */
  prefetched: number | null = null;

  constructor(
    /** The hart's memory it stands for. */
    readonly memory: MemoryAccess,
    private readonly cache: CodeCache,
  ) {}

  load8(lo: number, hi: number): number {
    return this.memory.load8(lo, hi);
  }
  load16(lo: number, hi: number): number {
    return this.memory.load16(lo, hi);
  }
  load32(lo: number, hi: number): number {
    return this.memory.load32(lo, hi);
  }
  load64(lo: number, hi: number): number {
    const value = this.memory.load64(lo, hi);
    this.loadHigh = this.memory.loadHigh;
    return value;
  }
  store8(lo: number, hi: number, value: number): void {
    this.memory.store8(lo, hi, value);
    this.stored(lo, hi, 1);
  }
  store16(lo: number, hi: number, value: number): void {
    this.memory.store16(lo, hi, value);
    this.stored(lo, hi, 2);
  }
  store32(lo: number, hi: number, value: number): void {
    this.memory.store32(lo, hi, value);
    this.stored(lo, hi, 4);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.memory.store64(lo, hi, valueLo, valueHi);
    this.stored(lo, hi, 8);
  }
  fetchInstruction(lo: number, hi: number): number {
    const prefetched = this.prefetched;
    if (prefetched === null) return this.memory.fetchInstruction(lo, hi);
    this.prefetched = null;
    return prefetched;
  }
  countAccesses(loads: number, stores: number): void {
    this.memory.countAccesses(loads, stores);
  }

  private stored(lo: number, hi: number, widthBytes: number): void {
    if (this.cache.mayHoldCode(lo, widthBytes)) this.cache.stored(lo, hi, widthBytes, NO_REGION_RUNNING);
  }
}
