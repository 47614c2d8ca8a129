/**
 * Feeds any trace's records to a RecordSink: a seed trace through the replay kernel (its
 * reads are data reads: the format cannot tell fetches apart), a v2 trace chunk by chunk,
 * with fetches, values and any size as recorded.
 */
import { fetchByParcels, type MemoryAccess } from "../space/backend.js";
import type { RecordSink, TraceFileFormat } from "./output.js";
import { streamTraceInput, type StreamOptions } from "./reader.js";
import { replayChunk } from "./replay.js";
import { ReplayTally } from "./replay-tally.js";
import { openTrace, type OpenTrace } from "./trace-input.js";
import { sizeOfRecord, type ChunkColumns } from "./v2/chunk-columns.js";
import { RecordKind, Head, V2Flag } from "./v2/layout.js";
import { forEachV2Chunk } from "./v2/chunks.js";
import { derivedValueHi, derivedValueLo } from "./v2/seed-pieces.js";

/** How many records of each kind a trace delivered, and its format. */
export interface RecordCounts {
  /** Instruction fetches (always 0 for a seed trace). */
  fetches: number;
  /** Data reads. */
  reads: number;
  /** Data writes. */
  writes: number;
  /** Modifies, a read and a write each (always 0 for a seed trace). */
  modifies: number;
  /** Bytes of the trace read, the whole file. */
  inputBytes: number;
}

/** Replay's sink interface in front of a RecordSink: loads are data reads, stores data writes with their values. */
class ReplayToRecords implements MemoryAccess {
  loadHigh = 0;
  constructor(private readonly sink: RecordSink) {}
  load8(lo: number, hi: number): number {
    this.sink.read(lo, hi, 1);
    return 0;
  }
  load16(lo: number, hi: number): number {
    this.sink.read(lo, hi, 2);
    return 0;
  }
  load32(lo: number, hi: number): number {
    this.sink.read(lo, hi, 4);
    return 0;
  }
  load64(lo: number, hi: number): number {
    this.sink.read(lo, hi, 8);
    return 0;
  }
  store8(lo: number, hi: number, value: number): void {
    this.sink.write(lo, hi, 1, value, 0);
  }
  store16(lo: number, hi: number, value: number): void {
    this.sink.write(lo, hi, 2, value, 0);
  }
  store32(lo: number, hi: number, value: number): void {
    this.sink.write(lo, hi, 4, value, 0);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.sink.write(lo, hi, 8, valueLo, valueHi);
  }
  /** Replay itself never fetches; a caller that does gets parcel reads, as a trace records them. */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  countAccesses(): void {}
}

/**
 * Feeds every record of the trace at `path` (`-`: standard input; seed or v2, told by its
 * header) to `sink`, in order. A v2 write without a stored value gets the derived value
 * that conversion to seed gives it (seed-pieces.ts).
 */
export function feedRecords(path: string, sink: RecordSink, options: StreamOptions = {}): RecordCounts & { format: TraceFileFormat } {
  const trace = openTrace(path);
  try {
    return feedOpenTrace(trace, sink, options);
  } finally {
    trace.input.close();
  }
}

/** `feedRecords` over a trace already open. */
export function feedOpenTrace(trace: OpenTrace, sink: RecordSink, options: StreamOptions = {}): RecordCounts & { format: TraceFileFormat } {
  const { input, format } = trace;
  {
    if (format === "seed") {
      const tally = new ReplayTally(input.name);
      const adapter = new ReplayToRecords(sink);
      const inputBytes = streamTraceInput(input, (bytes, view, start, end, fileOffset) => replayChunk(adapter, bytes, view, start, end, fileOffset, tally), options);
      return { format, fetches: 0, reads: tally.reads, writes: tally.writes, modifies: 0, inputBytes };
    }
    const result = forEachV2Chunk(input, trace.v2Header!, (columns, firstRecord) => feedColumns(columns, firstRecord, sink), options);
    return { format, fetches: result.fetches, reads: result.reads, writes: result.writes, modifies: result.modifies, inputBytes: result.bytes };
  }
}

/** Feeds a decoded chunk's records (the first of them record `firstRecord` of the trace) to `sink`, in order. */
export function feedColumns(columns: ChunkColumns, firstRecord: number, sink: RecordSink): void {
  const { heads, addressLo, addressHi, valueLo, valueHi, count } = columns;
  const hasValues = (columns.flags & V2Flag.Values) !== 0;
  for (let index = 0; index < count; index++) {
    const head = heads[index];
    const kind = head & Head.KindMask;
    const sizeBytes = sizeOfRecord(columns, index, head);
    if (kind === RecordKind.Fetch) sink.fetch(addressLo[index], addressHi[index], sizeBytes);
    else if (kind === RecordKind.Read) sink.read(addressLo[index], addressHi[index], sizeBytes);
    else {
      const vLo = hasValues ? valueLo[index] : derivedValueLo(firstRecord + index);
      const vHi = hasValues ? valueHi[index] : derivedValueHi(firstRecord + index);
      if (kind === RecordKind.Write) sink.write(addressLo[index], addressHi[index], sizeBytes, vLo, vHi);
      else sink.modify(addressLo[index], addressHi[index], sizeBytes, vLo, vHi);
    }
  }
}
