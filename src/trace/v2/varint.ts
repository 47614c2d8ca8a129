/**
 * Zigzag LEB128 varints of signed 64-bit deltas, kept as two 32-bit halves (no BigInt on the
 * hot path): small deltas either way take one byte, and a delta of any size at most ten.
 */

/** Bytes of the longest varint (64 bits, 7 a byte). */
export const MAX_VARINT_BYTES = 10;

/**
 * Writes the zigzag varint of the signed 64-bit value `(lo, hi)` (halves as int32 or u32) at
 * `bytes[at]`; returns the index after it. `bytes` needs MAX_VARINT_BYTES of room.
 */
export function putZigzag(bytes: Uint8Array, at: number, lo: number, hi: number): number {
  const sign = hi >> 31;
  let zlo = ((lo << 1) ^ sign) >>> 0;
  let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
  while (zhi !== 0 || zlo >= 0x80) {
    bytes[at++] = (zlo & 0x7f) | 0x80;
    zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
    zhi >>>= 7;
  }
  bytes[at++] = zlo;
  return at;
}

/** Writes `value` (0 to 2^32 - 1) as an unsigned LEB128 varint; returns the index after it. */
export function putUnsigned(bytes: Uint8Array, at: number, value: number): number {
  let rest = value >>> 0;
  while (rest >= 0x80) {
    bytes[at++] = (rest & 0x7f) | 0x80;
    rest >>>= 7;
  }
  bytes[at++] = rest;
  return at;
}

/**
 * Reads varints one at a time from a column; a varint longer than ten bytes or one that runs
 * past the column's end is reported by `next` returning -1 (the caller names the place).
 * The decoded value is left in `lo`/`hi` as a signed delta (zigzag undone) or, for
 * `nextUnsigned`, in `lo`.
 */
export class VarintCursor {
  /** Low half of the last value, as int32. */
  lo = 0;
  /** High half of the last value, as int32. */
  hi = 0;

  /** Reads the zigzag varint at `bytes[at]` (at < end); returns the index after it, or -1. */
  nextZigzag(bytes: Uint8Array, at: number, end: number): number {
    const first = bytes[at];
    if (first < 0x80) {
      const sign = -(first & 1);
      this.lo = (first >>> 1) ^ sign;
      this.hi = sign;
      return at + 1;
    }
    let zlo = first & 0x7f;
    let zhi = 0;
    let shift = 7;
    let next = at + 1;
    for (;;) {
      if (next >= end || shift >= 7 * MAX_VARINT_BYTES) return -1;
      const byte = bytes[next++];
      const bits = byte & 0x7f;
      if (shift < 32) {
        zlo |= bits << shift;
        if (shift > 25) zhi |= bits >>> (32 - shift);
      } else zhi |= bits << (shift - 32);
      shift += 7;
      if (byte < 0x80) break;
    }
    const sign = -(zlo & 1);
    this.lo = ((zlo >>> 1) | (zhi << 31)) ^ sign;
    this.hi = (zhi >>> 1) ^ sign;
    return next;
  }

  /** Reads an unsigned varint of at most 32 bits into `lo`; returns the index after it, or -1. */
  nextUnsigned(bytes: Uint8Array, at: number, end: number): number {
    let value = 0;
    let shift = 0;
    let next = at;
    for (;;) {
      if (next >= end || shift > 28) return -1;
      const byte = bytes[next++];
      value |= (byte & 0x7f) << shift;
      shift += 7;
      if (byte < 0x80) break;
    }
    this.lo = value;
    return next;
  }
}
