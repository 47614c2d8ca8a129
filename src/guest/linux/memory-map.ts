import { PAGE_SIZE_BYTES } from "../../space/address.js";
import type { Hart } from "../hart.js";
import { MMAP_BASE, pageAlignUp, STACK_BYTES, STACK_TOP } from "../loader.js";
import { EACCES, EBADF, EEXIST, EFAULT, EINVAL, ENODEV, ENOMEM } from "./errno.js";
import type { FdTable } from "./fd-table.js";
import { STOP, TRANSFER_CHUNK_BYTES, type GuestMemory, type SyscallResult } from "./guest-memory.js";
import { HostFile } from "./open-file.js";

const PAGE = BigInt(PAGE_SIZE_BYTES);
const ADDRESS_LIMIT = 1n << 64n;
/** PROT_READ | PROT_WRITE | PROT_EXEC: the protection bits are the AddressSpace's. */
const PROT_BITS = 7n;
const PROT_WRITE = 2n;
const MAP_TYPE = 3n;
const MAP_SHARED = 1n;
const MAP_FIXED = 0x10n;
const MAP_ANONYMOUS = 0x20n;
const MAP_FIXED_NOREPLACE = 0x100000n;
const MREMAP_MAYMOVE = 1n;
const MADV_DONTNEED = 4n;
/** Largest heap `brk` may grow to. */
const BREAK_LIMIT_BYTES = 1n << 32n;
/** Anonymous and file mappings are handed out from MMAP_BASE up to here (the stack's bottom). */
const MMAP_END = STACK_TOP - STACK_BYTES;

/**
 * The guest's memory map: the brk heap and mmap's mappings. mmap hands out addresses from a
 * bump pointer (an unmapped range is not reused); a file mapping is a private copy of the
 * file's bytes, and a shared writable one is ENODEV (nothing would write it back).
 */
export class MemoryMap {
  private breakEnd: bigint;
  private mappedBreakEnd: bigint;
  private mmapNext = MMAP_BASE;

  constructor(
    private readonly memory: GuestMemory,
    private readonly fds: FdTable,
    private readonly breakStart: bigint,
  ) {
    this.breakEnd = breakStart;
    this.mappedBreakEnd = breakStart;
  }

  private get space() {
    return this.memory.space;
  }

  brk(requested: bigint): bigint {
    if (requested < this.breakStart || requested > this.breakStart + BREAK_LIMIT_BYTES) return this.breakEnd;
    const mappedEnd = pageAlignUp(requested);
    // The heap must not grow into the mmap area (mapping over a mapping is an error).
    if (mappedEnd > MMAP_BASE) return this.breakEnd;
    if (mappedEnd > this.mappedBreakEnd) {
      this.space.map(this.mappedBreakEnd, mappedEnd - this.mappedBreakEnd, "rw-");
      this.mappedBreakEnd = mappedEnd;
    } else if (mappedEnd < this.mappedBreakEnd) {
      // Linux unmaps the whole pages a shrinking break gives up: grown again, they read as zero
      // (glibc's calloc counts on it and clears nothing there).
      this.space.unmap(mappedEnd, this.mappedBreakEnd - mappedEnd);
      this.mappedBreakEnd = mappedEnd;
    }
    this.breakEnd = requested;
    return requested;
  }

  mmap(hart: Hart, hint: bigint, length: bigint, protection: bigint, flags: bigint, fd: bigint, offset: bigint): SyscallResult {
    const size = pageAlignUp(length);
    if (size === 0n || size > ADDRESS_LIMIT || offset % PAGE !== 0n || (protection & ~PROT_BITS) !== 0n) return -EINVAL;
    const type = flags & MAP_TYPE;
    if (type === 0n) return -EINVAL;
    const anonymous = (flags & MAP_ANONYMOUS) !== 0n;
    let file: HostFile | undefined;
    if (!anonymous) {
      const open = this.fds.get(fd);
      if (open === undefined) return -EBADF;
      if (!(open instanceof HostFile)) return -ENODEV;
      if (!open.readable) return -EACCES;
      if (type === MAP_SHARED && (protection & PROT_WRITE) !== 0n) return -ENODEV;
      file = open;
    }
    const fixed = (flags & (MAP_FIXED | MAP_FIXED_NOREPLACE)) !== 0n;
    let address: bigint;
    if (fixed) {
      if (hint % PAGE !== 0n || hint + size > ADDRESS_LIMIT) return -EINVAL;
      if ((flags & MAP_FIXED) === 0n && this.overlapsMapping(hint, size)) return -EEXIST;
      this.space.unmap(hint, size);
      address = hint;
    } else {
      if (this.mmapNext + size > MMAP_END) return -ENOMEM;
      address = this.mmapNext;
      this.mmapNext += size;
    }
    this.space.map(address, size, file === undefined ? Number(protection) : "rw-");
    if (file !== undefined) {
      const copied = this.copyFile(hart, file, address, length, offset);
      if (copied === STOP) return STOP;
      this.space.protect(address, size, Number(protection));
    }
    return address;
  }

  /**
   * Releases the pages of the range (their frames go back; they read as zero, and fault in a
   * strict space). Like Linux, any page-aligned range may be unmapped, mapped or not.
   */
  munmap(address: bigint, length: bigint): bigint {
    const size = pageAlignUp(length);
    if (address % PAGE !== 0n || size === 0n || address + size > ADDRESS_LIMIT) return -EINVAL;
    this.space.unmap(address, size);
    return 0n;
  }

  /** Sets the protection of mapped pages (it matters in a strict space); ENOMEM if any is unmapped. */
  mprotect(address: bigint, length: bigint, protection: bigint): bigint {
    const size = pageAlignUp(length);
    if (address % PAGE !== 0n || (protection & ~PROT_BITS) !== 0n || address + size > ADDRESS_LIMIT) return -EINVAL;
    if (size === 0n) return 0n;
    if (!this.space.isMapped(address, size)) return -ENOMEM;
    this.space.protect(address, size, Number(protection));
    return 0n;
  }

  /**
   * Shrinks in place; grows in place at the top of the mmap area, else (with MREMAP_MAYMOVE)
   * moves the contents to a fresh range. MREMAP_FIXED and MREMAP_DONTUNMAP are EINVAL here.
   */
  mremap(oldAddress: bigint, oldLength: bigint, newLength: bigint, flags: bigint): bigint {
    const oldSize = pageAlignUp(oldLength);
    const newSize = pageAlignUp(newLength);
    if (oldAddress % PAGE !== 0n || newSize === 0n || (flags & ~MREMAP_MAYMOVE) !== 0n) return -EINVAL;
    if (oldAddress + oldSize > ADDRESS_LIMIT || oldAddress + newSize > ADDRESS_LIMIT) return -EINVAL;
    if (oldSize === 0n || !this.space.isMapped(oldAddress, oldSize)) return -EFAULT;
    if (newSize <= oldSize) {
      if (newSize < oldSize) this.space.unmap(oldAddress + newSize, oldSize - newSize);
      return oldAddress;
    }
    const protection = this.protectionAt(oldAddress);
    const tail = oldAddress + oldSize;
    const tailBytes = newSize - oldSize;
    // In place only at the top of the mmap area: elsewhere the next pages may be another mapping's.
    if (tail === this.mmapNext && tail + tailBytes <= MMAP_END) {
      this.space.map(tail, tailBytes, protection);
      this.mmapNext = tail + tailBytes;
      return oldAddress;
    }
    if ((flags & MREMAP_MAYMOVE) === 0n) return -ENOMEM;
    if (this.mmapNext + newSize > MMAP_END) return -ENOMEM;
    const moved = this.mmapNext;
    this.mmapNext += newSize;
    this.space.map(moved, newSize, protection);
    this.space.copy(moved, oldAddress, oldSize);
    this.space.unmap(oldAddress, oldSize);
    return moved;
  }

  /** MADV_DONTNEED gives the pages back (they read as zero again); other advice changes nothing. */
  madvise(address: bigint, length: bigint, advice: bigint): bigint {
    const size = pageAlignUp(length);
    if (address % PAGE !== 0n || address + size > ADDRESS_LIMIT) return -EINVAL;
    if (size === 0n) return 0n;
    if (!this.space.isMapped(address, size)) return -ENOMEM;
    if (advice === MADV_DONTNEED) {
      for (const region of this.space.regions()) {
        const start = region.start > address ? region.start : address;
        const end = region.end < address + size ? region.end : address + size;
        if (start >= end) continue;
        this.space.unmap(start, end - start);
        this.space.map(start, end - start, region.protection);
      }
    }
    return 0n;
  }

  private overlapsMapping(address: bigint, size: bigint): boolean {
    return this.space.regions().some((region) => region.start < address + size && address < region.end);
  }

  private protectionAt(address: bigint): string {
    return this.space.regions().find((region) => region.start <= address && address < region.end)?.protection ?? "rw-";
  }

  /** The file's bytes from `offset` into the fresh mapping; past its end the pages stay zero. */
  private copyFile(hart: Hart, file: HostFile, address: bigint, length: bigint, offset: bigint): SyscallResult {
    const chunk = new Uint8Array(TRANSFER_CHUNK_BYTES);
    return this.memory.transfer(hart, length, (at, chunkBytes) => {
      const got = file.read(chunk.subarray(0, chunkBytes), offset + at);
      if (typeof got === "bigint") return got;
      this.space.write(address + at, chunk.subarray(0, got));
      return got;
    });
  }
}
