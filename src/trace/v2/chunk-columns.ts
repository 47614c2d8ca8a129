import { Head } from "./layout.js";

/**
 * One decoded chunk as columns of typed arrays: what analyses and the v2 replay kernel read,
 * and what decode workers fill in shared memory. Addresses, values and pcs are 32-bit halves
 * as int32 (small addresses stay small integers).
 */
export class ChunkColumns {
  /** Records decoded into the columns. */
  count = 0;
  /** The file's V2Flag bits: whether values and pcs are set. */
  flags = 0;

  /** Head bytes as stored: kind in bits 0-1, size code in bits 2-4 (Head; `sizeOfRecord` reads both). */
  readonly heads: Uint8Array;
  /** Sizes in bytes, set only for records whose head says the size is explicit (not 1, 2, 4 or 8). */
  readonly sizes: Uint16Array;
  /** Address low halves. */
  readonly addressLo: Int32Array;
  /** Address high halves. */
  readonly addressHi: Int32Array;
  /** Write values' low halves, set only for writes of a trace that carries values. */
  readonly valueLo: Int32Array;
  /** Write values' high halves. */
  readonly valueHi: Int32Array;
  /** pcs' low halves (0 in a trace without pcs). */
  readonly pcLo: Int32Array;
  /** pcs' high halves. */
  readonly pcHi: Int32Array;

  /** Columns for `capacity` records, in `buffer` from `byteOffset` (own memory if no buffer is given). */
  constructor(
    readonly capacity: number,
    buffer: ArrayBufferLike = new ArrayBuffer(ChunkColumns.bytesFor(capacity)),
    byteOffset = 0,
  ) {
    let at = byteOffset;
    const int32s = (): Int32Array => {
      const column = new Int32Array(buffer, at, capacity);
      at += capacity * 4;
      return column;
    };
    this.addressLo = int32s();
    this.addressHi = int32s();
    this.valueLo = int32s();
    this.valueHi = int32s();
    this.pcLo = int32s();
    this.pcHi = int32s();
    this.sizes = new Uint16Array(buffer, at, capacity);
    at += capacity * 2;
    this.heads = new Uint8Array(buffer, at, capacity);
  }

  /** Bytes of buffer that columns for `capacity` records take (a multiple of 8). */
  static bytesFor(capacity: number): number {
    return Math.ceil((capacity * (6 * 4 + 2 + 1)) / 8) * 8;
  }
}

/** The size in bytes of record `index` of `columns`, whose head byte is `head`. */
export function sizeOfRecord(columns: ChunkColumns, index: number, head: number): number {
  const sizeCode = head >>> Head.SizeShift;
  return sizeCode < Head.ExplicitSize ? 1 << sizeCode : columns.sizes[index];
}
