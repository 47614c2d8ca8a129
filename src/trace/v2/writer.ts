import { crc32 } from "node:zlib";
import { OutputFile } from "../../util/output-file.js";
import { TraceFormat } from "../format.js";
import { fetchRunByRecord, fetchRunParcels, type TraceOutput } from "../output.js";
import { ChunkEncoder, DEFAULT_DEFLATE_LEVEL, isValidAccessSize } from "./chunk-encoder.js";
import { RecordKind, type RecordKindCode, DEFAULT_CHUNK_SEED_BYTES, MAX_RECORD_SEED_BYTES, V2_MAGIC, V2_VERSION, V2Flag, V2Layout, MAX_CHUNK_SEED_BYTES, maxChunkRecords, setUint64 } from "./layout.js";
import { seedBytesOf } from "./seed-pieces.js";

/** Options of the V2TraceWriter constructor. */
export interface V2WriterOptions {
  /** The command's input files: writing over one of them is refused before anything is written. */
  inputPaths?: readonly string[];
  /** Whether writes carry values (default true; a lackey log has none to keep). */
  values?: boolean;
  /** Whether every record carries a pc (then use `append` with pcs). Default false. */
  pcs?: boolean;
  /** A chunk's limit as seed-format bytes (default 4 MiB, about 400,000 records). */
  chunkSeedBytes?: number;
  /** zlib level for chunk payloads, 0 (store) to 9; default 1. */
  deflateLevel?: number;
  /**
   * Whether head columns fold runs (V2Flag.Runs; default true): a file without runs has one
   * head byte a record, the layout memspace wrote before runs, which readers still take.
   */
  runs?: boolean;
}

/** Bounds of the chunk limit: room for the largest record, and decode buffers of sane size. */
const MIN_CHUNK_SEED_BYTES = MAX_RECORD_SEED_BYTES;

/**
 * Writes the v2 trace container (layout.ts): records are collected into chunks, each sealed
 * as columns and deflated when that pays, then an index of chunk offsets and a trailer.
 * The file appears at `path` only on `close`; `discard` leaves `path` as it was.
 */
export class V2TraceWriter implements TraceOutput {
  /** Records appended so far. */
  recordsWritten = 0;
  private readonly output: OutputFile;
  private readonly encoder: ChunkEncoder;
  private readonly chunkSeedBytes: number;
  private readonly hasValues: boolean;
  private bytesWritten = 0;
  /** Per chunk: file offset and first record, for the index. */
  private readonly chunkOffsets: number[] = [];
  private readonly chunkFirstRecords: number[] = [];

  /** Starts a trace that appears at `path` on `close`; throws an OutputAliasError if `path` is one of `options.inputPaths`. */
  constructor(
    /** Where the finished trace goes. */ readonly path: string,
    options: V2WriterOptions = {},
  ) {
    this.chunkSeedBytes = options.chunkSeedBytes ?? DEFAULT_CHUNK_SEED_BYTES;
    if (!Number.isInteger(this.chunkSeedBytes) || this.chunkSeedBytes < MIN_CHUNK_SEED_BYTES || this.chunkSeedBytes > MAX_CHUNK_SEED_BYTES) {
      throw new RangeError(`v2 trace writer: chunk limit ${this.chunkSeedBytes} outside ${MIN_CHUNK_SEED_BYTES}..${MAX_CHUNK_SEED_BYTES} bytes`);
    }
    this.hasValues = options.values ?? true;
    const flags = (this.hasValues ? V2Flag.Values : 0) | (options.pcs === true ? V2Flag.Pc : 0) | (options.runs === false ? 0 : V2Flag.Runs);
    this.encoder = new ChunkEncoder(maxChunkRecords(this.chunkSeedBytes), flags, options.deflateLevel ?? DEFAULT_DEFLATE_LEVEL);
    this.output = OutputFile.create(path, options.inputPaths);
    this.emit(fileHeader(flags, this.chunkSeedBytes));
  }

  /** Records in the file: `recordsWritten`, as each record is one. */
  get opsWritten(): number {
    return this.recordsWritten;
  }

  /** Total bytes in the file so far (sealed chunks only). */
  get byteLength(): number {
    return this.bytesWritten;
  }

  /** Appends an instruction fetch. */
  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.append(RecordKind.Fetch, sizeBytes, lo, hi, 0, 0, 0, 0);
  }

  /**
   * Appends the fetches of a run of instructions (TraceOutput.fetchRun): in one encoder call
   * when the chunk holds them all, else a record each (the same bytes either way).
   */
  fetchRun(lo: number, hi: number, count: number, wideMask: number): void {
    const encoder = this.encoder;
    const seedBytes = fetchRunParcels(count, wideMask) * TraceFormat.HeaderBytes;
    if (count > 1 && encoder.takesFetchRuns && (hi | 0) !== -1 && encoder.records + count <= encoder.maxRecords && encoder.seedBytes + seedBytes <= this.chunkSeedBytes) {
      encoder.addFetchRun(lo, hi, count, wideMask, seedBytes);
      this.recordsWritten += count;
      return;
    }
    fetchRunByRecord(this, lo, hi, count, wideMask);
  }

  /** Appends a data read. */
  read(lo: number, hi: number, sizeBytes: number): void {
    this.append(RecordKind.Read, sizeBytes, lo, hi, 0, 0, 0, 0);
  }

  /** Appends a data write and its value. */
  write(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    this.append(RecordKind.Write, sizeBytes, lo, hi, valueLo, valueHi, 0, 0);
  }

  /** Appends a modify (a read, then a write of the value) as one record. */
  modify(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    this.append(RecordKind.Modify, sizeBytes, lo, hi, valueLo, valueHi, 0, 0);
  }

  /**
   * Appends a record of any kind, with its pc (kept only in a trace opened with `pcs`).
   * Throws a RangeError for a size outside 1..4096, a write with a value of another size
   * than 1, 2, 4 or 8, or an access past the top of the 64-bit space.
   */
  append(kind: RecordKindCode, sizeBytes: number, lo: number, hi: number, valueLo: number, valueHi: number, pcLo: number, pcHi: number): void {
    if (!isValidAccessSize(sizeBytes)) throw new RangeError(`v2 trace writer: bad access size ${sizeBytes} (expected 1..4096)`);
    if ((kind === RecordKind.Write || kind === RecordKind.Modify) && this.hasValues && !(sizeBytes === 1 || sizeBytes === 2 || sizeBytes === 4 || sizeBytes === 8)) {
      throw new RangeError(`v2 trace writer: a write of ${sizeBytes} bytes cannot carry a value (1, 2, 4 or 8 bytes)`);
    }
    if ((hi | 0) === -1 && (lo >>> 0) + sizeBytes > 0x100000000) throw new RangeError(`v2 trace writer: access of ${sizeBytes} bytes runs past the top of the 64-bit space`);
    const encoder = this.encoder;
    if (encoder.records === encoder.maxRecords || encoder.seedBytes + seedBytesOf(kind, sizeBytes) > this.chunkSeedBytes) this.sealChunk();
    encoder.add(kind, sizeBytes, lo, hi, valueLo, valueHi, pcLo, pcHi);
    this.recordsWritten++;
  }

  private sealChunk(): void {
    if (this.encoder.records === 0) return;
    this.chunkOffsets.push(this.bytesWritten);
    this.chunkFirstRecords.push(this.recordsWritten - this.encoder.records);
    this.emit(this.encoder.seal());
  }

  private emit(bytes: Uint8Array): void {
    this.output.write(bytes);
    this.bytesWritten += bytes.length;
  }

  /** Seals the last chunk, writes the index and trailer, and moves the finished trace to `path`. */
  close(): void {
    this.output.finish(() => {
      this.sealChunk();
      const indexOffset = this.bytesWritten;
      this.emit(indexBlock(this.chunkOffsets, this.chunkFirstRecords));
      this.emit(trailer(indexOffset));
    });
  }

  /** Drops the trace written so far; `path` keeps what it had. */
  discard(): void {
    this.output.discard();
  }
}

function fileHeader(flags: number, chunkSeedBytes: number): Uint8Array {
  const header = new Uint8Array(V2Layout.FileHeaderBytes);
  const view = new DataView(header.buffer);
  header.set(V2_MAGIC, 0);
  view.setUint16(V2Layout.FileVersionAt, V2_VERSION, true);
  view.setUint16(V2Layout.FileFlagsAt, flags, true);
  view.setUint32(V2Layout.FileChunkLimitAt, chunkSeedBytes, true);
  view.setUint32(V2Layout.FileHeaderCrcAt, crc32(header.subarray(0, V2Layout.FileHeaderCrcAt)), true);
  return header;
}

function indexBlock(offsets: readonly number[], firstRecords: readonly number[]): Uint8Array {
  const entriesEnd = V2Layout.IndexHeaderBytes + offsets.length * V2Layout.IndexEntryBytes;
  const block = new Uint8Array(entriesEnd + V2Layout.IndexCrcBytes);
  const view = new DataView(block.buffer);
  view.setUint32(0, V2Layout.IndexMagic, true);
  view.setUint32(4, offsets.length, true);
  for (let chunk = 0; chunk < offsets.length; chunk++) {
    const at = V2Layout.IndexHeaderBytes + chunk * V2Layout.IndexEntryBytes;
    setUint64(view, at, offsets[chunk]);
    setUint64(view, at + 8, firstRecords[chunk]);
  }
  view.setUint32(entriesEnd, crc32(block.subarray(0, entriesEnd)), true);
  return block;
}

function trailer(indexOffset: number): Uint8Array {
  const block = new Uint8Array(V2Layout.TrailerBytes);
  const view = new DataView(block.buffer);
  setUint64(view, 0, indexOffset);
  view.setUint32(V2Layout.TrailerMagicAt, V2Layout.TrailerMagic, true);
  view.setUint32(V2Layout.TrailerCrcAt, crc32(block.subarray(0, V2Layout.TrailerCrcAt)), true);
  return block;
}

