/**
 * Address forms used across memspace.
 *
 * - API edge: `bigint` (0 .. 2^64-1) or a non-negative safe-integer `number`.
 * - Hot path: two u32 halves `(lo, hi)`, never allocated.
 * - Page form: `pageNumber` (below 2^52, exact in a double) plus a 12-bit `offset`.
 */

/** Base-2 logarithm of the page size: pages are 2^12 bytes. */
export const PAGE_SHIFT = 12;
/** Bytes per page: 4 KiB. */
export const PAGE_SIZE_BYTES = 1 << PAGE_SHIFT;
/** Mask of the byte offset inside a page (the low PAGE_SHIFT bits of an address). */
export const PAGE_OFFSET_MASK = PAGE_SIZE_BYTES - 1;
/** 2^32, the weight of the high u32 half of an address or page number. */
export const TWO_POW_32 = 2 ** 32;
/** Page numbers per 2^32-byte half: the low half of an address carries 20 page bits. */
export const PAGES_PER_HIGH_UNIT = 2 ** 20;
/** The highest byte address of the space, 2^64 - 1, as a bigint. */
export const MAX_ADDRESS = (1n << 64n) - 1n;

/** A byte address at the API edge: a bigint in [0, 2^64 - 1] or a non-negative safe-integer number. */
export type Address = bigint | number;

/**
 * An address, length or range outside the 64-bit space, or otherwise malformed (not page-aligned, size not
 * positive).
 */
export class AddressError extends RangeError {
  /** An AddressError with `message`. */
  constructor(message: string) {
    super(message);
    this.name = "AddressError";
  }
}

/** `0x` and 16 hex digits of the address given as halves. */
export function formatAddress(lo: number, hi: number): string {
  return "0x" + (hi >>> 0).toString(16).padStart(8, "0") + (lo >>> 0).toString(16).padStart(8, "0");
}

/** `0x` and 16 hex digits of a bigint address. */
export function formatBigAddress(address: bigint): string {
  return "0x" + address.toString(16).padStart(16, "0");
}

/** Validates an API address and returns it as a bigint. */
export function toBigAddress(address: Address): bigint {
  if (typeof address === "bigint") {
    if (address < 0n || address > MAX_ADDRESS) {
      throw new AddressError(`address ${address} is outside the 64-bit space`);
    }
    return address;
  }
  if (!Number.isSafeInteger(address) || address < 0) {
    throw new AddressError(`address ${address} is not a non-negative safe integer (use a bigint above 2^53)`);
  }
  return BigInt(address);
}

/** Checks that `length` bytes starting at `address` stay inside the space; returns the start. */
export function checkRange(address: Address, lengthBytes: number | bigint): bigint {
  const start = toBigAddress(address);
  const length = BigInt(lengthBytes);
  if (length < 0n) throw new AddressError(`negative length ${lengthBytes}`);
  if (start + length - 1n > MAX_ADDRESS && length > 0n) {
    throw new AddressError(
      `range of ${length} bytes at ${formatBigAddress(start)} runs past the top of the 64-bit space`,
    );
  }
  return start;
}

/** The low 32 bits of an address, as a u32 number. */
export function lowHalf(address: bigint): number {
  return Number(address & 0xffffffffn);
}

/** The high 32 bits of an address, as a u32 number. */
export function highHalf(address: bigint): number {
  return Number(address >> 32n);
}

/** The page number of a bigint address: the address divided by the page size, below 2^52. */
export function pageNumberOf(address: bigint): number {
  return Number(address >> BigInt(PAGE_SHIFT));
}

/** Page number (below 2^52) of the address `(lo, hi)`. */
export function pageNumberOfHalves(lo: number, hi: number): number {
  return (hi >>> 0) * PAGES_PER_HIGH_UNIT + (lo >>> PAGE_SHIFT);
}

/** True if a `widthBytes` access at `(lo, hi)` (u32 or int32 halves) ends above 2^64 - 1. */
export function accessRunsPastTop(lo: number, hi: number, widthBytes: number): boolean {
  return hi >>> 0 === 0xffffffff && (lo >>> 0) > TWO_POW_32 - widthBytes;
}

/** The problem with an access that `accessRunsPastTop`, in words. */
export function pastTopProblem(lo: number, hi: number, widthBytes: number): string {
  return `${widthBytes}-byte access at ${formatAddress(lo, hi)} runs past the top of the 64-bit space`;
}

/** Throws unless a `widthBytes` access at `(lo, hi)` ends at or below 2^64 - 1. */
export function checkAccessEnd(lo: number, hi: number, widthBytes: number): void {
  if (accessRunsPastTop(lo, hi, widthBytes)) throw new AddressError(pastTopProblem(lo, hi, widthBytes));
}
