import { PAGE_SIZE_BYTES } from "../space/address.js";
import type { AddressSpace } from "../space/address-space.js";
import { MemoryFault } from "../space/protection.js";
import { MMAP_BASE, pageAlignDown, pageAlignUp, STACK_TOP, STACK_BYTES } from "./loader.js";
import { GuestError, type Hart, type SyscallHandler } from "./hart.js";

/** Where guest output goes and where its input comes from. */
export interface GuestIo {
  /** The guest's standard input, read from the start. */
  stdin: Uint8Array;
  /** Writes the guest's output on standard output (1) or standard error (2). */
  write(fd: 1 | 2, bytes: Uint8Array): void;
}

const A0 = 10;
const A7 = 17;
const SYS_EXIT = 93;
const SYS_EXIT_GROUP = 94;
const PAGE = BigInt(PAGE_SIZE_BYTES);
const EBADF = 9n;
const ENOTTY = 25n;
const ESPIPE = 29n;
const ENOMEM = 12n;
const EFAULT = 14n;
const ENODEV = 19n;
const EINVAL = 22n;
const ENOSYS = 38n;
const ADDRESS_LIMIT = 1n << 64n;
/** Linux's cap on one read or write (and on a writev's total): INT_MAX rounded down to a page. */
const MAX_RW_COUNT = 0x7ffff000n;
/** Linux's cap on one getrandom call: INT_MAX >> 6 (25-bit) bytes. */
const GETRANDOM_MAX_BYTES = 33554431n;
/** Linux's UIO_MAXIOV: the most iovecs one writev takes. */
const UIO_MAXIOV = 1024n;
const IOVEC_BYTES = 16n;
/**
 * Guest data moves through the host in pieces of at most this size: no host allocation grows
 * with a guest-supplied length, and the run's deadline is checked between pieces.
 */
const TRANSFER_CHUNK_BYTES = 1 << 16;
const TIMESPEC_BYTES = 16;
/** PROT_READ | PROT_WRITE | PROT_EXEC: mprotect's protection bits are the AddressSpace's. */
const PROT_BITS = 7n;
const MAP_ANONYMOUS = 0x20n;
const S_IFCHR = 0x2000;
const STAT_BYTES = 128;
/** Guest time advances one nanosecond per instruction: runs stay deterministic. */
const NANOS_PER_SECOND = 1_000_000_000n;
/** Largest heap `brk` may grow to. */
const BREAK_LIMIT_BYTES = 1n << 32n;

/** Options of LinuxSyscalls, also taken by `runGuest`. */
export interface SyscallOptions {
  /** An unknown system call stops the run with a GuestError (by default it returns -ENOSYS). */
  strictSyscalls?: boolean;
  /** Called once per distinct unknown system call number (before -ENOSYS or the error). */
  onUnknownSyscall?: (syscallNumber: number) => void;
}

/** Returned by a system call's implementation when the run must stop there (exit, or time is up). */
const STOP = null;

/**
 * Linux system calls (RISC-V numbering) for statically linked newlib, picolibc or musl guests.
 * A guest buffer must lie below 2^64 and in the guest's mappings (`AddressSpace.isMapped`,
 * which tracks the loader's segments, the stack, brk and mmaps in flat and strict spaces
 * alike), or the call returns -EFAULT. Protections are checked only in a strict space (a
 * flat one ignores them everywhere): there, a denied copy also ends in -EFAULT.
 */
export class LinuxSyscalls implements SyscallHandler {
  private breakEnd: bigint;
  private mappedBreakEnd: bigint;
  private mmapNext = MMAP_BASE;
  private stdinOffset = 0;
  private randomState = 0x2545f491;
  private readonly unknownSeen = new Set<number>();

  /**
   * System calls on `space`, with the program break starting at `breakStart` (page-aligned) and input and
   * output through `io`.
   */
  constructor(
    private readonly space: AddressSpace,
    private readonly breakStart: bigint,
    private readonly io: GuestIo,
    private readonly options: SyscallOptions = {},
  ) {
    this.breakEnd = breakStart;
    this.mappedBreakEnd = breakStart;
  }

  /**
   * Runs the system call numbered in a7 with arguments in a0..a5; puts the result in a0, or returns true when
   * the guest exits or its time is up.
   */
  handle(hart: Hart): boolean {
    const result = this.dispatch(hart, Number(hart.register(A7)));
    if (result === STOP) return true;
    hart.setRegister(A0, result);
    return false;
  }

  /** The call's result for a0, or STOP. */
  private dispatch(hart: Hart, number: number): bigint | typeof STOP {
    const arg = (index: number): bigint => hart.register(A0 + index);
    const signedArg = (index: number): bigint => BigInt.asIntN(64, arg(index));
    if (number === SYS_EXIT || number === SYS_EXIT_GROUP) {
      hart.exitCode = Number(arg(0) & 0xffn);
      return STOP;
    }
    // Also here, not only between data chunks: a guest looping on cheap calls stops in time too.
    if (hart.deadlinePassed()) return STOP;
    switch (number) {
      case 63: // read
        return this.read(hart, signedArg(0), arg(1), arg(2));
      case 64: // write
        return this.write(hart, signedArg(0), arg(1), arg(2));
      case 66: // writev
        return this.writev(hart, signedArg(0), arg(1), signedArg(2));
      case 214: // brk
        return this.brk(arg(0));
      case 222: // mmap
        return this.mmap(arg(1), arg(3), signedArg(4));
      case 215: // munmap
        return this.munmap(arg(0), arg(1));
      case 226: // mprotect
        return this.mprotect(arg(0), arg(1), arg(2));
      case 57: // close
      case 99: // set_robust_list
      case 134: // rt_sigaction
      case 135: // rt_sigprocmask
      case 174: // getuid
      case 175: // geteuid
      case 176: // getgid
      case 177: // getegid
        return 0n;
      case 96: // set_tid_address
      case 172: // getpid
      case 178: // gettid
        return 1n;
      case 80: // fstat
        return this.fstat(signedArg(0), arg(1));
      case 62: // lseek
        return -ESPIPE;
      case 29: // ioctl
        return -ENOTTY;
      case 113: // clock_gettime
        return this.writeTime(arg(1), BigInt(hart.instructions), 1n);
      case 169: // gettimeofday: a null timeval is allowed (only the timezone is asked for)
        return arg(0) === 0n ? 0n : this.writeTime(arg(0), BigInt(hart.instructions), 1000n);
      case 278: // getrandom: deterministic bytes
        return this.getrandom(hart, arg(0), arg(1));
      default:
        return this.unknown(hart, number);
    }
  }

  /** Real libc probes newer calls and falls back on -ENOSYS, as on an older kernel. */
  private unknown(hart: Hart, number: number): bigint {
    if (!this.unknownSeen.has(number)) {
      this.unknownSeen.add(number);
      this.options.onUnknownSyscall?.(number);
    }
    if (this.options.strictSyscalls === true) throw new GuestError(`unknown system call ${number} (a7)`, hart.pc);
    return -ENOSYS;
  }

  /**
   * Whether [address, address + lengthBytes) lies in the guest's mappings and below 2^64.
   * An empty range is always valid: Linux touches no memory for it.
   */
  private inGuestMemory(address: bigint, lengthBytes: bigint): boolean {
    if (lengthBytes === 0n) return true;
    if (address + lengthBytes > ADDRESS_LIMIT) return false;
    const pageStart = pageAlignDown(address);
    return this.space.isMapped(pageStart, address + lengthBytes - pageStart);
  }

  /**
   * Moves `lengthBytes` (already checked with inGuestMemory) in chunks: `move(offset, chunkBytes)`
   * for each. Returns the bytes moved; -EFAULT if a strict space denied the first chunk (the
   * count so far if a later one); STOP if the deadline passed between chunks.
   */
  private transfer(hart: Hart, lengthBytes: bigint, move: (offset: bigint, chunkBytes: number) => void): bigint | typeof STOP {
    let done = 0n;
    while (done < lengthBytes) {
      if (done > 0n && hart.deadlinePassed()) return STOP;
      const remaining = lengthBytes - done;
      const chunkBytes = remaining < BigInt(TRANSFER_CHUNK_BYTES) ? Number(remaining) : TRANSFER_CHUNK_BYTES;
      try {
        move(done, chunkBytes);
      } catch (error) {
        if (error instanceof MemoryFault) return done > 0n ? done : -EFAULT;
        throw error;
      }
      done += BigInt(chunkBytes);
    }
    return done;
  }

  /**
   * Linux checks the whole requested range against the top of the address space, then copies
   * only the bytes there are: an EOF read into any buffer below 2^64 returns 0.
   */
  private read(hart: Hart, fd: bigint, buffer: bigint, count: bigint): bigint | typeof STOP {
    if (fd !== 0n) return -EBADF;
    if (buffer + count > ADDRESS_LIMIT) return -EFAULT;
    const available = BigInt(this.io.stdin.length - this.stdinOffset);
    const capped = count < MAX_RW_COUNT ? count : MAX_RW_COUNT;
    const lengthBytes = capped < available ? capped : available;
    if (!this.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
    const start = this.stdinOffset;
    const moved = this.transfer(hart, lengthBytes, (offset, chunkBytes) => {
      const from = start + Number(offset);
      this.space.write(buffer + offset, this.io.stdin.subarray(from, from + chunkBytes));
    });
    if (moved !== STOP && moved > 0n) this.stdinOffset += Number(moved);
    return moved;
  }

  private write(hart: Hart, fd: bigint, buffer: bigint, count: bigint): bigint | typeof STOP {
    if (fd !== 1n && fd !== 2n) return -EBADF;
    if (buffer + count > ADDRESS_LIMIT) return -EFAULT;
    const lengthBytes = count < MAX_RW_COUNT ? count : MAX_RW_COUNT;
    if (!this.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
    return this.writeChecked(hart, fd === 1n ? 1 : 2, buffer, lengthBytes);
  }

  private writeChecked(hart: Hart, fd: 1 | 2, buffer: bigint, lengthBytes: bigint): bigint | typeof STOP {
    return this.transfer(hart, lengthBytes, (offset, chunkBytes) => this.io.write(fd, this.space.read(buffer + offset, chunkBytes)));
  }

  /**
   * As Linux: the vector count must be 0..UIO_MAXIOV, a negative length is EINVAL, lengths
   * past MAX_RW_COUNT in total are cut short, and every (cut) buffer must be valid before
   * anything is written.
   */
  private writev(hart: Hart, fd: bigint, vectors: bigint, vectorCount: bigint): bigint | typeof STOP {
    if (fd !== 1n && fd !== 2n) return -EBADF;
    if (vectorCount < 0n || vectorCount > UIO_MAXIOV) return -EINVAL;
    const tableBytes = vectorCount * IOVEC_BYTES;
    if (!this.inGuestMemory(vectors, tableBytes)) return -EFAULT;
    let table: DataView;
    try {
      table = new DataView(this.space.read(vectors, Number(tableBytes)).buffer);
    } catch (error) {
      if (error instanceof MemoryFault) return -EFAULT;
      throw error;
    }
    const pieces: { buffer: bigint; lengthBytes: bigint }[] = [];
    let total = 0n;
    for (let index = 0; index < Number(vectorCount); index++) {
      const buffer = table.getBigUint64(index * Number(IOVEC_BYTES), true);
      let lengthBytes = table.getBigInt64(index * Number(IOVEC_BYTES) + 8, true);
      if (lengthBytes < 0n) return -EINVAL;
      if (lengthBytes > MAX_RW_COUNT - total) lengthBytes = MAX_RW_COUNT - total;
      if (!this.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
      pieces.push({ buffer, lengthBytes });
      total += lengthBytes;
    }
    let written = 0n;
    for (const piece of pieces) {
      const moved = this.writeChecked(hart, fd === 1n ? 1 : 2, piece.buffer, piece.lengthBytes);
      if (moved === STOP) return STOP;
      if (moved < 0n) return written > 0n ? written : moved;
      written += moved;
      if (moved < piece.lengthBytes) break;
    }
    return written;
  }

  private brk(requested: bigint): bigint {
    if (requested < this.breakStart || requested > this.breakStart + BREAK_LIMIT_BYTES) return this.breakEnd;
    const mappedEnd = pageAlignUp(requested);
    // The heap must not grow into the mmap area (mapping over a mapping is an error).
    if (mappedEnd > MMAP_BASE) return this.breakEnd;
    if (mappedEnd > this.mappedBreakEnd) {
      this.space.map(this.mappedBreakEnd, mappedEnd - this.mappedBreakEnd, "rw-");
      this.mappedBreakEnd = mappedEnd;
    }
    this.breakEnd = requested;
    return requested;
  }

  private mmap(length: bigint, flags: bigint, fd: bigint): bigint {
    if ((flags & MAP_ANONYMOUS) === 0n || fd !== -1n) return -ENODEV;
    const size = pageAlignUp(length);
    if (size === 0n || this.mmapNext + size > STACK_TOP - STACK_BYTES) return -ENOMEM;
    const address = this.mmapNext;
    this.space.map(address, size, "rw-");
    this.mmapNext += size;
    return address;
  }

  /**
   * Releases the pages of the range (their frames go back; they read as zero, and fault in a
   * strict space). Like Linux, any page-aligned range may be unmapped, mapped or not; the
   * bump allocator of mmap does not hand the addresses out again.
   */
  private munmap(address: bigint, length: bigint): bigint {
    const size = pageAlignUp(length);
    if (address % PAGE !== 0n || size === 0n || address + size > ADDRESS_LIMIT) return -EINVAL;
    this.space.unmap(address, size);
    return 0n;
  }

  /** Sets the protection of mapped pages (it matters in a strict space); ENOMEM if any is unmapped. */
  private mprotect(address: bigint, length: bigint, protection: bigint): bigint {
    const size = pageAlignUp(length);
    if (address % PAGE !== 0n || (protection & ~PROT_BITS) !== 0n || address + size > ADDRESS_LIMIT) return -EINVAL;
    if (size === 0n) return 0n;
    if (!this.space.isMapped(address, size)) return -ENOMEM;
    this.space.protect(address, size, Number(protection));
    return 0n;
  }

  private fstat(fd: bigint, buffer: bigint): bigint {
    if (fd < 0n || fd > 2n) return -EBADF;
    const stat = new Uint8Array(STAT_BYTES);
    new DataView(stat.buffer).setUint32(16, S_IFCHR | 0o620, true); // st_mode: a terminal-like device
    return this.copyOut(buffer, stat);
  }

  private writeTime(buffer: bigint, nanoseconds: bigint, fractionDivisor: bigint): bigint {
    const time = new Uint8Array(TIMESPEC_BYTES);
    const view = new DataView(time.buffer);
    view.setBigUint64(0, nanoseconds / NANOS_PER_SECOND, true);
    view.setBigUint64(8, (nanoseconds % NANOS_PER_SECOND) / fractionDivisor, true);
    return this.copyOut(buffer, time);
  }

  /** A small fixed-size result into the guest: 0, or -EFAULT. */
  private copyOut(buffer: bigint, bytes: Uint8Array): bigint {
    if (!this.inGuestMemory(buffer, BigInt(bytes.length))) return -EFAULT;
    try {
      this.space.write(buffer, bytes);
    } catch (error) {
      if (error instanceof MemoryFault) return -EFAULT;
      throw error;
    }
    return 0n;
  }

  /** Unlike read and write, Linux caps the count before checking the range. */
  private getrandom(hart: Hart, buffer: bigint, count: bigint): bigint | typeof STOP {
    const lengthBytes = count < GETRANDOM_MAX_BYTES ? count : GETRANDOM_MAX_BYTES;
    if (!this.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
    const chunk = new Uint8Array(lengthBytes < BigInt(TRANSFER_CHUNK_BYTES) ? Number(lengthBytes) : TRANSFER_CHUNK_BYTES);
    return this.transfer(hart, lengthBytes, (offset, chunkBytes) => {
      const bytes = chunk.subarray(0, chunkBytes);
      for (let index = 0; index < chunkBytes; index++) {
        this.randomState ^= this.randomState << 13;
        this.randomState ^= this.randomState >>> 17;
        this.randomState ^= this.randomState << 5;
        bytes[index] = this.randomState & 0xff;
      }
      this.space.write(buffer + offset, bytes);
    });
  }
}
