import { PAGE_SIZE_BYTES } from "../../space/address.js";
import type { Hart } from "../hart.js";
import { EBADF, EFAULT, EINVAL, ENOTTY } from "./errno.js";
import type { FdTable } from "./fd-table.js";
import { STOP, TRANSFER_CHUNK_BYTES, type GuestMemory, type SyscallResult } from "./guest-memory.js";
import type { OpenFile } from "./open-file.js";

/** Linux's cap on one read or write (and on a vector's total): INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7ffff000n;
/** Linux's UIO_MAXIOV: the most iovecs one readv or writev takes. */
const UIO_MAXIOV = 1024n;
const IOVEC_BYTES = 16;
const PAGE = BigInt(PAGE_SIZE_BYTES);

interface Piece {
  buffer: bigint;
  lengthBytes: bigint;
}

/** read, write and their vector and positioned forms, lseek and ioctl: data between open files and guest memory. */
export class FileIo {
  /** One host buffer for every read: no allocation grows with a guest-supplied length. */
  private readonly chunk = new Uint8Array(TRANSFER_CHUNK_BYTES);

  constructor(
    private readonly memory: GuestMemory,
    private readonly fds: FdTable,
  ) {}

  /**
   * Linux checks the whole requested range against the top of the address space, then copies
   * only the bytes there are, up to the first unmapped page: an EOF read into any buffer below
   * 2^64 returns 0; a read stopped by a fault returns what it copied, or -EFAULT.
   */
  read(hart: Hart, fd: bigint, buffer: bigint, count: bigint, position: bigint | null = null): SyscallResult {
    const file = this.fds.get(fd);
    if (file === undefined || !file.readable) return -EBADF;
    if (position !== null && position < 0n) return -EINVAL;
    if (!this.memory.belowLimit(buffer, count)) return -EFAULT;
    return this.readInto(hart, file, { buffer, lengthBytes: count < MAX_RW_COUNT ? count : MAX_RW_COUNT }, position);
  }

  write(hart: Hart, fd: bigint, buffer: bigint, count: bigint, position: bigint | null = null): SyscallResult {
    const file = this.fds.get(fd);
    if (file === undefined || !file.writable) return -EBADF;
    if (position !== null && position < 0n) return -EINVAL;
    if (!this.memory.belowLimit(buffer, count)) return -EFAULT;
    const lengthBytes = count < MAX_RW_COUNT ? count : MAX_RW_COUNT;
    if (!this.memory.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
    return this.writeFrom(hart, file, { buffer, lengthBytes }, position);
  }

  readv(hart: Hart, fd: bigint, vectors: bigint, vectorCount: bigint): SyscallResult {
    const file = this.fds.get(fd);
    if (file === undefined || !file.readable) return -EBADF;
    const pieces = this.vectorPieces(vectors, vectorCount, false);
    if (typeof pieces === "bigint") return pieces;
    return this.eachPiece(pieces, (piece) => this.readInto(hart, file, piece, null));
  }

  writev(hart: Hart, fd: bigint, vectors: bigint, vectorCount: bigint): SyscallResult {
    const file = this.fds.get(fd);
    if (file === undefined || !file.writable) return -EBADF;
    const pieces = this.vectorPieces(vectors, vectorCount, true);
    if (typeof pieces === "bigint") return pieces;
    return this.eachPiece(pieces, (piece) => this.writeFrom(hart, file, piece, null));
  }

  lseek(fd: bigint, offset: bigint, whence: bigint): bigint {
    const file = this.fds.get(fd);
    if (file === undefined) return -EBADF;
    return file.seek(offset, Number(whence & 0xffffffffn));
  }

  /** No descriptor is a terminal (TCGETS and the rest: -ENOTTY), so libc buffers output fully. */
  ioctl(fd: bigint): bigint {
    return this.fds.get(fd) === undefined ? -EBADF : -ENOTTY;
  }

  private readInto(hart: Hart, file: OpenFile, piece: Piece, position: bigint | null): SyscallResult {
    return this.memory.transfer(hart, piece.lengthBytes, (offset, chunkBytes) => {
      const at = piece.buffer + offset;
      const room = this.mappedPrefixBytes(at, chunkBytes);
      // An unmapped buffer faults only if there is something to copy into it.
      if (room === 0) return file.hasData(position === null ? null : position + offset) ? -EFAULT : 0;
      const got = file.read(this.chunk.subarray(0, room), position === null ? null : position + offset);
      if (typeof got === "bigint") return got;
      this.memory.space.write(at, this.chunk.subarray(0, got));
      return got;
    });
  }

  private writeFrom(hart: Hart, file: OpenFile, piece: Piece, position: bigint | null): SyscallResult {
    return this.memory.transfer(hart, piece.lengthBytes, (offset, chunkBytes) =>
      file.write(this.memory.space.read(piece.buffer + offset, chunkBytes), position === null ? null : position + offset),
    );
  }

  /** How many bytes from `address` (up to `lengthBytes`) lie in mapped pages. */
  private mappedPrefixBytes(address: bigint, lengthBytes: number): number {
    let end = address;
    const limit = address + BigInt(lengthBytes);
    while (end < limit && this.memory.inGuestMemory(end, 1n)) end = (end / PAGE + 1n) * PAGE;
    return Number((end < limit ? end : limit) - address);
  }

  /**
   * As Linux: the vector count must be 0..UIO_MAXIOV, a negative length is EINVAL, lengths
   * past MAX_RW_COUNT in total are cut short, and for a write every (cut) buffer must be
   * valid before anything moves.
   */
  private vectorPieces(vectors: bigint, vectorCount: bigint, checkBuffers: boolean): Piece[] | bigint {
    if (vectorCount < 0n || vectorCount > UIO_MAXIOV) return -EINVAL;
    const table = this.memory.copyIn(vectors, Number(vectorCount) * IOVEC_BYTES);
    if (typeof table === "bigint") return table;
    const pieces: Piece[] = [];
    let total = 0n;
    for (let index = 0; index < Number(vectorCount); index++) {
      const buffer = table.getBigUint64(index * IOVEC_BYTES, true);
      let lengthBytes = table.getBigInt64(index * IOVEC_BYTES + 8, true);
      if (lengthBytes < 0n) return -EINVAL;
      if (lengthBytes > MAX_RW_COUNT - total) lengthBytes = MAX_RW_COUNT - total;
      if (!this.memory.belowLimit(buffer, lengthBytes)) return -EFAULT;
      if (checkBuffers && !this.memory.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
      pieces.push({ buffer, lengthBytes });
      total += lengthBytes;
    }
    return pieces;
  }

  /** Moves piece after piece until one comes up short; an error after some bytes returns the count. */
  private eachPiece(pieces: Piece[], move: (piece: Piece) => SyscallResult): SyscallResult {
    let moved = 0n;
    for (const piece of pieces) {
      const result = move(piece);
      if (result === STOP) return STOP;
      if (result < 0n) return moved > 0n ? moved : result;
      moved += result;
      if (result < piece.lengthBytes) break;
    }
    return moved;
  }
}
