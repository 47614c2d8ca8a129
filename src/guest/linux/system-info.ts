import type { Hart } from "../hart.js";
import { STACK_BYTES } from "../loader.js";
import { EFAULT, EINVAL, EPERM, ESRCH } from "./errno.js";
import { MAX_DESCRIPTORS } from "./fd-table.js";
import { TRANSFER_CHUNK_BYTES, type GuestMemory, type SyscallResult } from "./guest-memory.js";

/** The guest's process and thread id (the only process, the only thread). */
export const GUEST_PID = 1n;
const RLIM_INFINITY = (1n << 64n) - 1n;
const RLIMIT_COUNT = 16;
const RLIMIT_STACK = 3;
const RLIMIT_NOFILE = 7;
const RLIMIT_BYTES = 16;
const UTSNAME_FIELD_BYTES = 65;
/** sysname, nodename, release, version, machine, domainname. */
const UTSNAME = ["Linux", "memspace", "6.1.0", "#1 SMP", "riscv64", "(none)"];
const SYSINFO_BYTES = 112;
/** The memory sysinfo reports: 4 GiB, all of it free. */
const REPORTED_RAM_BYTES = 1n << 32n;
/** One CPU: sched_getaffinity's mask is one long with bit 0 set. */
const CPU_MASK_BYTES = 8n;
/** Linux's cap on one getrandom call: INT_MAX >> 6 (25-bit) bytes. */
const GETRANDOM_MAX_BYTES = 33554431n;
/** GRND_NONBLOCK | GRND_RANDOM | GRND_INSECURE. */
const GETRANDOM_FLAGS = 7n;

/**
 * What the guest learns about its machine: uname, resource limits, sysinfo, its CPUs, and
 * random bytes (deterministic, so runs repeat).
 */
export class SystemInfo {
  private readonly limits: [bigint, bigint][] = Array.from({ length: RLIMIT_COUNT }, () => [RLIM_INFINITY, RLIM_INFINITY]);
  private randomState = 0x2545f491;

  constructor(private readonly memory: GuestMemory) {
    // The stack really is STACK_BYTES; descriptors really stop at MAX_DESCRIPTORS.
    this.limits[RLIMIT_STACK] = [STACK_BYTES, RLIM_INFINITY];
    this.limits[RLIMIT_NOFILE] = [BigInt(MAX_DESCRIPTORS), BigInt(MAX_DESCRIPTORS)];
  }

  uname(buffer: bigint): bigint {
    const bytes = new Uint8Array(UTSNAME.length * UTSNAME_FIELD_BYTES);
    UTSNAME.forEach((field, index) => bytes.set(new TextEncoder().encode(field), index * UTSNAME_FIELD_BYTES));
    return this.memory.copyOut(buffer, bytes);
  }

  /** prlimit64 on this process: new limits are recorded (and reported back), not enforced. */
  prlimit64(pid: bigint, resource: bigint, newLimit: bigint, oldLimit: bigint): bigint {
    if (pid !== 0n && pid !== GUEST_PID) return -ESRCH;
    if (resource >= BigInt(RLIMIT_COUNT)) return -EINVAL;
    const index = Number(resource);
    let next: [bigint, bigint] | undefined;
    if (newLimit !== 0n) {
      const view = this.memory.copyIn(newLimit, RLIMIT_BYTES);
      if (typeof view === "bigint") return view;
      next = [view.getBigUint64(0, true), view.getBigUint64(8, true)];
      if (next[0] > next[1]) return -EINVAL;
      if (next[1] > this.limits[index][1]) return -EPERM;
    }
    if (oldLimit !== 0n) {
      const bytes = new Uint8Array(RLIMIT_BYTES);
      const view = new DataView(bytes.buffer);
      view.setBigUint64(0, this.limits[index][0], true);
      view.setBigUint64(8, this.limits[index][1], true);
      const copied = this.memory.copyOut(oldLimit, bytes);
      if (copied < 0n) return copied;
    }
    if (next !== undefined) this.limits[index] = next;
    return 0n;
  }

  sysinfo(hart: Hart, buffer: bigint): bigint {
    const bytes = new Uint8Array(SYSINFO_BYTES);
    const view = new DataView(bytes.buffer);
    view.setBigInt64(0, BigInt(hart.instructions) / 1_000_000_000n, true);
    view.setBigUint64(32, REPORTED_RAM_BYTES, true);
    view.setBigUint64(40, REPORTED_RAM_BYTES, true);
    view.setUint16(80, 1, true); // procs
    view.setUint32(104, 1, true); // mem_unit
    return this.memory.copyOut(buffer, bytes);
  }

  /** The mask's size in bytes; the buffer must hold a long and be a whole number of them. */
  schedGetaffinity(pid: bigint, sizeBytes: bigint, buffer: bigint): bigint {
    if (pid !== 0n && pid !== GUEST_PID) return -ESRCH;
    if (sizeBytes < CPU_MASK_BYTES || sizeBytes % CPU_MASK_BYTES !== 0n) return -EINVAL;
    const mask = new Uint8Array(Number(CPU_MASK_BYTES));
    mask[0] = 1;
    const copied = this.memory.copyOut(buffer, mask);
    return copied < 0n ? copied : CPU_MASK_BYTES;
  }

  /** Unlike read and write, Linux caps the count before checking the range. */
  getrandom(hart: Hart, buffer: bigint, count: bigint, flags: bigint): SyscallResult {
    if ((flags & ~GETRANDOM_FLAGS) !== 0n) return -EINVAL;
    const lengthBytes = count < GETRANDOM_MAX_BYTES ? count : GETRANDOM_MAX_BYTES;
    if (!this.memory.inGuestMemory(buffer, lengthBytes)) return -EFAULT;
    const chunk = new Uint8Array(lengthBytes < BigInt(TRANSFER_CHUNK_BYTES) ? Number(lengthBytes) : TRANSFER_CHUNK_BYTES);
    return this.memory.transfer(hart, lengthBytes, (offset, chunkBytes) => {
      const bytes = chunk.subarray(0, chunkBytes);
      for (let index = 0; index < chunkBytes; index++) bytes[index] = this.nextRandomByte();
      this.memory.space.write(buffer + offset, bytes);
      return chunkBytes;
    });
  }

  /** xorshift32: the same bytes every run. */
  nextRandomByte(): number {
    this.randomState ^= this.randomState << 13;
    this.randomState ^= this.randomState >>> 17;
    this.randomState ^= this.randomState << 5;
    return this.randomState & 0xff;
  }
}
