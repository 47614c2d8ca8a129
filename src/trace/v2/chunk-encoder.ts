import { crc32, deflateRawSync } from "node:zlib";
import { RecordKind, Head, MAX_ACCESS_BYTES, V2Codec, V2Flag, V2Layout } from "./layout.js";
import { MAX_VARINT_BYTES, putUnsigned, putZigzag } from "./varint.js";
import { seedBytesOf } from "./seed-pieces.js";

/** zlib level of chunk payloads: level 1 already takes what the columns leave, several times faster than 6. */
export const DEFAULT_DEFLATE_LEVEL = 1;
/** Deflate is kept only if it saves at least this share of the payload (decoding stored is free). */
const MIN_DEFLATE_SAVING = 1 / 16;

/** A head's size code for 1, 2, 4 or 8 bytes; -1 for a size kept in the sizes column. */
function sizeCodeOf(sizeBytes: number): number {
  return sizeBytes === 2 ? 1 : sizeBytes === 4 ? 2 : sizeBytes === 8 ? 3 : sizeBytes === 1 ? 0 : -1;
}

/**
 * Collects one chunk's records as columns and seals them into header + payload bytes.
 * Addresses are stored as the delta from where the previous access of the same kind ended,
 * so an instruction stream or a sequential sweep costs one byte a record before deflate.
 * Every chunk starts from zeroed predictions: chunks decode independently.
 */
export class ChunkEncoder {
  /** Records in the open chunk. */
  records = 0;
  /** The open chunk's size as seed-format records, in bytes. */
  seedBytes = 0;
  private readonly heads: Uint8Array;
  private headEnd = 0;
  /** Where the last head byte is, and the records after it that its run holds so far. */
  private lastHeadAt = -1;
  private runExtra = 0;
  private readonly runs: boolean;
  /** The open run is a parcel run (Head.ParcelRun): its fetches' bits, set for 4 bytes. */
  private parcelRun = false;
  private readonly parcelBits: Uint8Array;
  private readonly addresses: Uint8Array;
  private addressEnd = 0;
  private readonly sizes: Uint8Array;
  private sizeEnd = 0;
  private readonly values: Uint8Array;
  private readonly valueView: DataView;
  private valueEnd = 0;
  private readonly pcs: Uint8Array;
  private pcEnd = 0;
  /** Where the last access of each kind ended: (lo, hi) pairs by kind. */
  private readonly expected = new Int32Array(8);
  private lastPcLo = 0;
  private lastPcHi = 0;
  private readonly kindCounts = new Uint32Array(4);

  /** A chunk holds at most `maxRecords` records (the chunk's seed-byte limit over 10). */
  constructor(
    readonly maxRecords: number,
    readonly flags: number,
    private readonly deflateLevel: number = DEFAULT_DEFLATE_LEVEL,
  ) {
    // Runs never make the head column longer than a byte a record: 1 + n records take 1 + varint(n) bytes.
    this.heads = new Uint8Array(maxRecords);
    this.runs = (flags & V2Flag.Runs) !== 0;
    this.parcelBits = new Uint8Array(this.runs ? (maxRecords >>> 3) + 1 : 0);
    this.addresses = new Uint8Array(maxRecords * MAX_VARINT_BYTES);
    this.sizes = new Uint8Array(maxRecords * 2);
    this.values = new Uint8Array((flags & V2Flag.Values) !== 0 ? maxRecords * 8 : 0);
    this.valueView = new DataView(this.values.buffer);
    this.pcs = new Uint8Array((flags & V2Flag.Pc) !== 0 ? maxRecords * MAX_VARINT_BYTES : 0);
  }

  /**
   * Adds a record (the caller has checked kind and size, and that the chunk has room). A
   * write's value is stored when the file carries values (then its size is 1, 2, 4 or 8).
   */
  add(kind: RecordKind, sizeBytes: number, lo: number, hi: number, valueLo: number, valueHi: number, pcLo: number, pcHi: number): void {
    const index = this.records;
    const sizeCode = sizeCodeOf(sizeBytes);
    const head = kind | ((sizeCode < 0 ? Head.ExplicitSize : sizeCode) << Head.SizeShift);
    const slot = kind * 2;
    const expectedLo = this.expected[slot];
    const expectedHi = this.expected[slot + 1];
    // The delta as 64-bit two's complement: (lo, hi) - expected.
    const deltaLo = (lo - expectedLo) | 0;
    const borrow = (lo >>> 0) < (expectedLo >>> 0) ? 1 : 0;
    const deltaHi = (hi - expectedHi - borrow) | 0;
    const continues = this.runs && deltaLo === 0 && deltaHi === 0 && this.lastHeadAt >= 0;
    const lastHead = continues ? this.heads[this.lastHeadAt] : -1;
    if (continues && (head === Head.Fetch2 || head === Head.Fetch4) && (this.parcelRun || lastHead === Head.Fetch2 || lastHead === Head.Fetch4)) {
      // The next instruction, of 2 or 4 bytes: one more fetch of a parcel run.
      if (!this.parcelRun) this.openParcelRun(lastHead);
      this.addParcel(head === Head.Fetch4 ? 1 : 0);
    } else if (continues && sizeCode >= 0 && lastHead === head) {
      // The same head again, starting where the last record ended: one more record of its run.
      this.runExtra++;
    } else {
      this.closeRun();
      this.lastHeadAt = this.headEnd;
      this.heads[this.headEnd++] = head;
      if (sizeCode < 0) this.sizeEnd = putUnsigned(this.sizes, this.sizeEnd, sizeBytes);
      this.addressEnd = putZigzag(this.addresses, this.addressEnd, deltaLo, deltaHi);
    }
    this.expectAfter(slot, lo, hi, sizeBytes);
    if ((kind === RecordKind.Write || kind === RecordKind.Modify) && this.values.length !== 0) this.putValue(sizeBytes, valueLo, valueHi);
    if (this.pcs.length !== 0) {
      const pcDeltaLo = (pcLo - this.lastPcLo) | 0;
      const pcBorrow = (pcLo >>> 0) < (this.lastPcLo >>> 0) ? 1 : 0;
      this.pcEnd = putZigzag(this.pcs, this.pcEnd, pcDeltaLo, (pcHi - this.lastPcHi - pcBorrow) | 0);
      this.lastPcLo = pcLo | 0;
      this.lastPcHi = pcHi | 0;
    }
    this.kindCounts[kind]++;
    this.seedBytes += seedBytesOf(kind, sizeBytes);
    this.records = index + 1;
  }

  /** Whether `addFetchRun` may take runs of fetches: runs are kept and there is no pc column. */
  get takesFetchRuns(): boolean {
    return this.runs && this.pcs.length === 0;
  }

  /**
   * Adds the fetches of `count` (2 to 31) instructions laid end to end from (lo, hi),
   * instruction k 4 bytes if bit k of `wideMask` is set, else 2, not reaching the top of the
   * 64-bit space: the same bytes as `count` calls of `add`, in one call (the caller has checked
   * `takesFetchRuns` and the chunk's room for them all, `seedBytes` as seed records).
   */
  addFetchRun(lo: number, hi: number, count: number, wideMask: number, seedBytes: number): void {
    const firstBytes = 2 + 2 * (wideMask & 1);
    this.add(RecordKind.Fetch, firstBytes, lo, hi, 0, 0, 0, 0);
    // The first fetch left a fetch head or a parcel run open (add's own rules), so each of the
    // others, starting where the one before ended, is one more fetch of a parcel run.
    if (!this.parcelRun) this.openParcelRun(this.heads[this.lastHeadAt]);
    let runBytes = firstBytes;
    for (let k = 1; k < count; k++) {
      const wide = (wideMask >>> k) & 1;
      this.addParcel(wide);
      runBytes += 2 + 2 * wide;
    }
    this.expectAfter(RecordKind.Fetch * 2, lo, hi, runBytes);
    this.kindCounts[RecordKind.Fetch] += count - 1;
    this.seedBytes += seedBytes - seedBytesOf(RecordKind.Fetch, firstBytes);
    this.records += count - 1;
  }

  /** The fetch head `lastHead` (2 or 4 bytes) becomes the first fetch of a parcel run. */
  private openParcelRun(lastHead: number): void {
    this.parcelRun = true;
    this.parcelBits[0] = lastHead === Head.Fetch4 ? 1 : 0;
  }

  /** One more fetch of the open parcel run: its bit, 1 (`wide`) for 4 bytes. */
  private addParcel(wide: number): void {
    const bit = ++this.runExtra;
    if ((bit & 7) === 0) this.parcelBits[bit >>> 3] = 0;
    if (wide !== 0) this.parcelBits[bit >>> 3] |= 1 << (bit & 7);
  }

  /** The next access of kind slot `slot` is expected where `sizeBytes` from (lo, hi) ends. */
  private expectAfter(slot: number, lo: number, hi: number, sizeBytes: number): void {
    const endLo = (lo >>> 0) + sizeBytes;
    this.expected[slot] = endLo | 0;
    this.expected[slot + 1] = endLo > 0xffffffff ? (hi + 1) | 0 : hi | 0;
  }

  /** Ends the open run, if the last head has one: its run bit, then its length after it. */
  private closeRun(): void {
    const extra = this.runExtra;
    if (extra === 0) return;
    this.runExtra = 0;
    if (this.parcelRun) {
      this.parcelRun = false;
      const bits = this.parcelBits;
      if (extra > 1) {
        this.heads[this.lastHeadAt] = Head.ParcelRun;
        this.headEnd = putUnsigned(this.heads, this.headEnd, extra);
        // A few bytes: copied by hand, as a subarray a run cost an allocation a run.
        const bitBytes = (extra + 8) >>> 3;
        const heads = this.heads;
        let at = this.headEnd;
        for (let i = 0; i < bitBytes; i++) heads[at++] = bits[i];
        this.headEnd = at;
        return;
      }
      // Two fetches: bits would take a third byte. Of one size, a run of two; else two heads.
      if ((bits[0] & 1) !== ((bits[0] >>> 1) & 1)) {
        this.heads[this.headEnd++] = (bits[0] & 2) !== 0 ? Head.Fetch4 : Head.Fetch2;
        this.addressEnd = putZigzag(this.addresses, this.addressEnd, 0, 0);
        return;
      }
    }
    this.heads[this.lastHeadAt] |= Head.Run;
    this.headEnd = putUnsigned(this.heads, this.headEnd, extra);
  }

  private putValue(sizeBytes: number, valueLo: number, valueHi: number): void {
    const at = this.valueEnd;
    if (sizeBytes === 8) {
      this.valueView.setInt32(at, valueLo, true);
      this.valueView.setInt32(at + 4, valueHi, true);
    } else if (sizeBytes === 4) this.valueView.setInt32(at, valueLo, true);
    else if (sizeBytes === 2) this.valueView.setUint16(at, valueLo & 0xffff, true);
    else this.values[at] = valueLo & 0xff;
    this.valueEnd = at + sizeBytes;
  }

  /** Seals the open chunk: returns its header and payload as one array, and starts a new chunk. */
  seal(): Uint8Array {
    this.closeRun();
    const raw = new Uint8Array(this.headEnd + this.addressEnd + this.sizeEnd + this.valueEnd + this.pcEnd);
    let at = 0;
    for (const [column, length] of [
      [this.heads, this.headEnd],
      [this.addresses, this.addressEnd],
      [this.sizes, this.sizeEnd],
      [this.values, this.valueEnd],
      [this.pcs, this.pcEnd],
    ] as const) {
      raw.set(column.subarray(0, length), at);
      at += length;
    }
    let codec = V2Codec.Stored;
    let payload = raw;
    if (this.deflateLevel > 0 && raw.length > 0) {
      const deflated = deflateRawSync(raw, { level: this.deflateLevel });
      if (deflated.length <= raw.length * (1 - MIN_DEFLATE_SAVING)) {
        codec = V2Codec.Deflate;
        payload = deflated;
      }
    }
    const chunk = new Uint8Array(V2Layout.ChunkHeaderBytes + payload.length);
    const view = new DataView(chunk.buffer);
    view.setUint32(0, V2Layout.ChunkMagic, true);
    view.setUint32(V2Layout.ChunkRecordsAt, this.records, true);
    view.setUint32(V2Layout.ChunkStoredBytesAt, payload.length, true);
    view.setUint32(V2Layout.ChunkRawBytesAt, raw.length, true);
    view.setUint32(V2Layout.ChunkCodecAt, codec, true);
    view.setUint32(V2Layout.ChunkAddressBytesAt, this.addressEnd, true);
    view.setUint32(V2Layout.ChunkSizeBytesAt, this.sizeEnd, true);
    view.setUint32(V2Layout.ChunkValueBytesAt, this.valueEnd, true);
    view.setUint32(V2Layout.ChunkPcBytesAt, this.pcEnd, true);
    view.setUint32(V2Layout.ChunkFetchesAt, this.kindCounts[RecordKind.Fetch], true);
    view.setUint32(V2Layout.ChunkReadsAt, this.kindCounts[RecordKind.Read], true);
    view.setUint32(V2Layout.ChunkWritesAt, this.kindCounts[RecordKind.Write], true);
    view.setUint32(V2Layout.ChunkModifiesAt, this.kindCounts[RecordKind.Modify], true);
    view.setUint32(V2Layout.ChunkSeedBytesAt, this.seedBytes, true);
    chunk.set(payload, V2Layout.ChunkHeaderBytes);
    view.setUint32(V2Layout.ChunkPayloadCrcAt, crc32(payload), true);
    view.setUint32(V2Layout.ChunkHeaderCrcAt, crc32(chunk.subarray(0, V2Layout.ChunkHeaderCrcAt)), true);
    this.reset();
    return chunk;
  }

  private reset(): void {
    this.records = 0;
    this.seedBytes = 0;
    this.headEnd = 0;
    this.lastHeadAt = -1;
    this.runExtra = 0;
    this.parcelRun = false;
    this.addressEnd = 0;
    this.sizeEnd = 0;
    this.valueEnd = 0;
    this.pcEnd = 0;
    this.expected.fill(0);
    this.lastPcLo = 0;
    this.lastPcHi = 0;
    this.kindCounts.fill(0);
  }
}

/** Whether `sizeBytes` is a size a v2 record can have. */
export function isValidAccessSize(sizeBytes: number): boolean {
  return Number.isInteger(sizeBytes) && sizeBytes >= 1 && sizeBytes <= MAX_ACCESS_BYTES;
}
