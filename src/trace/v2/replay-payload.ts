import { TWO_POW_32 } from "../../space/address.js";
import { secondParcelHigh, type MemoryAccess } from "../../space/backend.js";
import { TraceFormat } from "../format.js";
import type { ReplayTally } from "../replay-tally.js";
import { badRecord, checkChunkEnd, checkPcColumn, columnBounds, cursor, Fault, nextAddressDelta, nextExplicitSize, nextRunLength, parcelHead, type ChunkInfo } from "./chunk-decoder.js";
import { RecordKind, Head, V2Flag } from "./layout.js";
import { derivedValueHi, derivedValueLo, forEachPiece } from "./seed-pieces.js";

/** Head bytes (kind | size code << 2) the kernel dispatches on. */
const enum HeadByte {
  Fetch2 = RecordKind.Fetch | (1 << Head.SizeShift),
  Fetch4 = RecordKind.Fetch | (2 << Head.SizeShift),
  Read1 = RecordKind.Read,
  Read2 = RecordKind.Read | (1 << Head.SizeShift),
  Read4 = RecordKind.Read | (2 << Head.SizeShift),
  Read8 = RecordKind.Read | (3 << Head.SizeShift),
  Write1 = RecordKind.Write,
  Write2 = RecordKind.Write | (1 << Head.SizeShift),
  Write4 = RecordKind.Write | (2 << Head.SizeShift),
  Write8 = RecordKind.Write | (3 << Head.SizeShift),
}

/**
 * Records one call of the kernel takes at most: short calls keep V8 on the kernel's
 * regular optimized code, as the seed kernel's slices do (docs/design/replay-and-paged-backend.md).
 * With 4096, the first call ran long enough to be compiled before it had recorded feedback
 * for its own prologue, and every later call entered on-stack-replaced code.
 */
const SLICE_RECORDS = 1024;

/** What the kernel carries from one slice to the next, as int32 words of `state`. */
const enum At {
  Head,
  /** The records of the open run still to come, and its head; a parcel run's bits (-1: none) and the next one. */
  RunLeft,
  RunHead,
  ParcelAt,
  ParcelBit,
  Address,
  Size,
  Value,
  FetchLo,
  FetchHi,
  ReadLo,
  ReadHi,
  WriteLo,
  WriteHi,
  Fetches,
  Writes,
  /** Seed records replayed (pieces), and bytes written: the chunk's seed bytes follow from them. */
  Pieces,
  WriteBytes,
  /** Write pieces of the slice being replayed. */
  SliceWritePieces,
  ModifyLo,
  ModifyHi,
  Modifies,
  Words,
}

const state = new Int32Array(At.Words);

/**
 * Replays a chunk straight from its raw (inflated) payload onto `sink`, exactly as its
 * conversion to seed records would replay: a fetch as 2-byte loads of its parcels, a read or
 * write of an odd size as pieces, a write without a stored value with its derived value. It
 * checks all that decodeColumns checks (a ChunkProblem naming the record), but records
 * before a bad one in the chunk are already replayed. No columns in between: decoding them
 * and reading them back cost more than the replay itself.
 */
export function replayPayload(sink: MemoryAccess, raw: Uint8Array, info: ChunkInfo, flags: number, firstRecord: number, tally: ReplayTally): void {
  const bounds = columnBounds(info);
  if ((flags & V2Flag.Pc) !== 0) checkPcColumn(raw, info, bounds);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  state.fill(0);
  state[At.ParcelAt] = -1;
  state[At.Address] = bounds.addressAt;
  state[At.Size] = bounds.sizeAt;
  state[At.Value] = bounds.valueAt;
  tally.sliceSums.fill(0);
  for (let start = 0; start < info.records; start += SLICE_RECORDS) {
    const end = Math.min(info.records, start + SLICE_RECORDS);
    replaySlice(sink, raw, view, state, start, end, info.records, bounds.headEnd, bounds.addressEnd, bounds.sizeEnd, bounds.valueEnd, flags, firstRecord, tally);
  }
  const used = { ...bounds, headAt: state[At.Head], addressAt: state[At.Address], sizeAt: state[At.Size], valueAt: state[At.Value], pcAt: bounds.pcEnd };
  const seedBytes = state[At.Pieces] * TraceFormat.HeaderBytes + state[At.WriteBytes];
  checkChunkEnd(info, bounds, used, state[At.Fetches], state[At.Writes], state[At.Modifies], seedBytes);
}

/**
 * The fused hot loop over records [start, end) of a chunk: head, address delta (up to five
 * bytes inline), the sink's call. Offsets are int32 (`| 0`), nothing is allocated; errors leave
 * through badRecord, built outside the loop. Only what the frequent records use is in
 * locals; what writes and rare records use stays in `kernel` and the tally's slice sums:
 * fewer values live across the loop, fewer spilled at its head (callgrind: 6 instructions
 * a record).
 */
function replaySlice(
  sink: MemoryAccess,
  raw: Uint8Array,
  view: DataView,
  kernel: Int32Array,
  start: number,
  end: number,
  records: number,
  headEndAt: number,
  addressEndAt: number,
  sizeEnd: number,
  valueEnd: number,
  flags: number,
  firstRecord: number,
  tally: ReplayTally,
): void {
  const sums = tally.sliceSums;
  const hasValues = (flags & V2Flag.Values) !== 0;
  let headAt = kernel[At.Head];
  let runLeft = kernel[At.RunLeft];
  let addressAt = kernel[At.Address];
  let fetchLo = kernel[At.FetchLo];
  let fetchHi = kernel[At.FetchHi];
  let readLo = kernel[At.ReadLo];
  let readHi = kernel[At.ReadHi];
  let fetches = 0;
  let readPieces = 0;
  // Sums of the value halves: the low one here, the rest in `sums` (all below 2^53 a slice).
  let sumLo = 0;
  kernel[At.SliceWritePieces] = 0;
  const headEnd = headEndAt | 0;
  const addressEnd = addressEndAt | 0;
  const endIndex = end | 0;
  for (let index = start | 0; index < endIndex; index = (index + 1) | 0) {
    let head: number;
    let first: number;
    if (runLeft > 0) {
      // A record of a run: its head again, and a delta of 0 that takes no byte (the paths
      // below step past a one-byte delta, so the address offset steps back one first).
      runLeft = (runLeft - 1) | 0;
      const parcelAt = kernel[At.ParcelAt];
      head = parcelAt < 0 ? kernel[At.RunHead] : parcelHead(raw, parcelAt, kernel[At.ParcelBit]++);
      first = 0;
      addressAt = (addressAt - 1) | 0;
    } else {
      if (headAt >= headEnd) throw badRecord(index, Fault.HeadEnd);
      head = raw[headAt];
      headAt = (headAt + 1) | 0;
      if (head > Head.Known) {
        headAt = nextRunLength(raw, headAt, headEnd, head, index, records, flags) | 0;
        runLeft = cursor.lo | 0;
        const parcelAt = cursor.hi | 0;
        kernel[At.ParcelAt] = parcelAt;
        kernel[At.ParcelBit] = 1;
        head = parcelAt < 0 ? head & Head.Known : parcelHead(raw, parcelAt, 0);
        kernel[At.RunHead] = head;
      }
      first = addressAt < addressEnd ? raw[addressAt] : 0x80;
    }
    // The most frequent records first: a 2-byte read or fetch (an instruction parcel) whose
    // delta is one byte, mostly 0 (the next parcel). One branch per kind: a shared one that
    // selected the kind's prediction cost 16 instructions a record more (callgrind).
    if (head === HeadByte.Read2 && first < 0x80) {
      // Zigzag undone in int32 (`-(first & 1)` would be a double: -0).
      const delta = (first >>> 1) ^ (0 - (first & 1));
      const lo = (readLo + delta) | 0;
      const hi = (readHi + (delta >> 31) + ((lo >>> 0) < (readLo >>> 0) ? 1 : 0)) | 0;
      if (hi === -1 && (lo >>> 0) > TWO_POW_32 - 2) throw badRecord(index, Fault.PastTop);
      sumLo += sink.load16(lo, hi);
      readPieces++;
      addressAt = (addressAt + 1) | 0;
      readLo = (lo + 2) | 0;
      readHi = (readLo >>> 0) < 2 ? (hi + 1) | 0 : hi;
      if (runLeft > 0) {
        // The rest of its run, up to the slice's end, in a tight loop. A read in the top
        // 4 GiB is left to the checks above.
        const last = Math.min(endIndex - 1, index + runLeft) | 0;
        while (index < last && readHi !== -1) {
          sumLo += sink.load16(readLo, readHi);
          readPieces++;
          readLo = (readLo + 2) | 0;
          if ((readLo >>> 0) < 2) readHi = (readHi + 1) | 0;
          index = (index + 1) | 0;
          runLeft = (runLeft - 1) | 0;
        }
        continue;
      }
      // Unrolled once, as in the seed kernel: parcels come in runs, most of delta 0 (the
      // next parcel), in a file without runs. A read in the top 4 GiB is left to the checks above.
      const next = (index + 1) | 0;
      if (next < endIndex && headAt < headEnd && addressAt < addressEnd && raw[headAt] === HeadByte.Read2 && raw[addressAt] === 0 && readHi !== -1) {
        sumLo += sink.load16(readLo, readHi);
        readPieces++;
        addressAt = (addressAt + 1) | 0;
        headAt = (headAt + 1) | 0;
        readLo = (readLo + 2) | 0;
        if ((readLo >>> 0) < 2) readHi = (readHi + 1) | 0;
        index = next;
      }
      continue;
    }
    // The same for fetches of one or two parcels, with their own prediction (a recorded v2
    // trace has fetches; a converted seed trace has only reads).
    if ((head === HeadByte.Fetch2 || head === HeadByte.Fetch4) && first < 0x80) {
      const sizeBytes = head === HeadByte.Fetch2 ? 2 : 4;
      const delta = (first >>> 1) ^ (0 - (first & 1));
      const lo = (fetchLo + delta) | 0;
      const hi = (fetchHi + (delta >> 31) + ((lo >>> 0) < (fetchLo >>> 0) ? 1 : 0)) | 0;
      if (hi === -1 && (lo >>> 0) > TWO_POW_32 - sizeBytes) throw badRecord(index, Fault.PastTop);
      sumLo += sink.load16(lo, hi);
      if (sizeBytes === 4) {
        sumLo += sink.load16((lo + 2) | 0, secondParcelHigh(lo, hi));
        readPieces++;
      }
      readPieces++;
      fetches++;
      addressAt = (addressAt + 1) | 0;
      fetchLo = (lo + sizeBytes) | 0;
      fetchHi = (fetchLo >>> 0) < sizeBytes ? (hi + 1) | 0 : hi;
      continue;
    }
    const kind = head & Head.KindMask;
    const sizeCode = head >>> Head.SizeShift;
    let sizeBytes = 1 << sizeCode;
    if (sizeCode === Head.ExplicitSize) {
      // Call results `| 0`: untyped, they made the offsets tagged values (a Smi check and
      // untagging on every record of the fast path).
      kernel[At.Size] = nextExplicitSize(raw, kernel[At.Size], sizeEnd, index) | 0;
      sizeBytes = cursor.lo | 0;
    }
    let deltaLo: number;
    let deltaHi: number;
    if (first < 0x80) {
      deltaHi = 0 - (first & 1);
      deltaLo = (first >>> 1) ^ deltaHi;
      addressAt = (addressAt + 1) | 0;
    } else {
      // Varints of up to 5 bytes (35 bits) inline, in int32 halves; a longer one, or a column
      // end within it, is left to nextAddressDelta and its checks.
      let zigzagLo = first & 0x7f;
      let shift = 7;
      let byteAt = (addressAt + 1) | 0;
      let byte = 0x80;
      while (shift < 35 && byteAt < addressEnd) {
        byte = raw[byteAt];
        zigzagLo |= (byte & 0x7f) << shift;
        byteAt = (byteAt + 1) | 0;
        shift = (shift + 7) | 0;
        if (byte < 0x80) break;
      }
      if (byte < 0x80) {
        // The fifth byte's top 3 bits are the high half's.
        const zigzagHi = shift === 35 ? byte >>> 4 : 0;
        deltaHi = 0 - (zigzagLo & 1);
        deltaLo = ((zigzagLo >>> 1) | (zigzagHi << 31)) ^ deltaHi;
        deltaHi = (zigzagHi >>> 1) ^ deltaHi;
        addressAt = byteAt;
      } else {
        addressAt = nextAddressDelta(raw, addressAt, addressEnd, index) | 0;
        deltaLo = cursor.lo | 0;
        deltaHi = cursor.hi | 0;
      }
    }
    const expectedLo = kind === RecordKind.Fetch ? fetchLo : kind === RecordKind.Read ? readLo : kernel[kind === RecordKind.Write ? At.WriteLo : At.ModifyLo];
    const expectedHi = kind === RecordKind.Fetch ? fetchHi : kind === RecordKind.Read ? readHi : kernel[kind === RecordKind.Write ? At.WriteHi : At.ModifyHi];
    // 64-bit addition on halves: the low half carried when it came out below where it began.
    const lo = (expectedLo + deltaLo) | 0;
    const hi = (expectedHi + deltaHi + ((lo >>> 0) < (expectedLo >>> 0) ? 1 : 0)) | 0;
    if (hi === -1 && (lo >>> 0) > TWO_POW_32 - sizeBytes) throw badRecord(index, Fault.PastTop);
    const endLo = (lo + sizeBytes) | 0;
    const endHi = (endLo >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi;
    // Dispatch on the whole head byte, the most frequent first, as the seed kernel does.
    if (kind === RecordKind.Write || kind === RecordKind.Modify) {
      let valueLo: number;
      let valueHi = 0;
      if (hasValues) {
        const valueAt = kernel[At.Value];
        if (sizeCode > 3 || valueAt + sizeBytes > valueEnd) throw badRecord(index, Fault.Value);
        // By size, not head: a modify's value is laid out as a write's.
        if (sizeBytes === 8) {
          valueLo = view.getInt32(valueAt, true);
          valueHi = view.getInt32(valueAt + 4, true);
        } else valueLo = sizeBytes === 4 ? view.getInt32(valueAt, true) : sizeBytes === 2 ? view.getUint16(valueAt, true) : raw[valueAt];
        kernel[At.Value] = valueAt + sizeBytes;
      } else {
        valueLo = derivedValueLo(firstRecord + index) | 0;
        valueHi = derivedValueHi(firstRecord + index) | 0;
      }
      if (kind === RecordKind.Modify) {
        // A read of the bytes, then the write of the value: as its seed pieces (rare: lackey's ` M`).
        readPieces = (readPieces + replayPieces(sink, RecordKind.Read, sizeBytes, lo, hi, 0, 0, sums)) | 0;
        kernel[At.SliceWritePieces] += replayPieces(sink, RecordKind.Write, sizeBytes, lo, hi, valueLo, valueHi, sums);
        kernel[At.Modifies]++;
        kernel[At.WriteBytes] += sizeBytes;
        kernel[At.ModifyLo] = endLo;
        kernel[At.ModifyHi] = endHi;
        continue;
      }
      let pieces = 1;
      if (head === HeadByte.Write8) sink.store64(lo, hi, valueLo, valueHi);
      else if (head === HeadByte.Write4) sink.store32(lo, hi, valueLo);
      else if (head === HeadByte.Write2) sink.store16(lo, hi, valueLo & 0xffff);
      else if (head === HeadByte.Write1) sink.store8(lo, hi, valueLo & 0xff);
      else pieces = replayPieces(sink, kind, sizeBytes, lo, hi, valueLo, valueHi, sums);
      kernel[At.Writes]++;
      kernel[At.SliceWritePieces] += pieces;
      kernel[At.WriteBytes] += sizeBytes;
      kernel[At.WriteLo] = endLo;
      kernel[At.WriteHi] = endHi;
      continue;
    }
    if (head === HeadByte.Fetch2 || head === HeadByte.Read2) {
      sumLo += sink.load16(lo, hi);
      readPieces++;
    } else if (head === HeadByte.Fetch4) {
      sumLo += sink.load16(lo, hi);
      sumLo += sink.load16((lo + 2) | 0, secondParcelHigh(lo, hi));
      readPieces += 2;
    } else if (head === HeadByte.Read8) {
      sumLo += sink.load64(lo, hi);
      sums[1] += sink.loadHigh;
      readPieces++;
    } else if (head === HeadByte.Read4) {
      sumLo += sink.load32(lo, hi);
      readPieces++;
    } else if (head === HeadByte.Read1) {
      sumLo += sink.load8(lo, hi);
      readPieces++;
    } else {
      // Fetches other than 2 or 4 bytes, reads of explicit sizes: seed pieces.
      readPieces = (readPieces + replayPieces(sink, kind, sizeBytes, lo, hi, 0, 0, sums)) | 0;
    }
    if (kind === RecordKind.Fetch) {
      fetchLo = endLo;
      fetchHi = endHi;
      fetches++;
    } else {
      readLo = endLo;
      readHi = endHi;
    }
  }
  kernel[At.Head] = headAt;
  kernel[At.RunLeft] = runLeft;
  kernel[At.Address] = addressAt;
  kernel[At.FetchLo] = fetchLo;
  kernel[At.FetchHi] = fetchHi;
  kernel[At.ReadLo] = readLo;
  kernel[At.ReadHi] = readHi;
  kernel[At.Fetches] += fetches;
  const writePieces = kernel[At.SliceWritePieces];
  kernel[At.Pieces] += readPieces + writePieces;
  // Reported once a slice (a slice whose replay throws midway reports nothing).
  tally.closeSlice(sink, readPieces, writePieces, sumLo);
}

/**
 * The rare path: an access of a size the seed format cannot hold, replayed as its seed
 * pieces (seed-pieces.ts); the loads' value halves are added to `sums`. Returns the pieces.
 */
function replayPieces(sink: MemoryAccess, kind: RecordKind, sizeBytes: number, lo: number, hi: number, valueLo: number, valueHi: number, sums: Float64Array): number {
  return forEachPiece(kind, sizeBytes, lo, hi, (width, pieceLo, pieceHi) => {
    if (kind === RecordKind.Write) {
      if (width === 8) sink.store64(pieceLo, pieceHi, valueLo, valueHi);
      else if (width === 4) sink.store32(pieceLo, pieceHi, valueLo);
      else if (width === 2) sink.store16(pieceLo, pieceHi, valueLo & 0xffff);
      else sink.store8(pieceLo, pieceHi, valueLo & 0xff);
    } else if (width === 8) {
      sums[0] += sink.load64(pieceLo, pieceHi);
      sums[1] += sink.loadHigh;
    } else if (width === 4) sums[0] += sink.load32(pieceLo, pieceHi);
    else if (width === 2) sums[0] += sink.load16(pieceLo, pieceHi);
    else sums[0] += sink.load8(pieceLo, pieceHi);
  });
}
