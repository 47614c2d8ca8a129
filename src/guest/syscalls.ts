import { PAGE_SIZE_BYTES } from "../space/address.js";
import type { AddressSpace } from "../space/address-space.js";
import { MMAP_BASE, pageAlignUp, STACK_TOP, STACK_BYTES } from "./loader.js";
import { GuestError, type Hart, type SyscallHandler } from "./hart.js";

/** Where guest output goes and where its input comes from. */
export interface GuestIo {
  stdin: Uint8Array;
  write(fd: 1 | 2, bytes: Uint8Array): void;
}

const A0 = 10;
const A7 = 17;
const PAGE = BigInt(PAGE_SIZE_BYTES);
const EBADF = 9n;
const ENOTTY = 25n;
const ESPIPE = 29n;
const ENOMEM = 12n;
const ENODEV = 19n;
const EINVAL = 22n;
const ADDRESS_LIMIT = 1n << 64n;
/** PROT_READ | PROT_WRITE | PROT_EXEC: mprotect's protection bits are the AddressSpace's. */
const PROT_BITS = 7n;
const MAP_ANONYMOUS = 0x20n;
const S_IFCHR = 0x2000;
const STAT_BYTES = 128;
/** Guest time advances one nanosecond per instruction: runs stay deterministic. */
const NANOS_PER_SECOND = 1_000_000_000n;
/** Largest heap `brk` may grow to. */
const BREAK_LIMIT_BYTES = 1n << 32n;

/** Linux system calls (RISC-V numbering) for statically linked newlib, picolibc or musl guests. */
export class LinuxSyscalls implements SyscallHandler {
  private breakEnd: bigint;
  private mappedBreakEnd: bigint;
  private mmapNext = MMAP_BASE;
  private stdinOffset = 0;
  private randomState = 0x2545f491;

  constructor(
    private readonly space: AddressSpace,
    private readonly breakStart: bigint,
    private readonly io: GuestIo,
  ) {
    this.breakEnd = breakStart;
    this.mappedBreakEnd = breakStart;
  }

  handle(hart: Hart): boolean {
    const number = Number(hart.register(A7));
    const arg = (index: number): bigint => hart.register(A0 + index);
    const signedArg = (index: number): bigint => BigInt.asIntN(64, arg(index));
    const reply = (value: bigint): void => hart.setRegister(A0, value);
    switch (number) {
      case 93: // exit
      case 94: // exit_group
        hart.exitCode = Number(arg(0) & 0xffn);
        return true;
      case 63: // read
        reply(this.read(signedArg(0), arg(1), arg(2)));
        return false;
      case 64: // write
        reply(this.write(signedArg(0), arg(1), arg(2)));
        return false;
      case 66: // writev
        reply(this.writev(signedArg(0), arg(1), arg(2)));
        return false;
      case 214: // brk
        reply(this.brk(arg(0)));
        return false;
      case 222: // mmap
        reply(this.mmap(arg(1), arg(3), signedArg(4)));
        return false;
      case 215: // munmap
        reply(this.munmap(arg(0), arg(1)));
        return false;
      case 226: // mprotect
        reply(this.mprotect(arg(0), arg(1), arg(2)));
        return false;
      case 57: // close
      case 99: // set_robust_list
      case 134: // rt_sigaction
      case 135: // rt_sigprocmask
      case 174: // getuid
      case 175: // geteuid
      case 176: // getgid
      case 177: // getegid
        reply(0n);
        return false;
      case 96: // set_tid_address
      case 172: // getpid
      case 178: // gettid
        reply(1n);
        return false;
      case 80: // fstat
        reply(this.fstat(signedArg(0), arg(1)));
        return false;
      case 62: // lseek
        reply(-ESPIPE);
        return false;
      case 29: // ioctl
        reply(-ENOTTY);
        return false;
      case 113: // clock_gettime
        this.writeTime(arg(1), BigInt(hart.instructions), 1n);
        reply(0n);
        return false;
      case 169: // gettimeofday
        this.writeTime(arg(0), BigInt(hart.instructions), 1000n);
        reply(0n);
        return false;
      case 278: // getrandom: deterministic bytes
        reply(this.getrandom(arg(0), arg(1)));
        return false;
      default:
        throw new GuestError(`unknown system call ${number} (a7)`, hart.pc);
    }
  }

  private read(fd: bigint, buffer: bigint, count: bigint): bigint {
    if (fd !== 0n) return -EBADF;
    const available = this.io.stdin.length - this.stdinOffset;
    const length = Math.min(available, Number(count > 1n << 30n ? 1n << 30n : count));
    this.space.write(buffer, this.io.stdin.subarray(this.stdinOffset, this.stdinOffset + length));
    this.stdinOffset += length;
    return BigInt(length);
  }

  private write(fd: bigint, buffer: bigint, count: bigint): bigint {
    if (fd !== 1n && fd !== 2n) return -EBADF;
    if (count > 0n) this.io.write(fd === 1n ? 1 : 2, this.space.read(buffer, Number(count)));
    return count;
  }

  private writev(fd: bigint, vectors: bigint, count: bigint): bigint {
    let total = 0n;
    for (let index = 0n; index < count; index++) {
      const entry = new DataView(this.space.read(vectors + index * 16n, 16).buffer);
      const written = this.write(fd, entry.getBigUint64(0, true), entry.getBigUint64(8, true));
      if (written < 0n) return written;
      total += written;
    }
    return total;
  }

  private brk(requested: bigint): bigint {
    if (requested < this.breakStart || requested > this.breakStart + BREAK_LIMIT_BYTES) return this.breakEnd;
    const mappedEnd = pageAlignUp(requested);
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
    this.space.write(buffer, stat);
    return 0n;
  }

  private writeTime(buffer: bigint, nanoseconds: bigint, fractionDivisor: bigint): void {
    const time = new Uint8Array(16);
    const view = new DataView(time.buffer);
    view.setBigUint64(0, nanoseconds / NANOS_PER_SECOND, true);
    view.setBigUint64(8, (nanoseconds % NANOS_PER_SECOND) / fractionDivisor, true);
    this.space.write(buffer, time);
  }

  private getrandom(buffer: bigint, length: bigint): bigint {
    const bytes = new Uint8Array(Number(length));
    for (let index = 0; index < bytes.length; index++) {
      this.randomState ^= this.randomState << 13;
      this.randomState ^= this.randomState >>> 17;
      this.randomState ^= this.randomState << 5;
      bytes[index] = this.randomState & 0xff;
    }
    this.space.write(buffer, bytes);
    return length;
  }
}
