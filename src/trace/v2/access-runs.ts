/**
 * Access runs: a chunk decoded for replay, as the seed pieces it replays as, with runs of
 * loads folded. A decode worker builds them from the raw payload; the replaying thread then
 * only walks the runs and calls the sink (replay-runs.ts), which costs it less per access
 * than reading a seed file does: no trace bytes to parse for the loads inside a run (the
 * next instruction parcel, a sweep of an array).
 *
 * Words (int32), entry by entry:
 *   load run    op | count << 8, lo, hi          count loads of the op's width from (lo, hi) up
 *   store       op, lo, hi, valueLo              (a 1-, 2- or 4-byte store)
 *   store64     op, lo, hi, valueLo, valueHi
 * A run never carries past a 2^32 line of the low half, so the kernel steps `lo` alone.
 */
import { checkChunkEnd, columnBounds, cursor, badRecord, Fault, nextAddressDelta, nextRunLength, parcelHead, type ChunkInfo } from "./chunk-decoder.js";
import { Head, RecordKind, V2Flag } from "./layout.js";
import { TraceFormat } from "../format.js";
import { TWO_POW_32 } from "../../space/address.js";

/** An entry's op, in its first word's low byte: bit 2 a store, bits 0-1 the width code (1, 2, 4, 8 bytes). */
export const enum RunOp {
  Load8 = 0,
  Load16 = 1,
  Load32 = 2,
  Load64 = 3,
  Store8 = 4,
  Store16 = 5,
  Store32 = 6,
  Store64 = 7,
  StoreBit = 4,
  CountShift = 8,
}

/**
 * Limits of the builder, as a const enum so they compile to literals: module constants are
 * loaded from the module's context, with a hole check, on every use in a loop.
 */
const enum Limit {
  /**
   * Loads one run holds at most: with the kernel's slices of entries (replay-runs.ts), the
   * sums of a slice's loaded values stay below 2^53, exact in a double.
   */
  RunLoads = 255,
  /**
   * A scan stops where a run would end within 8 bytes (the widest step) of the 2^32 line:
   * `(end >>> 0) > 2^32 - 9`, compared as int32 with the sign bit flipped.
   */
  ScanLastEndFlipped = 0x7ffffff7,
  /** Head bytes of fetches of one and of two 2-byte parcels: the size code is the parcel count. */
  FetchOneParcel = RecordKind.Fetch | (1 << Head.SizeShift),
  FetchTwoParcels = RecordKind.Fetch | (2 << Head.SizeShift),
}

/**
 * The most words a chunk of `records` records can take: a store of 8 bytes is 5; an 8-byte
 * fetch is four parcels, at most two runs (6 words) when it straddles a 2^32 line.
 */
export function maxRunWords(records: number): number {
  return records * 6;
}

/** What the builder carries from one slice to the next, as int32 words of `state`. */
const enum At {
  Head,
  /** The records still to come of the open run of the head column (Head.Run), and its head; a parcel run's bits (-1: none) and the next one. */
  RepeatLeft,
  RepeatHead,
  ParcelAt,
  ParcelBit,
  Address,
  Value,
  FetchLo,
  FetchHi,
  ReadLo,
  ReadHi,
  WriteLo,
  WriteHi,
  Fetches,
  Writes,
  Loads,
  WriteBytes,
  /** The next free word. */
  Word,
  /** The open load run, which a load that continues it extends: op (-1: none), first word, end, high half, loads. */
  RunOp,
  RunWord,
  RunEndLo,
  RunHi,
  RunCount,
  Words,
}

const state = new Int32Array(At.Words);


/**
 * Records one call of the slice loop takes at most: short calls run TurboFan's regular code,
 * where one call a chunk ran on-stack-replaced code (docs/design/replay-and-paged-backend.md).
 */
const SLICE_RECORDS = 4096;

/**
 * Builds the access runs of a chunk's raw payload into `words` (room for maxRunWords of its
 * records); returns the words used, or -1 when the chunk has records this form leaves to the
 * payload kernel (replay-payload.ts): modifies, explicit sizes, writes without values, pcs.
 * A malformed chunk is the same ChunkProblem the payload kernel raises.
 */
export function buildAccessRuns(raw: Uint8Array, info: ChunkInfo, flags: number, words: Int32Array): number {
  if ((flags & V2Flag.Values) === 0 || (flags & V2Flag.Pc) !== 0 || info.modifies !== 0) return -1;
  const bounds = columnBounds(info);
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  state.fill(0);
  state[At.ParcelAt] = -1;
  state[At.Address] = bounds.addressAt;
  state[At.Value] = bounds.valueAt;
  state[At.RunOp] = -1;
  for (let start = 0; start < info.records; start += SLICE_RECORDS) {
    const end = Math.min(info.records, start + SLICE_RECORDS);
    if (!buildSlice(raw, view, words, state, start, end, info.records, flags, bounds.headEnd, bounds.addressEnd, bounds.valueEnd)) return -1;
  }
  const used = { headAt: state[At.Head], headEnd: bounds.headEnd, addressAt: state[At.Address], addressEnd: bounds.addressEnd, sizeAt: bounds.sizeEnd, sizeEnd: bounds.sizeEnd, valueAt: state[At.Value], valueEnd: bounds.valueEnd, pcAt: bounds.pcEnd, pcEnd: bounds.pcEnd };
  const seedBytes = (state[At.Loads] + state[At.Writes]) * TraceFormat.HeaderBytes + state[At.WriteBytes];
  checkChunkEnd(info, bounds, used, state[At.Fetches], state[At.Writes], 0, seedBytes);
  return state[At.Word];
}

/** Records [start, end) of a chunk into `words`; false at a record this form leaves to the payload kernel. */
function buildSlice(raw: Uint8Array, view: DataView, words: Int32Array, build: Int32Array, start: number, end: number, records: number, flags: number, headEndAt: number, addressEndAt: number, valueEndAt: number): boolean {
  const headEnd = headEndAt | 0;
  const addressEnd = addressEndAt | 0;
  const valueEnd = valueEndAt | 0;
  const endIndex = end | 0;
  let headAt = build[At.Head];
  let repeatLeft = build[At.RepeatLeft];
  let addressAt = build[At.Address];
  let fetchLo = build[At.FetchLo];
  let fetchHi = build[At.FetchHi];
  let readLo = build[At.ReadLo];
  let readHi = build[At.ReadHi];
  let fetches = 0;
  let loads = 0;
  // The open load run and the next free word, in locals: every record touches them.
  let word = build[At.Word];
  let runOp = build[At.RunOp];
  let runWord = build[At.RunWord];
  let runEndLo = build[At.RunEndLo];
  let runHi = build[At.RunHi];
  let runCount = build[At.RunCount];
  for (let index = start | 0; index < endIndex; index = (index + 1) | 0) {
    let head: number;
    const inRepeat = repeatLeft > 0;
    if (inRepeat) {
      const parcelAt = build[At.ParcelAt];
      head = parcelAt < 0 ? build[At.RepeatHead] : parcelHead(raw, parcelAt, build[At.ParcelBit]++);
      repeatLeft = (repeatLeft - 1) | 0;
    } else {
      if (headAt >= headEnd) throw badRecord(index, Fault.HeadEnd);
      head = raw[headAt];
      headAt = (headAt + 1) | 0;
      if (head > Head.Known) {
        headAt = nextRunLength(raw, headAt, headEnd, head, index, records, flags) | 0;
        repeatLeft = cursor.lo | 0;
        const parcelAt = cursor.hi | 0;
        build[At.ParcelAt] = parcelAt;
        build[At.ParcelBit] = 1;
        head = parcelAt < 0 ? head & Head.Known : parcelHead(raw, parcelAt, 0);
        build[At.RepeatHead] = head;
      }
    }
    const sizeCode = head >>> Head.SizeShift;
    if (sizeCode === Head.ExplicitSize) return false;
    const kind = head & Head.KindMask;
    const sizeBytes = 1 << sizeCode;
    let deltaLo: number;
    let deltaHi: number;
    const first = addressAt < addressEnd ? raw[addressAt] : 0x80;
    if (inRepeat) {
      // A run's record after its first: a delta of 0, nothing stored.
      deltaLo = 0;
      deltaHi = 0;
    } else if (first < 0x80) {
      deltaHi = 0 - (first & 1);
      deltaLo = (first >>> 1) ^ deltaHi;
      addressAt = (addressAt + 1) | 0;
    } else {
      addressAt = nextAddressDelta(raw, addressAt, addressEnd, index) | 0;
      deltaLo = cursor.lo | 0;
      deltaHi = cursor.hi | 0;
    }
    const expectedLo = kind === RecordKind.Fetch ? fetchLo : kind === RecordKind.Read ? readLo : build[At.WriteLo];
    const expectedHi = kind === RecordKind.Fetch ? fetchHi : kind === RecordKind.Read ? readHi : build[At.WriteHi];
    const lo = (expectedLo + deltaLo) | 0;
    const hi = (expectedHi + deltaHi + ((lo >>> 0) < (expectedLo >>> 0) ? 1 : 0)) | 0;
    if (hi === -1 && (lo >>> 0) > TWO_POW_32 - sizeBytes) throw badRecord(index, Fault.PastTop);
    const endLo = (lo + sizeBytes) | 0;
    const endHi = (endLo >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi;
    if (kind === RecordKind.Write) {
      const valueAt = build[At.Value];
      if (valueAt + sizeBytes > valueEnd) throw badRecord(index, Fault.Value);
      words[word] = RunOp.StoreBit | sizeCode;
      words[word + 1] = lo;
      words[word + 2] = hi;
      if (sizeBytes === 8) {
        words[word + 3] = view.getInt32(valueAt, true);
        words[word + 4] = view.getInt32(valueAt + 4, true);
        word = (word + 5) | 0;
      } else {
        words[word + 3] = sizeBytes === 4 ? view.getInt32(valueAt, true) : sizeBytes === 2 ? view.getUint16(valueAt, true) : raw[valueAt];
        word = (word + 4) | 0;
      }
      build[At.Value] = valueAt + sizeBytes;
      // Loads after a store start a new run: a run replays before the store.
      if (runOp >= 0) words[runWord] = runOp | (runCount << RunOp.CountShift);
      runOp = -1;
      build[At.WriteBytes] += sizeBytes;
      build[At.Writes]++;
      build[At.WriteLo] = endLo;
      build[At.WriteHi] = endHi;
      continue;
    }
    // The load's pieces: a fetch as 2-byte parcels (a 1-byte fetch is one 1-byte load).
    const op = kind === RecordKind.Read ? sizeCode : sizeBytes === 1 ? RunOp.Load8 : RunOp.Load16;
    const widthBytes = 1 << op;
    const pieces = sizeBytes >>> op;
    for (let piece = 0; piece < pieces; piece++) {
      const pieceLo = (lo + piece * widthBytes) | 0;
      const pieceHi = (pieceLo >>> 0) < (lo >>> 0) ? (hi + 1) | 0 : hi;
      if (runOp === op && runEndLo === pieceLo && runHi === pieceHi && runCount < Limit.RunLoads) {
        runCount = (runCount + 1) | 0;
      } else {
        if (runOp >= 0) words[runWord] = runOp | (runCount << RunOp.CountShift);
        runOp = op;
        runWord = word;
        runHi = pieceHi;
        runCount = 1;
        words[word + 1] = pieceLo;
        words[word + 2] = pieceHi;
        word = (word + 3) | 0;
      }
      runEndLo = (pieceLo + widthBytes) | 0;
      // A run stops at a 2^32 line, or past it when this piece straddles it: the kernel
      // steps the low half alone.
      if ((runEndLo >>> 0) < (pieceLo >>> 0)) {
        words[runWord] = runOp | (runCount << RunOp.CountShift);
        runOp = -1;
      }
    }
    loads = (loads + pieces) | 0;
    if (kind === RecordKind.Fetch) {
      fetches++;
      fetchLo = endLo;
      fetchHi = endHi;
    } else {
      readLo = endLo;
      readHi = endHi;
    }
    if (runOp < 0) continue;
    let next = (index + 1) | 0;
    if (repeatLeft > 0 && build[At.ParcelAt] >= 0) {
      // The rest of a parcel run: one or two 2-byte loads a fetch, by its bit, as far as the
      // slice, the load run's cap and the 2^32 line (8 bytes clear) allow.
      const parcelAt = build[At.ParcelAt];
      let bit = build[At.ParcelBit];
      while (repeatLeft > 0 && next < endIndex) {
        const parcels = ((raw[parcelAt + (bit >>> 3)] >>> (bit & 7)) & 1) + 1;
        if (runCount + parcels > Limit.RunLoads || (runEndLo ^ 0x80000000) > Limit.ScanLastEndFlipped) break;
        runCount = (runCount + parcels) | 0;
        loads = (loads + parcels) | 0;
        runEndLo = (runEndLo + 2 * parcels) | 0;
        fetches = (fetches + 1) | 0;
        bit = (bit + 1) | 0;
        repeatLeft = (repeatLeft - 1) | 0;
        next = (next + 1) | 0;
      }
      build[At.ParcelBit] = bit;
      fetchLo = runEndLo;
      index = (next - 1) | 0;
      continue;
    }
    if (repeatLeft > 0) {
      // The rest of the head column's run continues the load run just extended, as far as
      // the slice, the load run's cap and the 2^32 line (8 bytes clear) allow.
      const byCap = ((Limit.RunLoads - runCount) / pieces) | 0;
      const byLine = Math.floor((TWO_POW_32 - 8 - (runEndLo >>> 0)) / sizeBytes);
      const take = Math.max(0, Math.min(repeatLeft, endIndex - next, byCap, byLine)) | 0;
      repeatLeft = (repeatLeft - take) | 0;
      runCount = (runCount + take * pieces) | 0;
      loads = (loads + take * pieces) | 0;
      runEndLo = (runEndLo + take * sizeBytes) | 0;
      if (kind === RecordKind.Fetch) {
        fetches = (fetches + take) | 0;
        fetchLo = runEndLo;
      } else readLo = runEndLo;
      index = (index + take) | 0;
      continue;
    }
    // The same kind again with a delta of 0 continues the run just extended (the next
    // parcel, the next element): taken here in a tight loop, the bulk of a guest's records.
    if (kind === RecordKind.Fetch && op === RunOp.Load16) {
      // Fetches of one and two parcels (compressed and full instructions) mix in one run.
      while (next < endIndex && headAt < headEnd && addressAt < addressEnd && raw[addressAt] === 0 && (runEndLo ^ 0x80000000) <= Limit.ScanLastEndFlipped) {
        const nextHead = raw[headAt];
        if (nextHead !== Limit.FetchOneParcel && nextHead !== Limit.FetchTwoParcels) break;
        const parcels = nextHead >>> Head.SizeShift;
        if (runCount + parcels > Limit.RunLoads) break;
        runCount = (runCount + parcels) | 0;
        loads = (loads + parcels) | 0;
        runEndLo = (runEndLo + 2 * parcels) | 0;
        addressAt = (addressAt + 1) | 0;
        headAt = (headAt + 1) | 0;
        next = (next + 1) | 0;
      }
      fetches = (fetches + next - index - 1) | 0;
      fetchLo = runEndLo;
    } else if (kind === RecordKind.Read) {
      // Four records a step while heads repeat and deltas are 0, then one a step; the run's
      // end stays 8 bytes a step clear of the 2^32 line (the kernel steps the low half alone).
      const heads4 = Math.imul(head, 0x01010101);
      while (next + 4 <= endIndex && headAt + 4 <= headEnd && addressAt + 4 <= addressEnd && view.getInt32(headAt, true) === heads4 && view.getInt32(addressAt, true) === 0 && runCount <= Limit.RunLoads - 4 && (runEndLo ^ 0x80000000) <= Limit.ScanLastEndFlipped - 32) {
        runCount = (runCount + 4) | 0;
        runEndLo = (runEndLo + 4 * sizeBytes) | 0;
        addressAt = (addressAt + 4) | 0;
        headAt = (headAt + 4) | 0;
        next = (next + 4) | 0;
      }
      while (next < endIndex && headAt < headEnd && raw[headAt] === head && addressAt < addressEnd && raw[addressAt] === 0 && runCount < Limit.RunLoads && (runEndLo ^ 0x80000000) <= Limit.ScanLastEndFlipped) {
        runCount = (runCount + 1) | 0;
        runEndLo = (runEndLo + sizeBytes) | 0;
        addressAt = (addressAt + 1) | 0;
        headAt = (headAt + 1) | 0;
        next = (next + 1) | 0;
      }
      loads = (loads + next - index - 1) | 0;
      readLo = runEndLo;
    }
    index = (next - 1) | 0;
  }
  if (runOp >= 0) words[runWord] = runOp | (runCount << RunOp.CountShift);
  build[At.Head] = headAt;
  build[At.RepeatLeft] = repeatLeft;
  build[At.Address] = addressAt;
  build[At.FetchLo] = fetchLo;
  build[At.FetchHi] = fetchHi;
  build[At.ReadLo] = readLo;
  build[At.ReadHi] = readHi;
  build[At.Fetches] += fetches;
  build[At.Loads] += loads;
  build[At.Word] = word;
  build[At.RunOp] = runOp;
  build[At.RunWord] = runWord;
  build[At.RunEndLo] = runEndLo;
  build[At.RunHi] = runHi;
  build[At.RunCount] = runCount;
  return true;
}
