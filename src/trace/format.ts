/**
 * The interchange trace format, byte for byte:
 *   op u8 (1 = write, 2 = read), width u8 (1, 2, 4 or 8), addr u64 little-endian,
 *   then `width` value bytes (little-endian) for writes only.
 * A read record is 10 bytes; a write record 10 + width. An access must end at or below
 * 2^64 - 1 (the last byte of the space).
 */
import { accessRunsPastTop, pastTopProblem } from "../space/address.js";

/**
 * The format's numbers as a const enum, so hot loops compile them to literals: an imported
 * `const` is a module cell that TurboFan re-reads and hole-checks on every use.
 */
export const enum TraceFormat {
  OpWrite = 1,
  OpRead = 2,
  HeaderBytes = 10,
  MaxRecordBytes = 18,
}

/** Op byte of a write record. */
export const OP_WRITE = TraceFormat.OpWrite;
/** Op byte of a read record. */
export const OP_READ = TraceFormat.OpRead;
/** Bytes of a record header (op, width, address): a read record's whole size. */
export const RECORD_HEADER_BYTES = TraceFormat.HeaderBytes;
/** Bytes of the largest record: a header and an 8-byte value. */
export const MAX_RECORD_BYTES = TraceFormat.MaxRecordBytes;
/** Streaming buffer size: big buffers, few syscalls, and bounded memory for any trace size. */
export const STREAM_CHUNK_BYTES = 8 << 20;
/**
 * Replay's read chunk, smaller: a chunk read while the last one is replayed displaces less of
 * what the replay keeps in cache, still at one syscall per 2 MiB (measurements in
 * docs/design/replay-and-paged-backend.md).
 */
export const READ_CHUNK_BYTES = 2 << 20;

/** Whether `widthBytes` is a valid access width: 1, 2, 4 or 8. */
export function isValidWidth(widthBytes: number): boolean {
  return widthBytes === 1 || widthBytes === 2 || widthBytes === 4 || widthBytes === 8;
}

/** Malformed trace input; names the file and the byte offset of the bad record. */
export class TraceFormatError extends Error {
  /** A problem with the record at `byteOffset` of `file`. */
  constructor(
    /** The trace file, as error messages name it. */
    readonly file: string,
    /** File offset of the bad record, in bytes. */
    readonly byteOffset: number,
    /** What is wrong with the record, in words. */
    readonly problem: string,
  ) {
    super(`${file}: byte offset ${byteOffset}: ${problem}`);
    this.name = "TraceFormatError";
  }
}

/** Describes what is wrong with a record's op and width, or null if they are well-formed. */
export function recordProblem(op: number, widthBytes: number): string | null {
  if (op !== OP_READ && op !== OP_WRITE) return `unknown op ${op} (expected 1 = write or 2 = read)`;
  if (!isValidWidth(widthBytes)) return `bad width ${widthBytes} (expected 1, 2, 4 or 8)`;
  return null;
}

/**
 * Describes what is wrong with the record whose whole header starts at `at` in `view`: its
 * op or width, or an access running past the top of the 64-bit space; null if none.
 */
export function headerProblem(view: DataView, at: number): string | null {
  const widthBytes = view.getUint8(at + 1);
  const problem = recordProblem(view.getUint8(at), widthBytes);
  if (problem !== null) return problem;
  const lo = view.getUint32(at + 2, true);
  const hi = view.getUint32(at + 6, true);
  return accessRunsPastTop(lo, hi, widthBytes) ? pastTopProblem(lo, hi, widthBytes) : null;
}
