import { secondParcelHigh, type MemoryAccess } from "../space/backend.js";
import { TraceWriter } from "./writer.js";

/**
 * Records every access to `inner` as a trace record, then returns what `inner` returned: a
 * decorator rather than a TeeAccess observer, one call level less on the guest's hot path
 * (with the tee, TurboFan ran out of inlining budget and left address arithmetic as calls).
 */
export class TraceRecorder implements MemoryAccess {
  loadHigh = 0;

  constructor(
    private readonly inner: MemoryAccess,
    readonly writer: TraceWriter,
  ) {}

  load8(lo: number, hi: number): number {
    const value = this.inner.load8(lo, hi);
    this.writer.appendRead(lo, hi, 1);
    return value;
  }
  load16(lo: number, hi: number): number {
    const value = this.inner.load16(lo, hi);
    this.writer.appendRead(lo, hi, 2);
    return value;
  }
  load32(lo: number, hi: number): number {
    const value = this.inner.load32(lo, hi);
    this.writer.appendRead(lo, hi, 4);
    return value;
  }
  load64(lo: number, hi: number): number {
    const value = this.inner.load64(lo, hi);
    this.loadHigh = this.inner.loadHigh;
    this.writer.appendRead(lo, hi, 8);
    return value;
  }
  store8(lo: number, hi: number, value: number): void {
    this.inner.store8(lo, hi, value);
    this.writer.appendWrite(lo, hi, 1, value, 0);
  }
  store16(lo: number, hi: number, value: number): void {
    this.inner.store16(lo, hi, value);
    this.writer.appendWrite(lo, hi, 2, value, 0);
  }
  store32(lo: number, hi: number, value: number): void {
    this.inner.store32(lo, hi, value);
    this.writer.appendWrite(lo, hi, 4, value, 0);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.inner.store64(lo, hi, valueLo, valueHi);
    this.writer.appendWrite(lo, hi, 8, valueLo, valueHi);
  }
  fetchInstruction(lo: number, hi: number): number {
    const raw = this.inner.fetchInstruction(lo, hi);
    this.writer.appendRead(lo, hi, 2);
    if ((raw & 3) === 3) this.writer.appendRead((lo + 2) | 0, secondParcelHigh(lo, hi), 2);
    return raw;
  }
  countAccesses(loads: number, stores: number): void {
    this.inner.countAccesses(loads, stores);
  }
}
