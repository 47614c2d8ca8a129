import { secondParcelHigh, type MemoryAccess } from "../../space/backend.js";
import type { ReplayTally } from "../replay-tally.js";
import { sizeOfRecord, type ChunkColumns } from "./chunk-columns.js";
import { RecordKind, Head, V2Flag } from "./layout.js";
import { derivedValueHi, derivedValueLo, pieceWidth } from "./seed-pieces.js";

/** Head bytes (kind | size code << 2) the kernel dispatches on. */
const enum HeadByte {
  Fetch2 = RecordKind.Fetch | (1 << Head.SizeShift),
  Fetch4 = RecordKind.Fetch | (2 << Head.SizeShift),
  Read1 = RecordKind.Read,
  Read2 = RecordKind.Read | (1 << Head.SizeShift),
  Read4 = RecordKind.Read | (2 << Head.SizeShift),
  Read8 = RecordKind.Read | (3 << Head.SizeShift),
  Write2 = RecordKind.Write | (1 << Head.SizeShift),
  Write4 = RecordKind.Write | (2 << Head.SizeShift),
  Write8 = RecordKind.Write | (3 << Head.SizeShift),
  WriteExplicit = RecordKind.Write | (Head.ExplicitSize << Head.SizeShift),
}

/**
 * Records one call of the kernel takes at most: short calls keep V8 on the kernel's
 * regular optimized code, as the seed kernel's slices do (docs/design/replay-and-paged-backend.md).
 */
const SLICE_RECORDS = 4096;

/**
 * Replays a decoded chunk onto `sink` exactly as its conversion to seed records would replay:
 * a fetch as 2-byte loads of its parcels, a read or write of an odd size as pieces, a write
 * without a stored value with its derived value. So a v2 trace and its seed conversion give
 * the same ops, reads, writes and checksum.
 */
export function replayColumns(sink: MemoryAccess, columns: ChunkColumns, firstRecord: number, tally: ReplayTally): void {
  const hasValues = (columns.flags & V2Flag.Values) !== 0;
  for (let start = 0; start < columns.count; start += SLICE_RECORDS) {
    replaySlice(sink, columns, start, Math.min(columns.count, start + SLICE_RECORDS), hasValues, firstRecord, tally);
  }
}

function replaySlice(sink: MemoryAccess, columns: ChunkColumns, start: number, end: number, hasValues: boolean, firstRecord: number, tally: ReplayTally): void {
  const { heads, addressLo, addressHi, valueLo, valueHi } = columns;
  let sumLo = 0;
  let sumHi = 0;
  let reads = 0;
  let writes = 0;
  for (let index = start; index < end; index++) {
    // Dispatch on the whole head byte (kind and size code), the most frequent first, as the
    // seed kernel dispatches on op and width.
    const head = heads[index];
    const lo = addressLo[index];
    const hi = addressHi[index];
    if (head === HeadByte.Read2 || head === HeadByte.Fetch2) {
      sumLo += sink.load16(lo, hi);
      reads++;
    } else if (head === HeadByte.Fetch4) {
      sumLo += sink.load16(lo, hi);
      sumLo += sink.load16((lo + 2) | 0, secondParcelHigh(lo, hi));
      reads += 2;
    } else if (head === HeadByte.Read8) {
      sumLo += sink.load64(lo, hi);
      sumHi += sink.loadHigh;
      reads++;
    } else if (head === HeadByte.Read4) {
      sumLo += sink.load32(lo, hi);
      reads++;
    } else if (head === HeadByte.Read1) {
      sumLo += sink.load8(lo, hi);
      reads++;
    } else if ((head & Head.KindMask) === RecordKind.Write && head !== HeadByte.WriteExplicit) {
      const record = firstRecord + index;
      const vLo = hasValues ? valueLo[index] : derivedValueLo(record) | 0;
      const vHi = hasValues ? valueHi[index] : derivedValueHi(record) | 0;
      if (head === HeadByte.Write8) sink.store64(lo, hi, vLo, vHi);
      else if (head === HeadByte.Write4) sink.store32(lo, hi, vLo);
      else if (head === HeadByte.Write2) sink.store16(lo, hi, vLo & 0xffff);
      else sink.store8(lo, hi, vLo & 0xff);
      writes++;
    } else {
      // Fetches other than 2 or 4 bytes, explicit sizes: seed pieces.
      const kind = head & Head.KindMask;
      const record = firstRecord + index;
      const vLo = hasValues ? valueLo[index] : derivedValueLo(record) | 0;
      const vHi = hasValues ? valueHi[index] : derivedValueHi(record) | 0;
      const pieces = replayPieces(sink, kind, sizeOfRecord(columns, index, head), lo, hi, vLo, vHi, tally);
      if (kind === RecordKind.Write) writes += pieces;
      else reads += pieces;
    }
  }
  sink.countAccesses(reads, writes);
  tally.reads += reads;
  tally.writes += writes;
  tally.sliceSums[0] = sumLo;
  tally.sliceSums[1] = sumHi;
  tally.addSliceSums();
}

/**
 * The rare path: an access of a size the seed format cannot hold, replayed as its seed
 * pieces (seed-pieces.ts); the loads' sums go straight into the tally. Returns the pieces.
 */
function replayPieces(sink: MemoryAccess, kind: RecordKind, sizeBytes: number, lo: number, hi: number, valueLo: number, valueHi: number, tally: ReplayTally): number {
  let sumLo = 0;
  let sumHi = 0;
  let pieces = 0;
  let pieceLo = lo >>> 0;
  let pieceHi = hi | 0;
  for (let left = sizeBytes; left > 0; pieces++) {
    const width = pieceWidth(kind, left);
    if (kind === RecordKind.Write) {
      if (width === 8) sink.store64(pieceLo, pieceHi, valueLo, valueHi);
      else if (width === 4) sink.store32(pieceLo, pieceHi, valueLo);
      else if (width === 2) sink.store16(pieceLo, pieceHi, valueLo & 0xffff);
      else sink.store8(pieceLo, pieceHi, valueLo & 0xff);
    } else if (width === 8) {
      sumLo += sink.load64(pieceLo, pieceHi);
      sumHi += sink.loadHigh;
    } else if (width === 4) sumLo += sink.load32(pieceLo, pieceHi);
    else if (width === 2) sumLo += sink.load16(pieceLo, pieceHi);
    else sumLo += sink.load8(pieceLo, pieceHi);
    left -= width;
    pieceLo += width;
    if (pieceLo > 0xffffffff) {
      pieceLo -= 0x100000000;
      pieceHi = (pieceHi + 1) | 0;
    }
  }
  tally.sliceSums[0] = sumLo;
  tally.sliceSums[1] = sumHi;
  tally.addSliceSums();
  return pieces;
}
