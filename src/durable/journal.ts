import { closeSync, existsSync, openSync, readFileSync, writeSync } from "node:fs";
import { replaceFile } from "./files.js";

/**
 * An append-only file of fixed-size records of Int32 fields, for crash tests: a process
 * appends a record with one write() before or after each step, so after a kill -9 the file
 * holds every record whose write happened (the page cache survives the process); a torn
 * tail (only possible on power loss) is ignored.
 */
export class Journal {
  private readonly fd: number;
  private readonly record: Int32Array;
  private readonly recordBytes: Uint8Array;

  /** Opens (or creates) the journal at `path` for appending records of `fieldsPerRecord` Int32 fields. */
  constructor(
    /** The journal file. */
    readonly path: string,
    /** Int32 fields in each record. */
    readonly fieldsPerRecord: number,
  ) {
    this.fd = openSync(path, "a");
    this.record = new Int32Array(fieldsPerRecord);
    this.recordBytes = new Uint8Array(this.record.buffer);
  }

  /** Appends one record with one write(): missing fields are 0, extra ones are dropped. */
  append(...fields: number[]): void {
    for (let i = 0; i < this.fieldsPerRecord; i++) this.record[i] = fields[i] ?? 0;
    writeSync(this.fd, this.recordBytes);
  }

  /** Closes the file. */
  close(): void {
    closeSync(this.fd);
  }

  /** Every complete record in the file, in order. */
  static read(path: string, fieldsPerRecord: number): Int32Array[] {
    if (!existsSync(path)) return [];
    const bytes = readFileSync(path);
    const recordBytes = fieldsPerRecord * Int32Array.BYTES_PER_ELEMENT;
    const records: Int32Array[] = [];
    for (let offset = 0; offset + recordBytes <= bytes.length; offset += recordBytes) {
      records.push(new Int32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + recordBytes)));
    }
    return records;
  }

  /** Replaces the file's contents atomically (see replaceFile). */
  static rewrite(path: string, fieldsPerRecord: number, records: number[][]): void {
    const all = new Int32Array(records.length * fieldsPerRecord);
    records.forEach((fields, i) => all.set(fields.slice(0, fieldsPerRecord), i * fieldsPerRecord));
    replaceFile(path, new Uint8Array(all.buffer));
  }

}
