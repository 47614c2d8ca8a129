import type { AddressSpace } from "../../space/address-space.js";
import { MemoryFault } from "../../space/protection.js";
import type { Hart } from "../hart.js";
import { PAGE_SIZE_BYTES } from "../../space/address.js";
import { pageAlignDown } from "../loader.js";
import { EFAULT, ENAMETOOLONG } from "./errno.js";

/** Returned by a system call's implementation when the run must stop there (exit, or time is up). */
export const STOP = null;
/** A system call's result for a0 (a negated errno on failure), or STOP. */
export type SyscallResult = bigint | typeof STOP;

const ADDRESS_LIMIT = 1n << 64n;
/**
 * Guest data moves through the host in pieces of at most this size: no host allocation grows
 * with a guest-supplied length, and the run's deadline is checked between pieces.
 */
export const TRANSFER_CHUNK_BYTES = 1 << 16;
/** Linux's PATH_MAX: the longest path a system call takes, with its terminating NUL. */
const PATH_MAX_BYTES = 4096;

/**
 * The guest's memory as system calls see it. A guest buffer must lie below 2^64 and in the
 * guest's mappings (`AddressSpace.isMapped`, which tracks the loader's segments, the stack,
 * brk and mmaps in flat and strict spaces alike), or the call returns -EFAULT. Protections
 * are checked only in a strict space (a flat one ignores them everywhere): there, a denied
 * copy also ends in -EFAULT.
 */
export class GuestMemory {
  constructor(readonly space: AddressSpace) {}

  /**
   * Whether [address, address + lengthBytes) lies in the guest's mappings and below 2^64.
   * An empty range is always valid: Linux touches no memory for it.
   */
  inGuestMemory(address: bigint, lengthBytes: bigint): boolean {
    if (lengthBytes === 0n) return true;
    if (address + lengthBytes > ADDRESS_LIMIT) return false;
    const pageStart = pageAlignDown(address);
    return this.space.isMapped(pageStart, address + lengthBytes - pageStart);
  }

  /** Whether the range lies below 2^64 (Linux checks this before it knows how much it moves). */
  belowLimit(address: bigint, lengthBytes: bigint): boolean {
    return address + lengthBytes <= ADDRESS_LIMIT;
  }

  /**
   * Moves `lengthBytes` (already checked with inGuestMemory) in chunks: `move(offset, chunkBytes)`
   * for each, which returns the bytes it moved (fewer ends the transfer: end of file). Returns
   * the bytes moved; -EFAULT if a strict space denied the first chunk (the count so far if a
   * later one); a negated errno from `move` likewise; STOP if the deadline passed between chunks.
   */
  transfer(hart: Hart, lengthBytes: bigint, move: (offset: bigint, chunkBytes: number) => number | bigint): SyscallResult {
    let done = 0n;
    while (done < lengthBytes) {
      if (done > 0n && hart.deadlinePassed()) return STOP;
      const remaining = lengthBytes - done;
      const chunkBytes = remaining < BigInt(TRANSFER_CHUNK_BYTES) ? Number(remaining) : TRANSFER_CHUNK_BYTES;
      let moved: number | bigint;
      try {
        moved = move(done, chunkBytes);
      } catch (error) {
        if (error instanceof MemoryFault) return done > 0n ? done : -EFAULT;
        throw error;
      }
      if (typeof moved === "bigint") return done > 0n ? done : moved;
      done += BigInt(moved);
      if (moved < chunkBytes) break;
    }
    return done;
  }

  /** A small fixed-size result into the guest: 0, or -EFAULT. */
  copyOut(buffer: bigint, bytes: Uint8Array): bigint {
    if (!this.inGuestMemory(buffer, BigInt(bytes.length))) return -EFAULT;
    try {
      this.space.write(buffer, bytes);
    } catch (error) {
      if (error instanceof MemoryFault) return -EFAULT;
      throw error;
    }
    return 0n;
  }

  /** A small fixed-size argument from the guest, or -EFAULT. */
  copyIn(buffer: bigint, lengthBytes: number): DataView | bigint {
    if (!this.inGuestMemory(buffer, BigInt(lengthBytes))) return -EFAULT;
    try {
      const bytes = this.space.read(buffer, lengthBytes);
      return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    } catch (error) {
      if (error instanceof MemoryFault) return -EFAULT;
      throw error;
    }
  }

  /**
   * A NUL-terminated string (a path) from the guest, read a page at a time up to PATH_MAX:
   * -EFAULT if it runs into unmapped memory, -ENAMETOOLONG if it has no NUL within PATH_MAX.
   */
  readPath(address: bigint): Uint8Array | bigint {
    const collected = new Uint8Array(PATH_MAX_BYTES);
    let length = 0;
    while (length < PATH_MAX_BYTES) {
      const at = address + BigInt(length);
      // Up to the end of this page: the next one may be unmapped, and the NUL may come first.
      const pieceBytes = Math.min(PATH_MAX_BYTES - length, PAGE_SIZE_BYTES - Number(at % BigInt(PAGE_SIZE_BYTES)));
      const piece = this.copyIn(at, pieceBytes);
      if (typeof piece === "bigint") return piece;
      const bytes = new Uint8Array(piece.buffer, piece.byteOffset, pieceBytes);
      const end = bytes.indexOf(0);
      if (end >= 0) {
        collected.set(bytes.subarray(0, end), length);
        return collected.slice(0, length + end);
      }
      collected.set(bytes, length);
      length += pieceBytes;
    }
    return -ENAMETOOLONG;
  }
}
