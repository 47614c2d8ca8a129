import { TWO_POW_32 } from "../space/address.js";
import { ReplayTally } from "./replay-tally.js";
import type { MemoryAccess } from "../space/backend.js";
import { headerProblem, TraceFormat, TraceFormatError } from "./format.js";
import { streamTraceInput, type StreamOptions } from "./reader.js";
import { openTrace } from "./trace-input.js";
import { forEachV2Payload } from "./v2/chunks.js";
import { replayPayload } from "./v2/replay-payload.js";
import { replayAccessRuns } from "./v2/replay-runs.js";
import type { ChunkInfo } from "./v2/chunk-decoder.js";


export { ReplayTally } from "./replay-tally.js";

/** Record heads as one little-endian u16: op in the low byte, width in the high byte. */
const enum Head {
  Read1 = TraceFormat.OpRead | (1 << 8),
  Read2 = TraceFormat.OpRead | (2 << 8),
  Read4 = TraceFormat.OpRead | (4 << 8),
  Read8 = TraceFormat.OpRead | (8 << 8),
  Write1 = TraceFormat.OpWrite | (1 << 8),
  Write2 = TraceFormat.OpWrite | (2 << 8),
  Write4 = TraceFormat.OpWrite | (4 << 8),
  Write8 = TraceFormat.OpWrite | (8 << 8),
}

/** What `replayFile` reports. */
export interface ReplayResult {
  /** Records replayed: reads plus writes. */
  ops: number;
  /** Read records replayed. */
  reads: number;
  /** Write records replayed. */
  writes: number;
  /** Bytes of trace read. */
  bytes: number;
  /** Wall-clock time of the replay, in milliseconds, reading included. */
  milliseconds: number;
  /** Wrapping u64 sum of every value read: equal across backends that keep state. */
  checksum: bigint;
}

/**
 * Trace bytes one call of the replay kernel takes at most. Short calls keep V8 on the
 * kernel's regular optimized code: with few long calls, every call re-entered on-stack-
 * replaced code whose loop takes its values tagged from the interpreter frame (the full
 * story in docs/design/replay-and-paged-backend.md).
 */
const SLICE_BYTES = 32 << 10;

/**
 * Decodes the records in `bytes[start, end)` and applies each to `sink`; returns the index
 * it stopped at (a trailing partial record is left for the next chunk). A malformed record
 * is an error naming its file offset (`fileOffset` is that of `bytes[start]`).
 */
export function replayChunk(
  sink: MemoryAccess,
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  fileOffset: number,
  tally: ReplayTally,
): number {
  let at = start;
  for (;;) {
    const sliceEnd = end - at > SLICE_BYTES ? at + SLICE_BYTES : end;
    const stop = replaySlice(sink, bytes, view, at, sliceEnd, tally);
    // The kernel stops early only at a record the slice cuts off or a malformed header
    // (a bad op or width, or an access past the top of the space).
    if (stop <= sliceEnd - TraceFormat.HeaderBytes) {
      const problem = headerProblem(view, stop);
      if (problem !== null) throw new TraceFormatError(tally.file, fileOffset + (stop - start), problem);
    }
    if (sliceEnd === end) return stop;
    // A slice short of the chunk's end holds whole records, so the kernel moved on.
    if (stop === at) throw new Error(`replay invariant: no progress at byte offset ${fileOffset + (at - start)} of ${tally.file}`);
    at = stop;
  }
}

/**
 * The replay hot loop, over one slice: no allocation, widths dispatched to fixed-width calls,
 * reads first (they dominate). Returns where it stopped (a partial or malformed record).
 */
function replaySlice(sink: MemoryAccess, bytes: Uint8Array, view: DataView, start: number, end: number, tally: ReplayTally): number {
  // Sums of the value halves; a slice (SLICE_BYTES) holds at most 3,277 records, so a double sum stays exact.
  let sumLo = 0;
  let sumHi = 0;
  // Reads are not counted one by one: every byte consumed is a 10-byte header or a write's
  // value, so reads follow from the bytes, the writes and their value bytes (one counter
  // less on the most frequent path).
  let writes = 0;
  let writeValueBytes = 0;
  // Offsets stay below 2^31 (a chunk is a few MiB), so `| 0` on each step spares TurboFan
  // an overflow check per addition (callgrind: about 10 host instructions per op). The
  // parameters too, once: `at` started from the tagged `start` was a tagged loop variable
  // (a Smi check every record), and `end` was converted at each use.
  const endAt = end | 0;
  let at = start | 0;
  const lastHeader = (endAt - TraceFormat.HeaderBytes) | 0;
  while (at <= lastHeader) {
    // One little-endian u16 load gives op (low byte) and width (high byte); the cases are
    // ordered by how often the reference workloads use them.
    const head = view.getUint16(at, true);
    // Address halves and values as int32: typical addresses (below 2^30, or just under a
    // 2^32 line like a stack) are then small integers, which a call that TurboFan did not
    // inline passes without boxing a heap number. Backends accept int32 or u32 halves.
    const lo = view.getInt32((at + 2) | 0, true);
    const hi = view.getInt32((at + 6) | 0, true);
    // Every sink gets only accesses that end at or below 2^64 - 1 (accessRunsPastTop, written
    // out: a call here costs measurably on the most frequent path). The top 4 GiB is
    // rare, so the common path pays one comparison; the width is checked only up there.
    if (hi === -1 && (lo >>> 0) > TWO_POW_32 - (head >>> 8)) break;
    if (head === Head.Read2) {
      sumLo += sink.load16(lo, hi);
      at = (at + TraceFormat.HeaderBytes) | 0;
      // Unrolled once: two-byte reads (instruction fetch) come in runs. A read in the top
      // 4 GiB is left to the loop's check above.
      if (at <= lastHeader && view.getUint16(at, true) === Head.Read2) {
        const nextHi = view.getInt32((at + 6) | 0, true);
        if (nextHi !== -1) {
          sumLo += sink.load16(view.getInt32((at + 2) | 0, true), nextHi);
          at = (at + TraceFormat.HeaderBytes) | 0;
        }
      }
    } else if ((head & 0xff) === TraceFormat.OpRead) {
      if (head === Head.Read8) {
        sumLo += sink.load64(lo, hi);
        sumHi += sink.loadHigh;
      } else if (head === Head.Read4) sumLo += sink.load32(lo, hi);
      else if (head === Head.Read1) sumLo += sink.load8(lo, hi);
      else break;
      at = (at + TraceFormat.HeaderBytes) | 0;
    } else {
      const valueAt = (at + TraceFormat.HeaderBytes) | 0;
      if (head === Head.Write8) {
        if (valueAt + 8 > endAt) break;
        sink.store64(lo, hi, view.getInt32(valueAt, true), view.getInt32((valueAt + 4) | 0, true));
        at = (valueAt + 8) | 0;
      } else if (head === Head.Write4) {
        if (valueAt + 4 > endAt) break;
        sink.store32(lo, hi, view.getInt32(valueAt, true));
        at = (valueAt + 4) | 0;
      } else if (head === Head.Write2) {
        if (valueAt + 2 > endAt) break;
        sink.store16(lo, hi, view.getUint16(valueAt, true));
        at = (valueAt + 2) | 0;
      } else if (head === Head.Write1) {
        if (valueAt + 1 > endAt) break;
        sink.store8(lo, hi, bytes[valueAt]);
        at = (valueAt + 1) | 0;
      } else break;
      writes++;
      writeValueBytes += head >>> 8;
    }
  }
  const reads = (at - start - writes * TraceFormat.HeaderBytes - writeValueBytes) / TraceFormat.HeaderBytes;
  // Reported once a slice (a slice whose replay throws midway reports nothing).
  sink.countAccesses(reads, writes);
  tally.reads += reads;
  tally.writes += writes;
  tally.sliceSums[0] = sumLo;
  tally.sliceSums[1] = sumHi;
  tally.addSliceSums();
  return at;
}

/**
 * Replays a trace file (`-`: standard input; seed or v2, told by its header) onto `sink`,
 * streaming in bounded memory. A v2 trace replays as its seed conversion would.
 */
export function replayFile(path: string, sink: MemoryAccess, options: StreamOptions = {}): ReplayResult {
  const started = performance.now();
  const { input, format, v2Header } = openTrace(path);
  const tally = new ReplayTally(input.name);
  let bytes: number;
  try {
    if (format === "seed") {
      bytes = streamTraceInput(input, (chunk, view, start, end, fileOffset) => replayChunk(sink, chunk, view, start, end, fileOffset, tally), options);
    } else {
      const flags = v2Header!.flags;
      const visitPayload = (raw: Uint8Array, info: ChunkInfo, firstRecord: number): void => replayPayload(sink, raw, info, flags, firstRecord, tally);
      const visitRuns = (words: Int32Array, wordCount: number): void => replayAccessRuns(sink, words, wordCount, tally);
      bytes = forEachV2Payload(input, v2Header!, visitPayload, options, visitRuns).bytes;
    }
  } finally {
    input.close();
  }
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
