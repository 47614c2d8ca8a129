/**
 * The v2 trace container's layout, byte for byte (all integers little-endian):
 *
 *   file header (32 bytes)   magic, version, flags, chunk limit, header CRC
 *   chunk*                   chunk header (64 bytes) + payload, each decodable on its own
 *   index                    "MSIX", chunk count, (file offset, first record) per chunk, CRC
 *   trailer (16 bytes)       index offset, "MSTE", CRC: a reader that can seek starts here
 *
 * A chunk's payload is columns, each a run of one field for all its records: one head byte
 * per record (kind and size code), the address deltas, explicit sizes, write values and pcs.
 * The whole payload is then deflated when that pays. docs/design/trace-container.md gives
 * the reasons.
 */
import { TraceFormat } from "../format.js";

/** The file's first eight bytes: PNG's pattern (a high byte, then CR LF, ^Z, LF catch text-mode mangling); 0x89 is no seed op, so the formats never collide. */
export const V2_MAGIC = Uint8Array.of(0x89, 0x4d, 0x53, 0x54, 0x0d, 0x0a, 0x1a, 0x0a);

/** The container version this code writes and reads. */
export const V2_VERSION = 2;

/** Fixed sizes and the positions of fields in the headers, in bytes. */
export const enum V2Layout {
  FileHeaderBytes = 32,
  FileVersionAt = 8,
  FileFlagsAt = 10,
  FileChunkLimitAt = 12,
  FileHeaderCrcAt = 28,

  ChunkHeaderBytes = 64,
  /** "MSCK" as a little-endian u32. */
  ChunkMagic = 0x4b43534d,
  ChunkRecordsAt = 4,
  ChunkStoredBytesAt = 8,
  ChunkRawBytesAt = 12,
  ChunkCodecAt = 16,
  ChunkAddressBytesAt = 20,
  ChunkSizeBytesAt = 24,
  ChunkValueBytesAt = 28,
  ChunkPcBytesAt = 32,
  ChunkFetchesAt = 36,
  ChunkReadsAt = 40,
  ChunkWritesAt = 44,
  ChunkSeedBytesAt = 48,
  ChunkPayloadCrcAt = 52,
  ChunkModifiesAt = 56,
  ChunkHeaderCrcAt = 60,

  /** "MSIX". */
  IndexMagic = 0x5849534d,
  IndexHeaderBytes = 8,
  IndexEntryBytes = 16,
  IndexCrcBytes = 4,

  TrailerBytes = 16,
  /** "MSTE". */
  TrailerMagic = 0x4554534d,
  TrailerMagicAt = 8,
  TrailerCrcAt = 12,
}

/** File flags: which optional columns every chunk carries. */
export const enum V2Flag {
  /** Writes carry their values (a trace recorded by memspace); lackey logs have none. */
  Values = 1,
  /** Every record carries the pc of the instruction that made it. */
  Pc = 2,
  /** Head columns hold runs: a head with Head.Run stands for several records (Head.Run says how). */
  Runs = 4,
  Known = Values | Pc | Runs,
}

/** How a chunk's payload is stored. */
export const enum V2Codec {
  Stored = 0,
  /** zlib's raw deflate (RFC 1951). */
  Deflate = 1,
}

/** Record kinds: the low two bits of a head byte. */
export const enum RecordKind {
  Fetch = 0,
  Read = 1,
  Write = 2,
  /** A read then a write of the same bytes (lackey's ` M`); its value is the written one. */
  Modify = 3,
}

/** A record kind as the public API takes it: 0 fetch, 1 read, 2 write, 3 modify (RECORD_KINDS names them). */
export type RecordKindCode = 0 | 1 | 2 | 3;

/** The record kinds by name, for JavaScript callers of V2TraceWriter.append. */
export const RECORD_KINDS = { fetch: 0, read: 1, write: 2, modify: 3 } as const;

/**
 * A head byte: kind in bits 0-1, size code in bits 2-4 (0-3: 1, 2, 4 or 8 bytes; 4: the size
 * is in the sizes column), and, in a file with V2Flag.Runs, bit 5: a run.
 */
export const enum Head {
  KindMask = 3,
  SizeShift = 2,
  ExplicitSize = 4,
  Known = 0x1f,
  /**
   * A run: the head is followed in the head column by an unsigned varint n >= 1, and stands
   * for 1 + n records of its kind and size (1, 2, 4 or 8 bytes). The first has its address
   * delta in the address column; each of the n others starts where the one before it ended
   * (a delta of 0, not stored): the next instruction parcel, the next element of a sweep.
   * Values and pcs are per record, as ever.
   */
  Run = 0x20,
  /** The greatest head byte of a run of one size: a run of 8-byte modifies. */
  KnownRun = Run | (3 << SizeShift) | 3,
  /**
   * A run of instruction fetches of 2 and 4 bytes mixed (compressed and full instructions):
   * after its varint n, ceil((1 + n) / 8) bytes of the head column hold a bit per fetch,
   * least significant first, set for a 4-byte one (unused bits 0). Fetches otherwise run
   * as any record does.
   */
  ParcelRun = Run | (5 << SizeShift) | RecordKind.Fetch,
  /** Head bytes of a 2- and a 4-byte fetch, which a parcel run's bits stand for. */
  Fetch2 = RecordKind.Fetch | (1 << SizeShift),
  Fetch4 = RecordKind.Fetch | (2 << SizeShift),
}

/** Greatest size of one access, in bytes (lackey's limit: vector accesses, x86 instructions). */
export const MAX_ACCESS_BYTES = 4096;

/**
 * A chunk ends before its records would take more than this many bytes as seed-format
 * records, so any chunk decodes into a fixed buffer; 4 MiB is about 400,000 records.
 */
export const DEFAULT_CHUNK_SEED_BYTES = 4 << 20;

/** Decoders size their buffers from the chunk limit, so a reader refuses limits above this. */
export const MAX_CHUNK_SEED_BYTES = 64 << 20;

/** Records a chunk of `chunkSeedBytes` can hold: every record is at least one seed header. */
export function maxChunkRecords(chunkSeedBytes: number): number {
  return Math.floor(chunkSeedBytes / TraceFormat.HeaderBytes);
}

/** Bytes of the largest record as seed records: a 4096-byte access as 2-byte reads. */
export const MAX_RECORD_SEED_BYTES = (MAX_ACCESS_BYTES / 2) * TraceFormat.HeaderBytes;

/** Whether the first bytes of a file are a v2 container's magic. */
export function hasV2Magic(bytes: Uint8Array, length: number): boolean {
  if (length < V2_MAGIC.length) return false;
  for (let i = 0; i < V2_MAGIC.length; i++) if (bytes[i] !== V2_MAGIC[i]) return false;
  return true;
}

/** Writes a safe integer as a little-endian u64. */
export function setUint64(view: DataView, at: number, value: number): void {
  view.setUint32(at, value % 0x100000000, true);
  view.setUint32(at + 4, Math.floor(value / 0x100000000), true);
}

/** Reads a little-endian u64 as a number (exact up to 2^53). */
export function getUint64(view: DataView, at: number): number {
  return view.getUint32(at, true) + view.getUint32(at + 4, true) * 0x100000000;
}
