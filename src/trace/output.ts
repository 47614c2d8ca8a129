/**
 * Where a trace's records go, whatever the file format: every command that writes a trace
 * (gen, import-lackey, run --trace, convert) writes through this interface, so `--format`
 * picks a class and nothing else changes. Addresses and values are 32-bit halves.
 */

/** The trace file formats: the seed interchange format, and the v2 container. */
export type TraceFileFormat = "seed" | "v2";

/** The formats `--format` takes, the default first. */
export const TRACE_FILE_FORMATS: readonly TraceFileFormat[] = ["seed", "v2"];

/**
 * A consumer of trace records, one method per kind, so instruction and data sides stay
 * apart: writers, converters, the cache simulator and the analyses all take records this
 * way. `sizeBytes` is 1 to 4096; an access ends at or below 2^64 - 1.
 */
export interface RecordSink {
  /** An instruction fetch of `sizeBytes` bytes at the address. */
  fetch(lo: number, hi: number, sizeBytes: number): void;
  /** A data read. */
  read(lo: number, hi: number, sizeBytes: number): void;
  /** A data write and its value, as 32-bit halves (a sink that does not keep values ignores them). */
  write(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void;
  /**
   * A read then a write of the same bytes by one instruction (lackey's ` M`), with the value
   * written. The cache simulator counts it as Cachegrind does, as one data read.
   */
  modify(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void;
}

/** Instructions one `fetchRun` takes at most: a bit each in its mask. */
export const FETCH_RUN_MAX = 31;

/** The 2-byte parcels (seed-format fetch records) of a fetch run (TraceOutput.fetchRun): a 4-byte instruction is two. */
export function fetchRunParcels(count: number, wideMask: number): number {
  let bits = wideMask & ~(-1 << count);
  bits = bits - ((bits >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return count + (Math.imul((bits + (bits >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** `fetchRun` as the `fetch` calls it stands for, one per instruction. */
export function fetchRunByRecord(sink: RecordSink, lo: number, hi: number, count: number, wideMask: number): void {
  for (let index = 0; index < count; index++) {
    const sizeBytes = 2 + 2 * ((wideMask >>> index) & 1);
    sink.fetch(lo, hi, sizeBytes);
    const next = (lo + sizeBytes) | 0;
    if (next >>> 0 < lo >>> 0) hi = (hi + 1) | 0;
    lo = next;
  }
}

/** A trace being written; it appears at its path only on `close` (see OutputFile). */
export interface TraceOutput extends RecordSink {
  /**
   * Appends the fetches of `count` (at most FETCH_RUN_MAX) instructions laid end to end from
   * (lo, hi), instruction k 4 bytes long if bit k of `wideMask` is set, else 2 (bits from
   * `count` up are ignored): as `count` calls of `fetch`, in one (translated code records a
   * straight run of instructions so).
   */
  fetchRun(lo: number, hi: number, count: number, wideMask: number): void;
  /** Records appended so far (fetches, reads and writes, each one record). */
  readonly recordsWritten: number;
  /** Records as the file holds them: for a seed trace its seed records (a 4-byte fetch is two), for v2 `recordsWritten`. */
  readonly opsWritten: number;
  /** Bytes of the file so far (after `close`, its size). */
  readonly byteLength: number;
  /** Finishes the file and moves it into place. */
  close(): void;
  /** Drops the file; its path keeps what it had. */
  discard(): void;
}
