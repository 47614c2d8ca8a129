import { crc32 } from "node:zlib";
import { TraceFormatError } from "../format.js";
import type { InputFile } from "../reader.js";
import { ChunkColumns } from "./chunk-columns.js";
import { ChunkProblem, decodeColumns, readChunkHeader, unpackPayload, type ChunkInfo } from "./chunk-decoder.js";
import { getUint64, hasV2Magic, MAX_CHUNK_SEED_BYTES, maxChunkRecords, V2_VERSION, V2Flag, V2Layout } from "./layout.js";

/** What a v2 file header says. */
export interface V2FileHeader {
  /** V2Flag bits: which optional columns the chunks carry. */
  flags: number;
  /** The chunk limit as seed-format bytes: every chunk decodes within it. */
  chunkSeedBytes: number;
  /** The most records a chunk can hold. */
  maxChunkRecords: number;
}

/** Parses and checks a v2 file header (the first 32 bytes); `name` and offsets go into errors. */
export function parseV2FileHeader(bytes: Uint8Array, length: number, name: string): V2FileHeader {
  if (length < V2Layout.FileHeaderBytes || !hasV2Magic(bytes, length)) throw new TraceFormatError(name, 0, "not a v2 trace: header missing or truncated");
  const view = new DataView(bytes.buffer, bytes.byteOffset, V2Layout.FileHeaderBytes);
  const version = view.getUint16(V2Layout.FileVersionAt, true);
  if (version !== V2_VERSION) throw new TraceFormatError(name, V2Layout.FileVersionAt, `trace container version ${version}; this memspace reads version ${V2_VERSION}`);
  if (view.getUint32(V2Layout.FileHeaderCrcAt, true) !== crc32(bytes.subarray(0, V2Layout.FileHeaderCrcAt))) {
    throw new TraceFormatError(name, 0, "file header CRC mismatch (corrupt header)");
  }
  const flags = view.getUint16(V2Layout.FileFlagsAt, true);
  if ((flags & ~V2Flag.Known) !== 0) throw new TraceFormatError(name, V2Layout.FileFlagsAt, `unknown flags 0x${flags.toString(16)}`);
  const chunkSeedBytes = view.getUint32(V2Layout.FileChunkLimitAt, true);
  if (chunkSeedBytes < V2Layout.ChunkHeaderBytes || chunkSeedBytes > MAX_CHUNK_SEED_BYTES) {
    throw new TraceFormatError(name, V2Layout.FileChunkLimitAt, `chunk limit ${chunkSeedBytes} bytes outside what a reader allows (${MAX_CHUNK_SEED_BYTES})`);
  }
  return { flags, chunkSeedBytes, maxChunkRecords: maxChunkRecords(chunkSeedBytes) };
}

/** Called with each decoded chunk: its columns (reused between calls), first record index and chunk number. */
export type ChunkVisitor = (columns: ChunkColumns, firstRecord: number, chunkNumber: number) => void;

/**
 * Called with each chunk's raw (inflated, CRC-checked) payload and header, its first record
 * index and chunk number; a ChunkProblem it throws becomes a TraceFormatError naming the chunk.
 * The payload's bytes are valid only during the call.
 */
export type PayloadVisitor = (raw: Uint8Array, info: ChunkInfo, firstRecord: number, chunkNumber: number) => void;

/** What a sequential read of a v2 file found. */
export interface V2ReadResult {
  header: V2FileHeader;
  /** Chunks decoded. */
  chunks: number;
  /** Records decoded, by kind. */
  fetches: number;
  reads: number;
  writes: number;
  modifies: number;
  /** Bytes read, the whole file. */
  bytes: number;
}

/** Decodes each payload into columns (one set, reused) and hands them to `visit`. */
export function columnsVisitor(header: V2FileHeader, visit: ChunkVisitor): PayloadVisitor {
  const columns = new ChunkColumns(header.maxChunkRecords);
  return (raw, info, firstRecord, chunkNumber) => {
    decodeColumns(raw, info, header.flags, columns);
    visit(columns, firstRecord, chunkNumber);
  };
}

/** `readV2Payloads` with every chunk decoded into columns. */
export function readV2Sequential(input: InputFile, visit: ChunkVisitor, onProgress?: (bytesDone: number) => void): V2ReadResult {
  return readV2Payloads(input, (header) => columnsVisitor(header, visit), onProgress);
}

/**
 * Reads a v2 trace from `input` in order (from where it stands: its start, or bytes handed
 * back with `unread`), chunk by chunk, so pipes work, and hands each chunk's payload to the
 * visitor `visitorFor` makes once the file header is read. Checks every CRC, then that the
 * index lists exactly the chunks read and that the trailer ends the file: a file cut short
 * is an error, never a shorter trace.
 */
export function readV2Payloads(input: InputFile, visitorFor: (header: V2FileHeader) => PayloadVisitor, onProgress?: (bytesDone: number) => void): V2ReadResult {
  const name = input.name;
  const reader = new SequentialBytes(input);
  const headerBytes = reader.take(V2Layout.FileHeaderBytes);
  const header = parseV2FileHeader(headerBytes, headerBytes.length, name);
  const visit = visitorFor(header);
  const result: V2ReadResult = { header, chunks: 0, fetches: 0, reads: 0, writes: 0, modifies: 0, bytes: 0 };
  const offsets: number[] = [];
  let firstRecord = 0;
  for (;;) {
    const offset = reader.offset;
    const magic = reader.peekUint32();
    if (magic === -1) throw new TraceFormatError(name, offset, `truncated: the file ends after chunk ${result.chunks} with no index (the writer did not finish)`);
    if (magic === V2Layout.IndexMagic) {
      reader.take(4);
      readIndexAndTrailer(reader, name, offset, offsets);
      break;
    }
    // A copy: the payload's read may move the buffer under a view.
    const headerCopy = reader.take(V2Layout.ChunkHeaderBytes).slice();
    const where = `chunk ${result.chunks}`;
    if (headerCopy.length < V2Layout.ChunkHeaderBytes) throw new TraceFormatError(name, offset, `truncated: ${where} header cut off at the end of the file`);
    let info: ChunkInfo;
    try {
      info = readChunkHeader(headerCopy, 0, header.maxChunkRecords, header.chunkSeedBytes);
    } catch (error) {
      throw chunkError(error, name, offset, where);
    }
    const stored = reader.take(info.storedBytes);
    if (stored.length < info.storedBytes) throw new TraceFormatError(name, offset, `truncated: ${where} needs ${info.storedBytes} payload bytes, the file has ${stored.length}`);
    try {
      const payloadCrc = new DataView(headerCopy.buffer).getUint32(V2Layout.ChunkPayloadCrcAt, true);
      visit(unpackPayload(stored, info, payloadCrc), info, firstRecord, result.chunks);
    } catch (error) {
      throw chunkError(error, name, offset, where);
    }
    offsets.push(offset);
    firstRecord += info.records;
    result.chunks++;
    result.fetches += info.fetches;
    result.reads += info.reads;
    result.writes += info.writes;
    result.modifies += info.modifies;
    onProgress?.(reader.offset);
  }
  result.bytes = reader.offset;
  return result;
}

/** `error` as a TraceFormatError naming the chunk, when it is a ChunkProblem. */
export function chunkError(error: unknown, name: string, offset: number, where: string): Error {
  return error instanceof ChunkProblem ? new TraceFormatError(name, offset, `${where}: ${error.message}`) : (error as Error);
}

/** Reads the index (its magic already taken) and the trailer, and checks them against the chunks read. */
function readIndexAndTrailer(reader: SequentialBytes, name: string, indexOffset: number, offsets: readonly number[]): void {
  const countBytes = reader.take(4);
  if (countBytes.length < 4) throw new TraceFormatError(name, indexOffset, "truncated index");
  const chunkCount = new DataView(countBytes.buffer, countBytes.byteOffset, 4).getUint32(0, true);
  if (chunkCount !== offsets.length) throw new TraceFormatError(name, indexOffset, `index lists ${chunkCount} chunks, the file holds ${offsets.length}`);
  const entries = reader.take(chunkCount * V2Layout.IndexEntryBytes + V2Layout.IndexCrcBytes);
  if (entries.length < chunkCount * V2Layout.IndexEntryBytes + V2Layout.IndexCrcBytes) throw new TraceFormatError(name, indexOffset, "truncated index");
  const block = new Uint8Array(V2Layout.IndexHeaderBytes + entries.length);
  const blockView = new DataView(block.buffer);
  blockView.setUint32(0, V2Layout.IndexMagic, true);
  blockView.setUint32(4, chunkCount, true);
  block.set(entries, V2Layout.IndexHeaderBytes);
  const crcAt = block.length - V2Layout.IndexCrcBytes;
  if (blockView.getUint32(crcAt, true) !== crc32(block.subarray(0, crcAt))) throw new TraceFormatError(name, indexOffset, "index CRC mismatch (corrupt index)");
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    if (getUint64(blockView, V2Layout.IndexHeaderBytes + chunk * V2Layout.IndexEntryBytes) !== offsets[chunk]) {
      throw new TraceFormatError(name, indexOffset, `index entry ${chunk} does not point at chunk ${chunk}`);
    }
  }
  const trailerAt = reader.offset;
  const trailerBytes = reader.take(V2Layout.TrailerBytes);
  if (trailerBytes.length < V2Layout.TrailerBytes) throw new TraceFormatError(name, trailerAt, "truncated: trailer cut off");
  const trailerView = new DataView(trailerBytes.buffer, trailerBytes.byteOffset, V2Layout.TrailerBytes);
  if (
    trailerView.getUint32(V2Layout.TrailerMagicAt, true) !== V2Layout.TrailerMagic ||
    trailerView.getUint32(V2Layout.TrailerCrcAt, true) !== crc32(trailerBytes.subarray(0, V2Layout.TrailerCrcAt)) ||
    getUint64(trailerView, 0) !== indexOffset
  ) {
    throw new TraceFormatError(name, trailerAt, "bad trailer (corrupt, or not pointing at the index)");
  }
  if (reader.take(1).length !== 0) throw new TraceFormatError(name, reader.offset - 1, "bytes after the trailer");
}

/** Reads an input in order through one growing buffer. */
class SequentialBytes {
  /** File offset of the next byte `take` returns. */
  offset = 0;
  private buffer = new Uint8Array(1 << 16);
  private start = 0;
  private end = 0;
  private ended = false;

  constructor(private readonly input: InputFile) {}

  /** The next four bytes as a little-endian u32, not consumed; -1 at the end of the input. */
  peekUint32(): number {
    if (this.end - this.start < 4 && !this.ended) this.fill(4);
    if (this.end - this.start < 4) return -1;
    const b = this.buffer;
    const at = this.start;
    return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
  }

  /** The next `length` bytes (fewer only at the end of the input); valid until the next call. */
  take(length: number): Uint8Array {
    if (this.end - this.start < length && !this.ended) this.fill(length);
    const count = Math.min(length, this.end - this.start);
    const bytes = this.buffer.subarray(this.start, this.start + count);
    this.start += count;
    this.offset += count;
    return bytes;
  }

  private fill(length: number): void {
    const have = this.end - this.start;
    if (this.buffer.length < length) {
      const bigger = new Uint8Array(Math.max(length, this.buffer.length * 2));
      bigger.set(this.buffer.subarray(this.start, this.end), 0);
      this.buffer = bigger;
    } else this.buffer.copyWithin(0, this.start, this.end);
    this.start = 0;
    this.end = have;
    // Read ahead by a whole buffer where it can: fewer syscalls for small chunks.
    const want = this.buffer.length - this.end;
    const read = this.input.readFully(this.buffer, this.end, want, null);
    this.end += read;
    if (this.end - this.start < length) this.ended = true;
  }
}
