import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { MAX_RECORD_BYTES, OP_WRITE, RECORD_HEADER_BYTES, recordProblem, STREAM_CHUNK_BYTES, TraceFormatError } from "./format.js";

/**
 * Consumes whole records from `bytes[0, end)`; returns how many bytes it consumed (the rest
 * is a partial record, carried into the next chunk). `fileOffset` is the file offset of
 * `bytes[0]`, for error messages.
 */
export type ChunkConsumer = (bytes: Uint8Array, view: DataView, end: number, fileOffset: number) => number;

export interface StreamOptions {
  chunkBytes?: number;
  /** Called after each chunk with the bytes consumed so far and the file size. */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/**
 * Streams a trace file through `consume` in multi-MiB chunks over one reused buffer, so a
 * 40 GB trace needs the same memory as a 40 MB one. A trailing partial record is an error
 * naming its offset. Returns the file size.
 */
export function streamTrace(path: string, consume: ChunkConsumer, options: StreamOptions = {}): number {
  const chunkBytes = Math.max(options.chunkBytes ?? STREAM_CHUNK_BYTES, MAX_RECORD_BYTES);
  const bytes = new Uint8Array(chunkBytes);
  const view = new DataView(bytes.buffer);
  const fd = openSync(path, "r");
  try {
    const totalBytes = fstatSync(fd).size;
    let carried = 0; // bytes of a partial record at the front of the buffer
    let fileOffset = 0; // file offset of bytes[0]
    for (;;) {
      const read = readSync(fd, bytes, carried, chunkBytes - carried, null);
      const end = carried + read;
      if (read === 0) {
        if (end > 0) throw truncatedRecord(path, bytes, end, fileOffset);
        return fileOffset;
      }
      const consumed = consume(bytes, view, end, fileOffset);
      bytes.copyWithin(0, consumed, end);
      carried = end - consumed;
      fileOffset += consumed;
      options.onProgress?.(fileOffset, totalBytes);
    }
  } finally {
    closeSync(fd);
  }
}

/** The error for a record cut off by the end of the file, after checking its header. */
function truncatedRecord(path: string, bytes: Uint8Array, end: number, fileOffset: number): TraceFormatError {
  if (end >= 2) {
    const problem = recordProblem(bytes[0], bytes[1]);
    if (problem !== null) return new TraceFormatError(path, fileOffset, problem);
  }
  const expected = end >= 2 && bytes[0] === OP_WRITE ? RECORD_HEADER_BYTES + bytes[1] : RECORD_HEADER_BYTES;
  return new TraceFormatError(path, fileOffset, `truncated record: ${end} of ${expected} bytes before end of file`);
}
