import { readSync } from "node:fs";
import { ChunkProblem, readChunkHeader, unpackPayload, type ChunkInfo } from "./chunk-decoder.js";
import { V2Layout } from "./layout.js";

/**
 * Reads chunks of a v2 file at their indexed offsets (positioned reads, one file descriptor),
 * for threads that take chunks out of order: decode workers and range workers. Each chunk
 * is checked as a sequential read checks it; a problem is a ChunkProblem.
 */
export class ChunkFile {
  private readonly header = new Uint8Array(V2Layout.ChunkHeaderBytes);
  private stored = new Uint8Array(1 << 20);

  constructor(
    private readonly fd: number,
    private readonly maxChunkRecords: number,
    private readonly chunkSeedBytes: number,
  ) {}

  /** The chunk header just read (valid until the next `load`). */
  get headerBytes(): Uint8Array {
    return this.header;
  }

  /** Reads, checks and inflates the chunk at `offset` whose bytes end at `end`: its raw payload (valid until the next call) and header. */
  load(offset: number, end: number): { raw: Uint8Array; info: ChunkInfo } {
    const info = this.readHeader(offset);
    if (offset + V2Layout.ChunkHeaderBytes + info.storedBytes !== end) throw new ChunkProblem("its length disagrees with the index");
    if (this.stored.length < info.storedBytes) this.stored = new Uint8Array(info.storedBytes);
    const payload = this.stored.subarray(0, info.storedBytes);
    if (this.readAt(payload, info.storedBytes, offset + V2Layout.ChunkHeaderBytes) < info.storedBytes) throw new ChunkProblem("payload cut off at the end of the file");
    const payloadCrc = new DataView(this.header.buffer).getUint32(V2Layout.ChunkPayloadCrcAt, true);
    return { raw: unpackPayload(payload, info, payloadCrc), info };
  }

  /** Reads and checks the header of the chunk at `offset`. */
  readHeader(offset: number): ChunkInfo {
    if (this.readAt(this.header, V2Layout.ChunkHeaderBytes, offset) < V2Layout.ChunkHeaderBytes) throw new ChunkProblem("header cut off at the end of the file");
    return readChunkHeader(this.header, 0, this.maxChunkRecords, this.chunkSeedBytes);
  }

  private readAt(bytes: Uint8Array, length: number, position: number): number {
    let done = 0;
    while (done < length) {
      const read = readSync(this.fd, bytes, done, length - done, position + done);
      if (read === 0) break;
      done += read;
    }
    return done;
  }
}
