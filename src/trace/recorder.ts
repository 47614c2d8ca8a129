import type { MemoryAccess } from "../space/backend.js";
import { TraceWriter } from "./writer.js";

/**
 * A sink that writes every access it sees as a trace record (loads return 0). Put it
 * behind a TeeAccess to record the traffic of a real memory.
 */
export class TraceRecorder implements MemoryAccess {
  loadHigh = 0;

  constructor(readonly writer: TraceWriter) {}

  load8(lo: number, hi: number): number {
    this.writer.read(lo, hi, 1);
    return 0;
  }
  load16(lo: number, hi: number): number {
    this.writer.read(lo, hi, 2);
    return 0;
  }
  load32(lo: number, hi: number): number {
    this.writer.read(lo, hi, 4);
    return 0;
  }
  load64(lo: number, hi: number): number {
    this.writer.read(lo, hi, 8);
    return 0;
  }
  store8(lo: number, hi: number, value: number): void {
    this.writer.write(lo, hi, 1, value, 0);
  }
  store16(lo: number, hi: number, value: number): void {
    this.writer.write(lo, hi, 2, value, 0);
  }
  store32(lo: number, hi: number, value: number): void {
    this.writer.write(lo, hi, 4, value, 0);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.writer.write(lo, hi, 8, valueLo, valueHi);
  }
}
