import { secondParcelHigh } from "../space/backend.js";
import { OutputFile } from "../util/output-file.js";
import { WriteBehind } from "../util/write-behind.js";
import { isValidWidth, STREAM_CHUNK_BYTES, TraceFormat } from "./format.js";
import { fetchRunByRecord, fetchRunParcels, type TraceOutput } from "./output.js";
import { isValidAccessSize } from "./v2/chunk-encoder.js";
import { RecordKind } from "./v2/layout.js";
import { forEachPiece } from "./v2/seed-pieces.js";

/** Options of the TraceWriter constructor. */
export interface TraceWriterOptions {
  /** Size of each write buffer in bytes (default 8 MiB, at least one record); there are WRITE_BEHIND_SLOTS of them. */
  bufferBytes?: number;
  /** The command's input files: writing over one of them is refused before anything is written. */
  inputPaths?: readonly string[];
  /** Bytes written on this thread before a writer thread takes over (default WRITE_BEHIND_FROM_BYTES). */
  writeBehindFromBytes?: number;
}

/** The head of a 2-byte read: op in the low byte, width in the high byte. */
const READ2_HEAD = TraceFormat.OpRead | (2 << 8);

/** Buffers of a writer: one fills while the writer thread writes the others. */
const WRITE_BEHIND_SLOTS = 3;
/** A trace this big is worth a thread's start (tens of ms); a smaller one is written as it goes, on this thread. */
const WRITE_BEHIND_FROM_BYTES = 32 << 20;

/**
 * Writes the interchange (seed) format through multi-MiB buffers (few syscalls). Past its
 * first WRITE_BEHIND_FROM_BYTES, a trace's full buffers go to a writer thread
 * (util/write-behind.ts), which writes each while the records go on into the next, so
 * writing overlaps the work that makes the records. Records
 * are appended with `fetch`, `read` and `write`, which take any size and split what the
 * format cannot hold as seed-pieces.ts says, or, on hot paths whose widths are constants,
 * `appendRead` and `appendWrite`. The file appears at `path` only on
 * `close` (see OutputFile); `discard` drops it, leaving whatever was at `path` untouched.
 * Addresses and values are 32-bit halves, as u32 or int32.
 */
export class TraceWriter implements TraceOutput {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  /** Where the next record goes, in `bytes`. */
  private used = 0;
  /** The buffer being filled: its index, where it starts and where it ends in `bytes`. */
  private slot = 0;
  private slotStart = 0;
  private limit: number;
  private readonly slotBytes: number;
  private writeBehind: WriteBehind | null = null;
  private readonly writeBehindFromBytes: number;
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
    this.slotBytes = Math.max(options.bufferBytes ?? STREAM_CHUNK_BYTES, TraceFormat.MaxRecordBytes);
    // Shared, for the writer thread; the pages of the buffers not yet used are never touched.
    const buffers = new SharedArrayBuffer(WRITE_BEHIND_SLOTS * this.slotBytes);
    this.bytes = new Uint8Array(buffers);
    this.view = new DataView(buffers);
    this.limit = this.slotBytes;
    this.writeBehindFromBytes = options.writeBehindFromBytes ?? WRITE_BEHIND_FROM_BYTES;
    this.output = OutputFile.create(path, options.inputPaths);
  }

  /** Total bytes of the trace so far (flushed and buffered). */
  get byteLength(): number {
    return this.bytesFlushed + this.used - this.slotStart;
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

  /**
   * Appends the fetches of a run of instructions (TraceOutput.fetchRun) as their 2-byte
   * parcels: room checked once, the buffer's fields read and written once (the run of a
   * translated block, one call for up to FETCH_RUN_MAX instructions).
   */
  fetchRun(lo: number, hi: number, count: number, wideMask: number): void {
    const parcels = fetchRunParcels(count, wideMask);
    const runBytes = parcels * TraceFormat.HeaderBytes;
    if (this.used + runBytes > this.limit) {
      this.flush();
      // Buffers smaller than a run (only tests make them): record by record.
      if (runBytes > this.slotBytes) return fetchRunByRecord(this, lo, hi, count, wideMask);
    }
    const view = this.view;
    let at = this.used;
    for (let index = 0; index < count; index++) {
      // One record a parcel: two for a 4-byte instruction.
      for (let parcel = ((wideMask >>> index) & 1) + 1; parcel > 0; parcel--) {
        view.setUint16(at, READ2_HEAD, true);
        view.setInt32(at + 2, lo, true);
        view.setInt32(at + 6, hi, true);
        at += TraceFormat.HeaderBytes;
        const next = (lo + 2) | 0;
        if (next >>> 0 < lo >>> 0) hi = (hi + 1) | 0;
        lo = next;
      }
    }
    this.used = at;
    this.opsWritten += parcels;
    this.recordsWritten += count;
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
    if (this.used + TraceFormat.HeaderBytes > this.limit) this.flush();
    const at = this.used;
    this.view.setUint16(at, TraceFormat.OpRead | (widthBytes << 8), true);
    this.view.setInt32(at + 2, lo, true);
    this.view.setInt32(at + 6, hi, true);
    this.used = at + TraceFormat.HeaderBytes;
    this.opsWritten++;
  }

  /** `write` without the width check (an unknown width writes a bad record). */
  appendWrite(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    if (this.used + TraceFormat.MaxRecordBytes > this.limit) this.flush();
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

  /**
   * Writes the full buffer, or past WRITE_BEHIND_FROM_BYTES hands it to the writer thread
   * (started then) and goes on in the next buffer once that one is written.
   */
  private flush(): void {
    const length = this.used - this.slotStart;
    if (this.writeBehind === null && this.bytesFlushed < this.writeBehindFromBytes) {
      this.output.write(this.bytes, this.slotStart, this.used);
      this.bytesFlushed += length;
      this.used = this.slotStart;
      return;
    }
    if (this.writeBehind === null) this.writeBehind = new WriteBehind(this.output.fd, this.bytes.buffer as SharedArrayBuffer, WRITE_BEHIND_SLOTS, this.slotBytes, this.path);
    this.writeBehind.submit(this.slot, length);
    this.bytesFlushed += length;
    this.slot = (this.slot + 1) % WRITE_BEHIND_SLOTS;
    this.writeBehind.waitFree(this.slot);
    this.slotStart = this.slot * this.slotBytes;
    this.used = this.slotStart;
    this.limit = this.slotStart + this.slotBytes;
  }

  /** Writes what is buffered (after the writer thread's buffers) and moves the finished trace to `path`. */
  close(): void {
    this.output.finish(() => {
      this.writeBehind?.finish();
      this.output.write(this.bytes, this.slotStart, this.used);
      this.bytesFlushed += this.used - this.slotStart;
      this.used = this.slotStart;
    });
  }

  /** Drops the trace written so far; `path` keeps what it had. */
  discard(): void {
    try {
      this.writeBehind?.abandon();
    } finally {
      this.output.discard();
    }
  }
}

