import { secondParcelHigh } from "../space/backend.js";
import { OutputFile } from "../util/output-file.js";
import { isValidWidth, STREAM_CHUNK_BYTES, TraceFormat } from "./format.js";
import type { TraceOutput } from "./output.js";
import { isValidAccessSize } from "./v2/chunk-encoder.js";
import { RecordKind } from "./v2/layout.js";
import { forEachPiece } from "./v2/seed-pieces.js";

/** Options of the TraceWriter constructor. */
export interface TraceWriterOptions {
  /** Size of the write buffer in bytes (default 8 MiB, at least one record). */
  bufferBytes?: number;
  /** The command's input files: writing over one of them is refused before anything is written. */
  inputPaths?: readonly string[];
}

/**
 * Writes the interchange (seed) format through one multi-MiB buffer (few syscalls). Records
 * are appended with `fetch`, `read` and `write`, which take any size and split what the
 * format cannot hold as seed-pieces.ts says, or, on hot paths whose widths are constants,
 * `appendRead` and `appendWrite`. The file appears at `path` only on
 * `close` (see OutputFile); `discard` drops it, leaving whatever was at `path` untouched.
 * Addresses and values are 32-bit halves, as u32 or int32.
 */
export class TraceWriter implements TraceOutput {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private readonly output: OutputFile;
  private bytesFlushed = 0;
  /** Seed records written so far. */
  opsWritten = 0;
  /** Records appended through `fetch`, `read` and `write` (each may be several seed records). */
  recordsWritten = 0;

  /**
   * Starts a trace that appears at `path` on `close`; throws an OutputAliasError if `path` is one of
   * `options.inputPaths`.
   */
  constructor(
    /** Where the finished trace goes. */ readonly path: string,
    options: TraceWriterOptions = {},
  ) {
    this.bytes = new Uint8Array(Math.max(options.bufferBytes ?? STREAM_CHUNK_BYTES, TraceFormat.MaxRecordBytes));
    this.view = new DataView(this.bytes.buffer);
    this.output = OutputFile.create(path, options.inputPaths);
  }

  /** Total bytes of the trace so far (flushed and buffered). */
  get byteLength(): number {
    return this.bytesFlushed + this.used;
  }

  /** Appends an instruction fetch as 2-byte reads (its parcels); throws a RangeError for a size outside 1..4096. */
  fetch(lo: number, hi: number, sizeBytes: number): void {
    if (sizeBytes === 2) this.appendRead(lo, hi, 2);
    else if (sizeBytes === 4) {
      // A 32-bit instruction: its two parcels, the second possibly across the 2^32 line.
      this.appendRead(lo, hi, 2);
      this.appendRead((lo + 2) | 0, secondParcelHigh(lo, hi), 2);
    } else this.appendPieces(RecordKind.Fetch, lo, hi, sizeBytes, 0, 0);
    this.recordsWritten++;
  }

  /** Appends a read, as one record of 1, 2, 4 or 8 bytes or as pieces; throws a RangeError for a size outside 1..4096. */
  read(lo: number, hi: number, sizeBytes: number): void {
    if (isValidWidth(sizeBytes)) this.appendRead(lo, hi, sizeBytes);
    else this.appendPieces(RecordKind.Read, lo, hi, sizeBytes, 0, 0);
    this.recordsWritten++;
  }

  /**
   * Appends a write with the value `(valueLo, valueHi)`; a size other than 1, 2, 4 or 8 is
   * written as pieces that each carry the value, cut to their width. Throws a RangeError for
   * a size outside 1..4096.
   */
  write(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    if (isValidWidth(sizeBytes)) this.appendWrite(lo, hi, sizeBytes, valueLo, valueHi);
    else this.appendPieces(RecordKind.Write, lo, hi, sizeBytes, valueLo, valueHi);
    this.recordsWritten++;
  }

  /** Appends a modify as its seed records: the read, then the write of the value (each as pieces if need be). */
  modify(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    if (isValidWidth(sizeBytes)) {
      this.appendRead(lo, hi, sizeBytes);
      this.appendWrite(lo, hi, sizeBytes, valueLo, valueHi);
    } else {
      this.appendPieces(RecordKind.Read, lo, hi, sizeBytes, 0, 0);
      this.appendPieces(RecordKind.Write, lo, hi, sizeBytes, valueLo, valueHi);
    }
    this.recordsWritten++;
  }

  /** Splits an access into seed records (seed-pieces.ts), in address order. */
  private appendPieces(kind: RecordKind, lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    if (!isValidAccessSize(sizeBytes)) throw new RangeError(`trace writer: bad access size ${sizeBytes} (expected 1..4096)`);
    forEachPiece(kind, sizeBytes, lo, hi, (width, pieceLo, pieceHi) => {
      if (kind === RecordKind.Write) this.appendWrite(pieceLo, pieceHi, width, valueLo, width === 8 ? valueHi : 0);
      else this.appendRead(pieceLo, pieceHi, width);
    });
  }

  /** `read` without the width check: small enough to inline into a recorder's hot path. */
  appendRead(lo: number, hi: number, widthBytes: number): void {
    if (this.used + TraceFormat.HeaderBytes > this.bytes.length) this.flush();
    const at = this.used;
    this.view.setUint16(at, TraceFormat.OpRead | (widthBytes << 8), true);
    this.view.setInt32(at + 2, lo, true);
    this.view.setInt32(at + 6, hi, true);
    this.used = at + TraceFormat.HeaderBytes;
    this.opsWritten++;
  }

  /** `write` without the width check (an unknown width writes a bad record). */
  appendWrite(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    if (this.used + TraceFormat.MaxRecordBytes > this.bytes.length) this.flush();
    const at = this.used;
    const valueAt = at + TraceFormat.HeaderBytes;
    this.view.setUint16(at, TraceFormat.OpWrite | (widthBytes << 8), true);
    this.view.setInt32(at + 2, lo, true);
    this.view.setInt32(at + 6, hi, true);
    if (widthBytes === 8) {
      this.view.setInt32(valueAt, valueLo, true);
      this.view.setInt32(valueAt + 4, valueHi, true);
    } else if (widthBytes === 4) this.view.setInt32(valueAt, valueLo, true);
    else if (widthBytes === 2) this.view.setUint16(valueAt, valueLo, true);
    else this.bytes[valueAt] = valueLo;
    this.used = valueAt + widthBytes;
    this.opsWritten++;
  }

  /** Writes the buffered records to the temporary file. */
  flush(): void {
    this.output.write(this.bytes, 0, this.used);
    this.bytesFlushed += this.used;
    this.used = 0;
  }

  /** Writes what is buffered and moves the finished trace to `path`. */
  close(): void {
    this.output.finish(() => this.flush());
  }

  /** Drops the trace written so far; `path` keeps what it had. */
  discard(): void {
    this.output.discard();
  }
}

