import type { MemoryAccess } from "../space/backend.js";
import type { TraceOutput } from "./output.js";

/**
 * Records every access to `inner` as a trace record, then returns what `inner` returned: a
 * decorator rather than a TeeAccess observer, one call level less on the guest's hot path
 * (with the tee, TurboFan ran out of inlining budget and left address arithmetic as calls).
 */
export class TraceRecorder implements MemoryAccess {
  /** High 32 bits of the inner access's last `load64`. */
  loadHigh = 0;

  /** Records every access to `inner` through `writer`. */
  constructor(
    /** The access recorded. */
    readonly inner: MemoryAccess,
    /** Where the records go (a seed or v2 trace); the caller closes it. */
    readonly writer: TraceOutput,
  ) {}

  /** Loads through the inner access and records a 1-byte read. */
  load8(lo: number, hi: number): number {
    const value = this.inner.load8(lo, hi);
    this.writer.read(lo, hi, 1);
    return value;
  }
  /** Loads through the inner access and records a 2-byte read. */
  load16(lo: number, hi: number): number {
    const value = this.inner.load16(lo, hi);
    this.writer.read(lo, hi, 2);
    return value;
  }
  /** Loads through the inner access and records a 4-byte read. */
  load32(lo: number, hi: number): number {
    const value = this.inner.load32(lo, hi);
    this.writer.read(lo, hi, 4);
    return value;
  }
  /** Loads through the inner access and records an 8-byte read. */
  load64(lo: number, hi: number): number {
    const value = this.inner.load64(lo, hi);
    this.loadHigh = this.inner.loadHigh;
    this.writer.read(lo, hi, 8);
    return value;
  }
  /** Stores through the inner access and records a 1-byte write. */
  store8(lo: number, hi: number, value: number): void {
    this.inner.store8(lo, hi, value);
    this.writer.write(lo, hi, 1, value, 0);
  }
  /** Stores through the inner access and records a 2-byte write. */
  store16(lo: number, hi: number, value: number): void {
    this.inner.store16(lo, hi, value);
    this.writer.write(lo, hi, 2, value, 0);
  }
  /** Stores through the inner access and records a 4-byte write. */
  store32(lo: number, hi: number, value: number): void {
    this.inner.store32(lo, hi, value);
    this.writer.write(lo, hi, 4, value, 0);
  }
  /** Stores through the inner access and records an 8-byte write. */
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.inner.store64(lo, hi, valueLo, valueHi);
    this.writer.write(lo, hi, 8, valueLo, valueHi);
  }
  /**
   * Fetches through the inner access and records a fetch of the instruction, 4 bytes or 2 for
   * a compressed one (a seed trace writes it as the parcels read).
   */
  fetchInstruction(lo: number, hi: number): number {
    const raw = this.inner.fetchInstruction(lo, hi);
    this.writer.fetch(lo, hi, (raw & 3) === 3 ? 4 : 2);
    return raw;
  }
  /** Counts on the inner access. */
  countAccesses(loads: number, stores: number): void {
    this.inner.countAccesses(loads, stores);
  }
}
