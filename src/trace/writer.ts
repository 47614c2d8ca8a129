import { closeSync, openSync, writeSync } from "node:fs";
import { isValidWidth, MAX_RECORD_BYTES, OP_READ, OP_WRITE, RECORD_HEADER_BYTES, STREAM_CHUNK_BYTES } from "./format.js";

/**
 * Writes the interchange format through one multi-MiB buffer (few syscalls). Records are
 * appended with `read` and `write`; `close` flushes. Values and addresses are u32 halves.
 */
export class TraceWriter {
  private readonly bytes: Uint8Array;
  private readonly view: DataView;
  private used = 0;
  private fd: number;
  private bytesFlushed = 0;
  opsWritten = 0;

  constructor(
    readonly path: string,
    bufferBytes = STREAM_CHUNK_BYTES,
  ) {
    this.bytes = new Uint8Array(Math.max(bufferBytes, MAX_RECORD_BYTES));
    this.view = new DataView(this.bytes.buffer);
    this.fd = openSync(path, "w");
  }

  /** Total bytes of the trace so far (flushed and buffered). */
  get byteLength(): number {
    return this.bytesFlushed + this.used;
  }

  read(lo: number, hi: number, widthBytes: number): void {
    if (!isValidWidth(widthBytes)) throw new RangeError(`trace writer: bad width ${widthBytes} (expected 1, 2, 4 or 8)`);
    if (this.used + RECORD_HEADER_BYTES > this.bytes.length) this.flush();
    this.used = this.putHeader(OP_READ, widthBytes, lo, hi);
    this.opsWritten++;
  }

  write(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    if (this.used + MAX_RECORD_BYTES > this.bytes.length) this.flush();
    const valueAt = this.putHeader(OP_WRITE, widthBytes, lo, hi);
    if (widthBytes === 8) {
      this.view.setUint32(valueAt, valueLo, true);
      this.view.setUint32(valueAt + 4, valueHi, true);
    } else if (widthBytes === 4) this.view.setUint32(valueAt, valueLo, true);
    else if (widthBytes === 2) this.view.setUint16(valueAt, valueLo, true);
    else if (widthBytes === 1) this.bytes[valueAt] = valueLo;
    else throw new RangeError(`trace writer: bad width ${widthBytes} (expected 1, 2, 4 or 8)`);
    this.used = valueAt + widthBytes;
    this.opsWritten++;
  }

  /** Writes a record header at the end of the buffer; returns the index just after it. */
  private putHeader(op: number, widthBytes: number, lo: number, hi: number): number {
    const at = this.used;
    this.bytes[at] = op;
    this.bytes[at + 1] = widthBytes;
    this.view.setUint32(at + 2, lo, true);
    this.view.setUint32(at + 6, hi, true);
    return at + RECORD_HEADER_BYTES;
  }

  flush(): void {
    let done = 0;
    while (done < this.used) done += writeSync(this.fd, this.bytes, done, this.used - done);
    this.bytesFlushed += this.used;
    this.used = 0;
  }

  close(): void {
    if (this.fd < 0) return;
    this.flush();
    closeSync(this.fd);
    this.fd = -1;
  }
}
