/**
 * The interchange trace format, byte for byte:
 *   op u8 (1 = write, 2 = read), width u8 (1, 2, 4 or 8), addr u64 little-endian,
 *   then `width` value bytes (little-endian) for writes only.
 * A read record is 10 bytes; a write record 10 + width.
 */

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

export const OP_WRITE = TraceFormat.OpWrite;
export const OP_READ = TraceFormat.OpRead;
export const RECORD_HEADER_BYTES = TraceFormat.HeaderBytes;
export const MAX_RECORD_BYTES = TraceFormat.MaxRecordBytes;
/** Streaming buffer size: big buffers, few syscalls, and bounded memory for any trace size. */
export const STREAM_CHUNK_BYTES = 8 << 20;
/**
 * Replay's read chunk, smaller: a chunk read while the last one is replayed displaces less of
 * what the replay keeps in cache. Against 8 MiB, 2 MiB took 0.95-0.97 of the time on an
 * ExecBlock-shaped file (paged and noop; 1 MiB 0.94-0.96, 256 KiB 0.91-0.98), still a syscall
 * per 2 MiB.
 */
export const READ_CHUNK_BYTES = 2 << 20;

export function isValidWidth(widthBytes: number): boolean {
  return widthBytes === 1 || widthBytes === 2 || widthBytes === 4 || widthBytes === 8;
}

/** Malformed trace input; names the file and the byte offset of the bad record. */
export class TraceFormatError extends Error {
  constructor(
    readonly file: string,
    readonly byteOffset: number,
    readonly problem: string,
  ) {
    super(`${file}: byte offset ${byteOffset}: ${problem}`);
    this.name = "TraceFormatError";
  }
}

/** Describes what is wrong with the record header at `at`, or null if it is well-formed. */
export function recordProblem(op: number, widthBytes: number): string | null {
  if (op !== OP_READ && op !== OP_WRITE) return `unknown op ${op} (expected 1 = write or 2 = read)`;
  if (!isValidWidth(widthBytes)) return `bad width ${widthBytes} (expected 1, 2, 4 or 8)`;
  return null;
}
