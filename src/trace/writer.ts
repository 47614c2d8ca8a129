import { OutputFile } from "../util/output-file.js";
import { isValidWidth, STREAM_CHUNK_BYTES, TraceFormat } from "./format.js";

/** Options of the TraceWriter constructor. */
export interface TraceWriterOptions {
  /** Size of the write buffer in bytes (default 8 MiB, at least one record). */
  bufferBytes?: number;
  /** The command's input files: writing over one of them is refused before anything is written. */
  inputPaths?: readonly string[];
}

/**
 * Writes the interchange format through one multi-MiB buffer (few syscalls). Records are
 * appended with `read` and `write` (which check the width) or, on hot paths whose widths
 * are constants, `appendRead` and `appendWrite`. The file appears at `path` only on
 * `close` (see OutputFile); `discard` drops it, leaving whatever was at `path` untouched.
 * Addresses and values are 32-bit halves, as u32 or int32.
 */
export class TraceWriter {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private readonly output: OutputFile;
  private bytesFlushed = 0;
  /** Records appended so far. */
  opsWritten = 0;

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

  /** Appends a read record; throws a RangeError for a width other than 1, 2, 4 or 8. */
  read(lo: number, hi: number, widthBytes: number): void {
    checkWidth(widthBytes);
    this.appendRead(lo, hi, widthBytes);
  }

  /**
   * Appends a write record with the value `(valueLo, valueHi)`; throws a RangeError for a width other than 1,
   * 2, 4 or 8.
   */
  write(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    checkWidth(widthBytes);
    this.appendWrite(lo, hi, widthBytes, valueLo, valueHi);
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
    if (!this.output.isOpen) return;
    try {
      this.flush();
    } catch (error) {
      this.output.discard();
      throw error;
    }
    this.output.commit();
  }

  /** Drops the trace written so far; `path` keeps what it had. */
  discard(): void {
    this.output.discard();
  }
}

function checkWidth(widthBytes: number): void {
  if (!isValidWidth(widthBytes)) throw new RangeError(`trace writer: bad width ${widthBytes} (expected 1, 2, 4 or 8)`);
}
