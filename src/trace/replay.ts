import type { MemoryAccess } from "../space/backend.js";
import { OP_READ, OP_WRITE, RECORD_HEADER_BYTES, recordProblem, TraceFormatError } from "./format.js";
import { streamTrace, type StreamOptions } from "./reader.js";

const U64_MASK = (1n << 64n) - 1n;

export interface ReplayResult {
  ops: number;
  reads: number;
  writes: number;
  bytes: number;
  milliseconds: number;
  /** Wrapping u64 sum of every value read: equal across backends that keep state. */
  checksum: bigint;
}

/** Running totals of one replay; the chunk loop adds to them once per chunk. */
export class ReplayTally {
  reads = 0;
  writes = 0;
  checksum = 0n;
  /** `file` names the trace in error messages. */
  constructor(readonly file: string) {}
}

/**
 * Decodes the records in `bytes[0, end)` and applies each to `sink`; returns the bytes
 * consumed (a trailing partial record is left for the next chunk). This is the replay hot
 * loop: no allocation, widths dispatched to fixed-width calls, reads first (they dominate).
 */
export function replayChunk(
  sink: MemoryAccess,
  bytes: Uint8Array,
  view: DataView,
  end: number,
  fileOffset: number,
  tally: ReplayTally,
): number {
  // Sums of the value halves; a chunk holds < 2^21 records, so a double sum stays exact.
  let sumLo = 0;
  let sumHi = 0;
  let reads = 0;
  let writes = 0;
  let at = 0;
  const lastHeader = end - RECORD_HEADER_BYTES;
  while (at <= lastHeader) {
    const op = bytes[at];
    const width = bytes[at + 1];
    const lo = view.getUint32(at + 2, true);
    const hi = view.getUint32(at + 6, true);
    if (op === OP_READ) {
      if (width === 2) sumLo += sink.load16(lo, hi);
      else if (width === 8) {
        sumLo += sink.load64(lo, hi);
        sumHi += sink.loadHigh;
      } else if (width === 4) sumLo += sink.load32(lo, hi);
      else if (width === 1) sumLo += sink.load8(lo, hi);
      else break;
      at += RECORD_HEADER_BYTES;
      reads++;
    } else if (op === OP_WRITE) {
      const next = at + RECORD_HEADER_BYTES + width;
      if (next > end) break;
      const valueAt = at + RECORD_HEADER_BYTES;
      if (width === 8) sink.store64(lo, hi, view.getUint32(valueAt, true), view.getUint32(valueAt + 4, true));
      else if (width === 4) sink.store32(lo, hi, view.getUint32(valueAt, true));
      else if (width === 2) sink.store16(lo, hi, view.getUint16(valueAt, true));
      else if (width === 1) sink.store8(lo, hi, bytes[valueAt]);
      else break;
      at = next;
      writes++;
    } else break;
  }
  tally.reads += reads;
  tally.writes += writes;
  tally.checksum = (tally.checksum + BigInt(sumLo) + (BigInt(sumHi) << 32n)) & U64_MASK;
  // The loop stops early only at a partial write record or a malformed header.
  if (at <= lastHeader) {
    const problem = recordProblem(bytes[at], bytes[at + 1]);
    if (problem !== null) throw new TraceFormatError(tally.file, fileOffset + at, problem);
  }
  return at;
}

/** Replays a trace file onto `sink`, streaming in bounded memory. */
export function replayFile(path: string, sink: MemoryAccess, options: StreamOptions = {}): ReplayResult {
  const tally = new ReplayTally(path);
  const started = performance.now();
  const bytes = streamTrace(
    path,
    (chunk, view, end, fileOffset) => replayChunk(sink, chunk, view, end, fileOffset, tally),
    options,
  );
  const milliseconds = performance.now() - started;
  return {
    ops: tally.reads + tally.writes,
    reads: tally.reads,
    writes: tally.writes,
    bytes,
    milliseconds,
    checksum: tally.checksum,
  };
}
