import { crc32, inflateRawSync } from "node:zlib";
import { TWO_POW_32 } from "../../space/address.js";
import { ChunkColumns } from "./chunk-columns.js";
import { RecordKind, Head, MAX_ACCESS_BYTES, V2Codec, V2Flag, V2Layout } from "./layout.js";
import { MAX_VARINT_BYTES, VarintCursor } from "./varint.js";
import { seedBytesOf } from "./seed-pieces.js";

/** What a chunk header says. */
export interface ChunkInfo {
  /** Records in the chunk. */
  records: number;
  /** Payload bytes in the file, after the header. */
  storedBytes: number;
  /** Payload bytes once inflated. */
  rawBytes: number;
  /** How the payload is stored (V2Codec). */
  codec: number;
  /**
   * Bytes of the head column: one a record, or fewer in a file with runs (V2Flag.Runs). The
   * header does not store it: it is what the raw payload leaves after the other columns.
   */
  headBytes: number;
  /** Bytes of the address, size, value and pc columns. */
  addressBytes: number;
  sizeBytes: number;
  valueBytes: number;
  pcBytes: number;
  /** Records of each kind. */
  fetches: number;
  reads: number;
  writes: number;
  modifies: number;
  /** The chunk's size as seed-format records. */
  seedBytes: number;
}

/**
 * The most column bytes one record takes: head 1, address varint 10, size varint 2 (at most
 * 4096), value 8, pc varint 10. Bounds what a header may claim before anything is read.
 */
const MAX_RECORD_COLUMN_BYTES = 1 + MAX_VARINT_BYTES + 2 + 8 + MAX_VARINT_BYTES;

/** The most raw payload bytes a chunk of `records` records can have (readChunkHeader refuses more). */
export function maxRawBytes(records: number): number {
  return records * MAX_RECORD_COLUMN_BYTES;
}

/** Something wrong inside one chunk; the reader adds the file, chunk number and offset. */
export class ChunkProblem extends Error {}

/**
 * Reads and checks the chunk header at `bytes[at]`: its magic and CRC, then that its column
 * lengths add up and that it fits the file's limits (at most `maxRecords` records and
 * `maxSeedBytes` seed bytes, so a decoder's buffers always suffice).
 */
export function readChunkHeader(bytes: Uint8Array, at: number, maxRecords: number, maxSeedBytes: number): ChunkInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, V2Layout.ChunkHeaderBytes);
  if (view.getUint32(0, true) !== V2Layout.ChunkMagic) throw new ChunkProblem("no chunk magic (MSCK) here");
  const headerCrc = crc32(bytes.subarray(at, at + V2Layout.ChunkHeaderCrcAt));
  if (view.getUint32(V2Layout.ChunkHeaderCrcAt, true) !== headerCrc) throw new ChunkProblem("chunk header CRC mismatch (corrupt header)");
  const field = (offset: number): number => view.getUint32(offset, true);
  const info: ChunkInfo = {
    records: field(V2Layout.ChunkRecordsAt),
    storedBytes: field(V2Layout.ChunkStoredBytesAt),
    rawBytes: field(V2Layout.ChunkRawBytesAt),
    headBytes: 0,
    codec: field(V2Layout.ChunkCodecAt),
    addressBytes: field(V2Layout.ChunkAddressBytesAt),
    sizeBytes: field(V2Layout.ChunkSizeBytesAt),
    valueBytes: field(V2Layout.ChunkValueBytesAt),
    pcBytes: field(V2Layout.ChunkPcBytesAt),
    fetches: field(V2Layout.ChunkFetchesAt),
    reads: field(V2Layout.ChunkReadsAt),
    writes: field(V2Layout.ChunkWritesAt),
    modifies: field(V2Layout.ChunkModifiesAt),
    seedBytes: field(V2Layout.ChunkSeedBytesAt),
  };
  if (info.records > maxRecords) throw new ChunkProblem(`${info.records} records, more than the file's limit of ${maxRecords}`);
  if (info.seedBytes > maxSeedBytes) throw new ChunkProblem(`${info.seedBytes} seed bytes, more than the file's limit of ${maxSeedBytes}`);
  if (info.records === 0) throw new ChunkProblem("an empty chunk (writers never seal one)");
  if (info.fetches + info.reads + info.writes + info.modifies !== info.records) throw new ChunkProblem("kind counts do not add up to the record count");
  if (info.rawBytes > maxRawBytes(info.records) || info.storedBytes > info.rawBytes) {
    throw new ChunkProblem(`${info.storedBytes} stored and ${info.rawBytes} raw bytes are more than ${info.records} records can take`);
  }
  // A head column of one byte a record at most (runs make it shorter) and at least one byte.
  const otherBytes = info.addressBytes + info.sizeBytes + info.valueBytes + info.pcBytes;
  info.headBytes = info.rawBytes - otherBytes;
  if (info.headBytes < 1 || info.headBytes > info.records) {
    throw new ChunkProblem(`column lengths leave ${info.headBytes} head bytes of ${info.rawBytes} raw bytes for ${info.records} records`);
  }
  if (info.codec === V2Codec.Stored ? info.storedBytes !== info.rawBytes : info.codec !== V2Codec.Deflate) {
    throw new ChunkProblem(`unknown codec ${info.codec} or stored length ${info.storedBytes} for ${info.rawBytes} raw bytes`);
  }
  return info;
}

/** Checks the stored payload's CRC and inflates it (to at most `info.rawBytes`, so a bad stream cannot balloon). */
export function unpackPayload(stored: Uint8Array, info: ChunkInfo, payloadCrc: number): Uint8Array {
  if (crc32(stored) !== payloadCrc) throw new ChunkProblem("payload CRC mismatch (corrupt data)");
  if (info.codec === V2Codec.Stored) return stored;
  let raw: Uint8Array;
  try {
    raw = inflateRawSync(stored, { maxOutputLength: Math.max(info.rawBytes, 1) });
  } catch (error) {
    throw new ChunkProblem(`payload does not inflate: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (raw.length !== info.rawBytes) throw new ChunkProblem(`payload inflates to ${raw.length} bytes, the header says ${info.rawBytes}`);
  return raw;
}

/** The varint reader of the records' cold paths (long deltas, explicit sizes); its results are read at once. */
export const cursor = new VarintCursor();

/** Seed bytes of a record by head byte, for sizes the head holds (explicit sizes: 0, added apart). */
const SEED_BYTES_OF_HEAD = new Uint16Array(Head.Known + 1);
for (let head = 0; head <= Head.Known; head++) {
  const kind = head & Head.KindMask;
  const sizeCode = head >>> Head.SizeShift;
  if (sizeCode < Head.ExplicitSize) SEED_BYTES_OF_HEAD[head] = seedBytesOf(kind, 1 << sizeCode);
}

/** What is wrong with a record; the message is built outside the loop (a template literal there tripled its cost). */
export const enum Fault {
  Head,
  HeadEnd,
  Run,
  Size,
  AddressEnd,
  AddressVarint,
  PastTop,
  Value,
  PcVarint,
}

const FAULT_TEXT = [
  "bad head byte",
  "head column ends early",
  "bad run length (a varint from 1 to the chunk's records left)",
  "bad explicit size (expected 1..4096)",
  "address column ends early",
  "bad address varint",
  "access runs past the top of the 64-bit space",
  "value column ends early, or a value not of 1, 2, 4 or 8 bytes",
  "bad pc varint",
];

/** The error of record `index` (of its chunk) with `fault`. */
export function badRecord(index: number, fault: Fault): ChunkProblem {
  return new ChunkProblem(`record ${index}: ${FAULT_TEXT[fault]}`);
}

/** Where each column of a chunk's raw payload starts and ends. */
export interface ColumnBounds {
  headAt: number;
  headEnd: number;
  addressAt: number;
  addressEnd: number;
  sizeAt: number;
  sizeEnd: number;
  valueAt: number;
  valueEnd: number;
  pcAt: number;
  pcEnd: number;
}

/** The columns' places in the raw payload, from the header's lengths. */
export function columnBounds(info: ChunkInfo): ColumnBounds {
  const addressAt = info.headBytes;
  const addressEnd = addressAt + info.addressBytes;
  const sizeEnd = addressEnd + info.sizeBytes;
  const valueEnd = sizeEnd + info.valueBytes;
  return { headAt: 0, headEnd: addressAt, addressAt, addressEnd, sizeAt: addressEnd, sizeEnd, valueAt: sizeEnd, valueEnd, pcAt: valueEnd, pcEnd: valueEnd + info.pcBytes };
}

/**
 * The run that head byte `head` (above Head.Known) of record `index` starts: its varint at
 * `raw[at]` (before `end`, the head column's end) into `cursor.lo`, the records after the
 * first, and for a parcel run the offset of its bits into `cursor.hi` (else -1); returns
 * the index after them. A head that is no run, a run in a file without runs, a length of 0
 * or past the chunk's `records`, or parcel bits past the column or with unused bits set is
 * a ChunkProblem.
 */
export function nextRunLength(raw: Uint8Array, at: number, end: number, head: number, index: number, records: number, flags: number): number {
  if ((flags & V2Flag.Runs) === 0 || (head > Head.KnownRun && head !== Head.ParcelRun)) throw badRecord(index, Fault.Head);
  let next = cursor.nextUnsigned(raw, at, end);
  if (next < 0 || cursor.lo < 1 || cursor.lo > records - index - 1) throw badRecord(index, Fault.Run);
  if (head !== Head.ParcelRun) {
    cursor.hi = -1;
    return next;
  }
  const fetches = cursor.lo + 1;
  const bitsEnd = next + ((fetches + 7) >>> 3);
  if (bitsEnd > end) throw badRecord(index, Fault.HeadEnd);
  if ((fetches & 7) !== 0 && raw[bitsEnd - 1] >>> (fetches & 7) !== 0) throw badRecord(index, Fault.Run);
  cursor.hi = next;
  next = bitsEnd;
  return next;
}

/** The head of fetch `bit` of the parcel run whose bits start at `raw[bitsAt]`: a 2- or a 4-byte fetch. */
export function parcelHead(raw: Uint8Array, bitsAt: number, bit: number): number {
  return ((raw[bitsAt + (bit >>> 3)] >>> (bit & 7)) & 1) === 0 ? Head.Fetch2 : Head.Fetch4;
}

/**
 * Reads the explicit size of record `index` at `raw[at]` into `cursor.lo`; returns the index
 * after it. A size outside 1..4096 or a varint running past `end` is a ChunkProblem.
 */
export function nextExplicitSize(raw: Uint8Array, at: number, end: number, index: number): number {
  const next = cursor.nextUnsigned(raw, at, end);
  if (next < 0 || cursor.lo < 1 || cursor.lo > MAX_ACCESS_BYTES) throw badRecord(index, Fault.Size);
  return next;
}

/**
 * The address delta of record `index` at `raw[at]`, any length (callers take a one-byte
 * delta inline): into `cursor.lo`/`cursor.hi`; returns the index after it.
 */
export function nextAddressDelta(raw: Uint8Array, at: number, end: number, index: number): number {
  if (at >= end) throw badRecord(index, Fault.AddressEnd);
  const next = cursor.nextZigzag(raw, at, end);
  if (next < 0) throw badRecord(index, Fault.AddressVarint);
  return next;
}

/**
 * The checks after a chunk's last record: every column used exactly, the kind counts and
 * the seed bytes as the header says (the limit every decoder's buffers rely on is checked
 * against the records themselves).
 */
export function checkChunkEnd(info: ChunkInfo, bounds: ColumnBounds, used: ColumnBounds, fetches: number, writes: number, modifies: number, seedBytes: number): void {
  if (used.headAt !== bounds.headEnd || used.addressAt !== bounds.addressEnd || used.sizeAt !== bounds.sizeEnd || used.valueAt !== bounds.valueEnd || used.pcAt !== bounds.pcEnd) {
    throw new ChunkProblem("columns hold more bytes than the records use");
  }
  if (fetches !== info.fetches || writes !== info.writes || modifies !== info.modifies) throw new ChunkProblem("record kinds disagree with the header's counts");
  if (seedBytes !== info.seedBytes) throw new ChunkProblem(`records come to ${seedBytes} seed bytes, the header says ${info.seedBytes}`);
}

/**
 * Decodes a chunk's raw payload into `columns` (capacity at least `info.records`). Every
 * column must be used exactly; a bad head, size or varint, or an access past the top of the
 * 64-bit space, is a ChunkProblem naming the record. One loop over the records, the
 * predictions in locals: the variants that split it (a head-checking pass, a loop function
 * per column) cost more instructions per record under callgrind, not fewer.
 */
export function decodeColumns(raw: Uint8Array, info: ChunkInfo, flags: number, columns: ChunkColumns): void {
  const records = info.records;
  const rawView = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const bounds = columnBounds(info);
  const state = decodeState;
  state.fill(0);
  state[Decode.ParcelAt] = -1;
  state[Decode.Address] = bounds.addressAt;
  state[Decode.Size] = bounds.sizeAt;
  state[Decode.Value] = bounds.valueAt;
  state[Decode.Pc] = bounds.pcAt;
  for (let start = 0; start < records; start += DECODE_SLICE_RECORDS) {
    decodeSlice(raw, rawView, columns, state, start, Math.min(records, start + DECODE_SLICE_RECORDS), records, bounds, flags);
  }
  const used = { ...bounds, headAt: state[Decode.Head], addressAt: state[Decode.Address], sizeAt: state[Decode.Size], valueAt: state[Decode.Value], pcAt: state[Decode.Pc] };
  checkChunkEnd(info, bounds, used, state[Decode.Fetches], state[Decode.Writes], state[Decode.Modifies], state[Decode.SeedBytes]);
  columns.count = records;
  columns.flags = flags;
}

/**
 * Records one call of decodeSlice takes: calls of a whole chunk ran V8's on-stack-replaced
 * code (callgrind: about 17% more per record).
 */
const DECODE_SLICE_RECORDS = 4096;

/** What decodeColumns carries from one slice to the next, as int32 words of `decodeState`. */
const enum Decode {
  Head,
  /** The records of the open run still to come, and its head; a parcel run's bits (-1: none) and the next one. */
  RunLeft,
  RunHead,
  ParcelAt,
  ParcelBit,
  Address,
  Size,
  Value,
  Pc,
  FetchLo,
  FetchHi,
  ReadLo,
  ReadHi,
  WriteLo,
  WriteHi,
  ModifyLo,
  ModifyHi,
  PcLo,
  PcHi,
  Fetches,
  Writes,
  Modifies,
  SeedBytes,
  Words,
}

const decodeState = new Int32Array(Decode.Words);

/** Records [start, end) of decodeColumns, with its checks; `state` in and out. */
function decodeSlice(raw: Uint8Array, rawView: DataView, columns: ChunkColumns, state: Int32Array, start: number, end: number, records: number, bounds: ColumnBounds, flags: number): void {
  const { heads, sizes, addressLo, addressHi, valueLo, valueHi, pcLo, pcHi } = columns;
  const hasValues = (flags & V2Flag.Values) !== 0;
  const hasPcs = (flags & V2Flag.Pc) !== 0;
  const headEnd = bounds.headEnd | 0;
  const addressEnd = bounds.addressEnd | 0;
  const sizeEnd = bounds.sizeEnd | 0;
  const valueEnd = bounds.valueEnd | 0;
  const pcEnd = bounds.pcEnd | 0;
  let headAt = state[Decode.Head];
  let runLeft = state[Decode.RunLeft];
  let runHead = state[Decode.RunHead];
  let parcelAt = state[Decode.ParcelAt];
  let parcelBit = state[Decode.ParcelBit];
  let addressAt = state[Decode.Address];
  let sizeAt = state[Decode.Size];
  let valueAt = state[Decode.Value];
  let pcAt = state[Decode.Pc];
  // Where the last access of each kind ended, as in the encoder.
  let fetchLo = state[Decode.FetchLo], fetchHi = state[Decode.FetchHi], readLo = state[Decode.ReadLo], readHi = state[Decode.ReadHi];
  let writeLo = state[Decode.WriteLo], writeHi = state[Decode.WriteHi], modifyLo = state[Decode.ModifyLo], modifyHi = state[Decode.ModifyHi];
  let lastPcLo = state[Decode.PcLo], lastPcHi = state[Decode.PcHi];
  let fetches = 0, writes = 0, modifies = 0;
  let seedBytes = state[Decode.SeedBytes];
  const seedBytesOfHead = SEED_BYTES_OF_HEAD; // a local: a module binding is reloaded on every use
  const endIndex = end | 0;
  for (let index = start | 0; index < endIndex; index++) {
    let head: number;
    // Within a run, a record is its head again with a delta of 0, nothing stored.
    const inRun = runLeft > 0;
    if (inRun) {
      head = parcelAt < 0 ? runHead : parcelHead(raw, parcelAt, parcelBit++);
      runLeft = (runLeft - 1) | 0;
    } else {
      if (headAt >= headEnd) throw badRecord(index, Fault.HeadEnd);
      head = raw[headAt];
      headAt = (headAt + 1) | 0;
      if (head > Head.Known) {
        headAt = nextRunLength(raw, headAt, headEnd, head, index, records, flags) | 0;
        runLeft = cursor.lo | 0;
        parcelAt = cursor.hi | 0;
        parcelBit = 1;
        head = parcelAt < 0 ? head & Head.Known : parcelHead(raw, parcelAt, 0);
        runHead = head;
      }
    }
    heads[index] = head;
    seedBytes += seedBytesOfHead[head];
    const kind = head & Head.KindMask;
    const sizeCode = head >>> Head.SizeShift;
    let sizeBytes = 1 << sizeCode;
    if (sizeCode === Head.ExplicitSize) {
      sizeAt = nextExplicitSize(raw, sizeAt, sizeEnd, index);
      sizeBytes = cursor.lo;
      sizes[index] = sizeBytes;
      seedBytes += seedBytesOf(kind, sizeBytes);
    }
    const expectedLo = kind === RecordKind.Fetch ? fetchLo : kind === RecordKind.Read ? readLo : kind === RecordKind.Write ? writeLo : modifyLo;
    const expectedHi = kind === RecordKind.Fetch ? fetchHi : kind === RecordKind.Read ? readHi : kind === RecordKind.Write ? writeHi : modifyHi;
    const first = addressAt < addressEnd ? raw[addressAt] : 0x80;
    let deltaLo: number;
    let deltaHi: number;
    if (inRun) {
      deltaLo = 0;
      deltaHi = 0;
    } else if (first < 0x80) {
      // `0 - x`, not `-x`: `-(0)` is -0, a double, and TurboFan then computes in doubles.
      deltaHi = 0 - (first & 1);
      deltaLo = (first >>> 1) ^ deltaHi;
      addressAt = (addressAt + 1) | 0;
    } else {
      // Call results `| 0`, so the offsets stay int32 (replay-payload.ts measured why).
      addressAt = nextAddressDelta(raw, addressAt, addressEnd, index) | 0;
      deltaLo = cursor.lo | 0;
      deltaHi = cursor.hi | 0;
    }
    // 64-bit addition on int32 halves: the low half carried when it came out below where it began.
    const lo = (expectedLo + deltaLo) | 0;
    const hi = (expectedHi + deltaHi + ((lo >>> 0) < (expectedLo >>> 0) ? 1 : 0)) | 0;
    if (hi === -1 && (lo >>> 0) > TWO_POW_32 - sizeBytes) throw badRecord(index, Fault.PastTop);
    const endLo = (lo + sizeBytes) | 0;
    const endHi = (endLo >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi;
    if (kind === RecordKind.Fetch) {
      fetchLo = endLo;
      fetchHi = endHi;
      fetches++;
    } else if (kind === RecordKind.Read) {
      readLo = endLo;
      readHi = endHi;
    } else {
      if (kind === RecordKind.Write) {
        writeLo = endLo;
        writeHi = endHi;
        writes++;
      } else {
        modifyLo = endLo;
        modifyHi = endHi;
        modifies++;
      }
      if (hasValues) {
        if (valueAt + sizeBytes > valueEnd || sizeCode > 3) throw badRecord(index, Fault.Value);
        if (sizeBytes === 8) {
          valueLo[index] = rawView.getInt32(valueAt, true);
          valueHi[index] = rawView.getInt32(valueAt + 4, true);
        } else {
          valueLo[index] = sizeBytes === 4 ? rawView.getInt32(valueAt, true) : sizeBytes === 2 ? rawView.getUint16(valueAt, true) : raw[valueAt];
          valueHi[index] = 0;
        }
        valueAt += sizeBytes;
      }
    }
    if (hasPcs) {
      pcAt = pcAt < pcEnd ? cursor.nextZigzag(raw, pcAt, pcEnd) : -1;
      if (pcAt < 0) throw badRecord(index, Fault.PcVarint);
      const pcSumLo = (lastPcLo >>> 0) + (cursor.lo >>> 0);
      lastPcHi = (lastPcHi + cursor.hi + (pcSumLo > 0xffffffff ? 1 : 0)) | 0;
      lastPcLo = pcSumLo | 0;
      pcLo[index] = lastPcLo;
      pcHi[index] = lastPcHi;
    }
    addressLo[index] = lo;
    addressHi[index] = hi;
  }
  state[Decode.Head] = headAt;
  state[Decode.RunLeft] = runLeft;
  state[Decode.RunHead] = runHead;
  state[Decode.ParcelAt] = parcelAt;
  state[Decode.ParcelBit] = parcelBit;
  state[Decode.Address] = addressAt;
  state[Decode.Size] = sizeAt;
  state[Decode.Value] = valueAt;
  state[Decode.Pc] = pcAt;
  state[Decode.FetchLo] = fetchLo;
  state[Decode.FetchHi] = fetchHi;
  state[Decode.ReadLo] = readLo;
  state[Decode.ReadHi] = readHi;
  state[Decode.WriteLo] = writeLo;
  state[Decode.WriteHi] = writeHi;
  state[Decode.ModifyLo] = modifyLo;
  state[Decode.ModifyHi] = modifyHi;
  state[Decode.PcLo] = lastPcLo;
  state[Decode.PcHi] = lastPcHi;
  state[Decode.Fetches] += fetches;
  state[Decode.Writes] += writes;
  state[Decode.Modifies] += modifies;
  state[Decode.SeedBytes] = seedBytes;
}

/**
 * Checks a chunk's pc column apart from its records (replay has no use for pcs): one valid
 * varint per record, the column used exactly.
 */
export function checkPcColumn(raw: Uint8Array, info: ChunkInfo, bounds: ColumnBounds): void {
  let at = bounds.pcAt;
  for (let index = 0; index < info.records; index++) {
    at = at < bounds.pcEnd ? cursor.nextZigzag(raw, at, bounds.pcEnd) : -1;
    if (at < 0) throw badRecord(index, Fault.PcVarint);
  }
  if (at !== bounds.pcEnd) throw new ChunkProblem("columns hold more bytes than the records use");
}
