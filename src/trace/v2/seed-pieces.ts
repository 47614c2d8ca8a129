/**
 * How a record of any kind and size becomes seed-format records, the one rule every
 * conversion follows (v2 -> seed, lackey -> seed, replay of a v2 trace): a fetch becomes
 * 2-byte reads, the instruction parcels that memspace's own recorder writes (so a recorded
 * v2 trace converts to exactly the seed trace the same run records); a read or write
 * becomes the widest pieces of 8, 4, 2 and 1 bytes, in address order; a modify, the read's
 * pieces and then the write's. A write or modify with no value (a lackey log has none) gets
 * one derived from its record index.
 */
import { TraceFormat } from "../format.js";
import { RecordKind } from "./layout.js";

/** Width of the next seed piece of an access of `kind` with `leftBytes` still to cover. */
export function pieceWidth(kind: RecordKind, leftBytes: number): number {
  if (kind === RecordKind.Fetch) return leftBytes >= 2 ? 2 : 1;
  return leftBytes >= 8 ? 8 : leftBytes >= 4 ? 4 : leftBytes >= 2 ? 2 : 1;
}

/**
 * Calls `visit` with each seed piece of an access of `kind` and `sizeBytes` at (lo, hi), in
 * address order: its width and address halves (the low half as u32). Returns the pieces. For
 * the rare sizes the seed format cannot hold in one record; a closure per call is fine there.
 */
export function forEachPiece(kind: RecordKind, sizeBytes: number, lo: number, hi: number, visit: (widthBytes: number, pieceLo: number, pieceHi: number) => void): number {
  let pieces = 0;
  let pieceLo = lo >>> 0;
  let pieceHi = hi | 0;
  for (let left = sizeBytes; left > 0; pieces++) {
    const width = pieceWidth(kind, left);
    visit(width, pieceLo, pieceHi);
    left -= width;
    pieceLo += width;
    if (pieceLo > 0xffffffff) {
      pieceLo -= 0x100000000;
      pieceHi = (pieceHi + 1) | 0;
    }
  }
  return pieces;
}

/** Bytes of the seed records a record of `kind` and `sizeBytes` becomes. */
export function seedBytesOf(kind: RecordKind, sizeBytes: number): number {
  if (kind === RecordKind.Fetch) return ((sizeBytes + 1) >>> 1) * TraceFormat.HeaderBytes;
  if (kind === RecordKind.Modify) return seedBytesOf(RecordKind.Read, sizeBytes) + seedBytesOf(RecordKind.Write, sizeBytes);
  if (sizeBytes === 1 || sizeBytes === 2 || sizeBytes === 4 || sizeBytes === 8) {
    return TraceFormat.HeaderBytes + (kind === RecordKind.Write ? sizeBytes : 0);
  }
  let pieces = 0;
  for (let left = sizeBytes; left > 0; left -= pieceWidth(kind, left)) pieces++;
  return pieces * TraceFormat.HeaderBytes + (kind === RecordKind.Write ? sizeBytes : 0);
}

/** Low half of the value given to a write that has none: a hash of its record index. */
export function derivedValueLo(recordIndex: number): number {
  return Math.imul(recordIndex, 0x9e3779b1) >>> 0;
}

/** High half of the derived value: the record index's high half. */
export function derivedValueHi(recordIndex: number): number {
  return Math.floor(recordIndex / 0x100000000) >>> 0;
}
