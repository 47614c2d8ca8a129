import { secondParcelHigh, type MemoryAccess } from "../../space/backend.js";
import type { ReplayTally } from "../replay.js";
import type { ChunkColumns } from "./chunk-columns.js";
import { AccessKind, V2Flag } from "./layout.js";
import { derivedValueHi, derivedValueLo, pieceWidth } from "./seed-pieces.js";

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
  const { kinds, sizes, addressLo, addressHi, valueLo, valueHi } = columns;
  let sumLo = 0;
  let sumHi = 0;
  let reads = 0;
  let writes = 0;
  for (let index = start; index < end; index++) {
    const kind = kinds[index];
    const sizeBytes = sizes[index];
    const lo = addressLo[index];
    const hi = addressHi[index];
    if (kind === AccessKind.Fetch) {
      if (sizeBytes === 2) {
        sumLo += sink.load16(lo, hi);
        reads++;
      } else if (sizeBytes === 4) {
        sumLo += sink.load16(lo, hi);
        sumLo += sink.load16((lo + 2) | 0, secondParcelHigh(lo, hi));
        reads += 2;
      } else reads += replayPieces(sink, kind, sizeBytes, lo, hi, 0, 0, tally);
    } else if (kind === AccessKind.Read) {
      if (sizeBytes === 8) {
        sumLo += sink.load64(lo, hi);
        sumHi += sink.loadHigh;
      } else if (sizeBytes === 4) sumLo += sink.load32(lo, hi);
      else if (sizeBytes === 2) sumLo += sink.load16(lo, hi);
      else if (sizeBytes === 1) sumLo += sink.load8(lo, hi);
      else reads += replayPieces(sink, kind, sizeBytes, lo, hi, 0, 0, tally) - 1;
      reads++;
    } else {
      const record = firstRecord + index;
      const vLo = hasValues ? valueLo[index] : derivedValueLo(record) | 0;
      const vHi = hasValues ? valueHi[index] : derivedValueHi(record) | 0;
      if (sizeBytes === 8) sink.store64(lo, hi, vLo, vHi);
      else if (sizeBytes === 4) sink.store32(lo, hi, vLo);
      else if (sizeBytes === 2) sink.store16(lo, hi, vLo & 0xffff);
      else if (sizeBytes === 1) sink.store8(lo, hi, vLo & 0xff);
      else writes += replayPieces(sink, kind, sizeBytes, lo, hi, vLo, vHi, tally) - 1;
      writes++;
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
function replayPieces(sink: MemoryAccess, kind: AccessKind, sizeBytes: number, lo: number, hi: number, valueLo: number, valueHi: number, tally: ReplayTally): number {
  let sumLo = 0;
  let sumHi = 0;
  let pieces = 0;
  let pieceLo = lo >>> 0;
  let pieceHi = hi | 0;
  for (let left = sizeBytes; left > 0; pieces++) {
    const width = pieceWidth(kind, left);
    if (kind === AccessKind.Write) {
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
