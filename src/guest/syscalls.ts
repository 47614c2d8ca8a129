import type { AddressSpace } from "../space/address-space.js";
import { GuestError, type Hart, type SyscallHandler } from "./hart.js";
import { IntegerRegister } from "./registers.js";
import { EBADF, EFAULT, EINVAL, ENOSYS } from "./linux/errno.js";
import { FdTable, O_CLOEXEC } from "./linux/fd-table.js";
import { FileIo } from "./linux/file-io.js";
import { FileSystem } from "./linux/file-system.js";
import { GuestMemory, STOP, type SyscallResult } from "./linux/guest-memory.js";
import { MemoryMap } from "./linux/memory-map.js";
import { InputStream, O_NONBLOCK, OutputStream, Pipe, PipeReader, PipeWriter, type GuestInput } from "./linux/open-file.js";
import { Sandbox } from "./linux/sandbox.js";
import { Signals } from "./linux/signals.js";
import { GUEST_PID, SystemInfo } from "./linux/system-info.js";
import { GuestClock } from "./linux/time.js";

export type { GuestInput } from "./linux/open-file.js";

/** Where guest output goes and where its input comes from. */
export interface GuestIo {
  /** The guest's standard input. */
  stdin: GuestInput;
  /** Writes the guest's output on standard output (1) or standard error (2). */
  write(fd: 1 | 2, bytes: Uint8Array): void;
}

/** The host directory a guest may reach as its file system (see Sandbox). */
export interface GuestFileSystemOptions {
  /** Becomes the guest's "/"; nothing outside it is reachable. */
  root: string;
  /** Whether the guest may create, write, rename and remove files there (default: read-only). */
  writable?: boolean;
}

/** Options of LinuxSyscalls, also taken by `runGuest`. */
export interface SyscallOptions {
  /** An unknown system call stops the run with a GuestError (by default it returns -ENOSYS). */
  strictSyscalls?: boolean;
  /** Called once per distinct unknown system call number (before -ENOSYS or the error). */
  onUnknownSyscall?: (syscallNumber: number) => void;
  /** The file system the guest sees; without one it has only stdin, stdout and stderr. */
  fileSystem?: GuestFileSystemOptions;
  /** What readlink("/proc/self/exe") returns (the host's absolute path of the program, as on Linux). */
  executablePath?: string;
}

const SYS_EXIT = 93;
const SYS_EXIT_GROUP = 94;
const PIPE_FLAGS = BigInt(O_CLOEXEC | O_NONBLOCK);

/**
 * Linux system calls (RISC-V numbering) for statically linked glibc, newlib, picolibc or musl
 * guests, one concern per module under linux/: the memory map, descriptors and their I/O, the
 * sandboxed file system, clocks, system information, signals and threads. Every guest buffer
 * is checked (GuestMemory): outside the guest's mappings a call returns -EFAULT.
 */
export class LinuxSyscalls implements SyscallHandler {
  private readonly memory: GuestMemory;
  private readonly fds = new FdTable();
  private readonly memoryMap: MemoryMap;
  private readonly io: FileIo;
  private readonly fileSystem: FileSystem;
  private readonly clock: GuestClock;
  private readonly system: SystemInfo;
  private readonly signals: Signals;
  private readonly unknownSeen = new Set<number>();

  /**
   * System calls on `space`, with the program break starting at `breakStart` (page-aligned) and input and
   * output through `io`.
   */
  constructor(
    space: AddressSpace,
    breakStart: bigint,
    guestIo: GuestIo,
    private readonly options: SyscallOptions = {},
  ) {
    this.memory = new GuestMemory(space);
    this.fds.install(new InputStream(guestIo.stdin), false);
    this.fds.install(new OutputStream((bytes) => guestIo.write(1, bytes), 1), false);
    this.fds.install(new OutputStream((bytes) => guestIo.write(2, bytes), 2), false);
    this.memoryMap = new MemoryMap(this.memory, this.fds, breakStart);
    this.io = new FileIo(this.memory, this.fds);
    const sandbox = options.fileSystem === undefined ? undefined : new Sandbox(options.fileSystem.root, options.fileSystem.writable === true);
    this.fileSystem = new FileSystem(this.memory, this.fds, sandbox, options.executablePath ?? "/");
    this.clock = new GuestClock(this.memory);
    this.system = new SystemInfo(this.memory);
    this.signals = new Signals(this.memory);
  }

  /**
   * Runs the system call numbered in a7 with arguments in a0..a5; puts the result in a0, or returns true when
   * the guest exits or its time is up.
   */
  handle(hart: Hart): boolean {
    const result = this.dispatch(hart, Number(hart.register(IntegerRegister.A7)));
    if (result === STOP) return true;
    hart.setRegister(IntegerRegister.A0, result);
    return false;
  }

  /** Releases what the guest left open (host files of the sandbox). */
  close(): void {
    this.fds.closeAll();
  }

  /** The call's result for a0, or STOP. */
  private dispatch(hart: Hart, number: number): SyscallResult {
    const arg = (index: number): bigint => hart.register(IntegerRegister.A0 + index);
    const signedArg = (index: number): bigint => BigInt.asIntN(64, arg(index));
    // An int argument: Linux looks at the low 32 bits only (AT_FDCWD is -100 whatever the high half).
    const intArg = (index: number): bigint => BigInt.asIntN(32, arg(index));
    if (number === SYS_EXIT || number === SYS_EXIT_GROUP) {
      hart.exitCode = Number(arg(0) & 0xffn);
      return STOP;
    }
    // Also here, not only between data chunks: a guest looping on cheap calls stops in time too.
    if (hart.deadlinePassed()) return STOP;
    switch (number) {
      // Descriptors and their data.
      case 63: // read
        return this.io.read(hart, intArg(0), arg(1), arg(2));
      case 64: // write
        return this.io.write(hart, intArg(0), arg(1), arg(2));
      case 65: // readv
        return this.io.readv(hart, intArg(0), arg(1), signedArg(2));
      case 66: // writev
        return this.io.writev(hart, intArg(0), arg(1), signedArg(2));
      case 67: // pread64
        return this.io.read(hart, intArg(0), arg(1), arg(2), signedArg(3));
      case 68: // pwrite64
        return this.io.write(hart, intArg(0), arg(1), arg(2), signedArg(3));
      case 62: // lseek
        return this.io.lseek(intArg(0), signedArg(1), arg(2));
      case 29: // ioctl
        return this.io.ioctl(intArg(0));
      case 57: // close
        return this.fds.close(intArg(0));
      case 23: // dup
        return this.fds.dup(intArg(0));
      case 24: // dup3
        return this.fds.dup3(intArg(0), intArg(1), arg(2) & 0xffffffffn);
      case 25: // fcntl
        return this.fds.fcntl(intArg(0), intArg(1), arg(2));
      case 59: // pipe2
        return this.pipe2(arg(0), arg(1) & 0xffffffffn);
      // Paths, in the sandbox.
      case 56: // openat
        return this.fileSystem.openat(intArg(0), arg(1), arg(2));
      case 80: // fstat
        return this.fileSystem.fstat(intArg(0), arg(1));
      case 79: // newfstatat
        return this.fileSystem.newfstatat(intArg(0), arg(1), arg(2), arg(3) & 0xffffffffn);
      case 291: // statx
        return this.fileSystem.statx(intArg(0), arg(1), arg(2) & 0xffffffffn, arg(4));
      case 61: // getdents64
        return this.fileSystem.getdents64(intArg(0), arg(1), arg(2) & 0xffffffffn);
      case 35: // unlinkat
        return this.fileSystem.unlinkat(intArg(0), arg(1), arg(2) & 0xffffffffn);
      case 34: // mkdirat
        return this.fileSystem.mkdirat(intArg(0), arg(1), arg(2));
      case 38: // renameat
        return this.fileSystem.renameat2(intArg(0), arg(1), intArg(2), arg(3), 0n);
      case 276: // renameat2
        return this.fileSystem.renameat2(intArg(0), arg(1), intArg(2), arg(3), arg(4) & 0xffffffffn);
      case 78: // readlinkat
        return this.fileSystem.readlinkat(intArg(0), arg(1), arg(2), arg(3));
      case 48: // faccessat
        return this.fileSystem.faccessat(intArg(0), arg(1), arg(2), 0n);
      case 439: // faccessat2
        return this.fileSystem.faccessat(intArg(0), arg(1), arg(2), arg(3));
      case 17: // getcwd
        return this.fileSystem.getcwd(arg(0), arg(1));
      case 49: // chdir
        return this.fileSystem.chdir(arg(0));
      case 46: // ftruncate
        return this.ftruncate(intArg(0), signedArg(1));
      case 82: // fsync
      case 83: // fdatasync
        return this.fsync(intArg(0));
      // Memory.
      case 214: // brk
        return this.memoryMap.brk(arg(0));
      case 222: // mmap
        return this.memoryMap.mmap(hart, arg(0), arg(1), arg(2), arg(3) & 0xffffffffn, intArg(4), arg(5));
      case 215: // munmap
        return this.memoryMap.munmap(arg(0), arg(1));
      case 226: // mprotect
        return this.memoryMap.mprotect(arg(0), arg(1), arg(2));
      case 216: // mremap
        return this.memoryMap.mremap(arg(0), arg(1), arg(2), arg(3));
      case 233: // madvise
        return this.memoryMap.madvise(arg(0), arg(1), intArg(2));
      // Time.
      case 113: // clock_gettime
        return this.clock.clockGettime(hart, arg(0), arg(1));
      case 114: // clock_getres
        return this.clock.clockGetres(arg(0), arg(1));
      case 169: // gettimeofday
        return this.clock.gettimeofday(hart, arg(0));
      case 101: // nanosleep
        return this.clock.nanosleep(hart, arg(0));
      case 115: // clock_nanosleep
        return this.clock.clockNanosleep(hart, arg(0), arg(1), arg(2));
      // The process and its machine.
      case 172: // getpid
      case 178: // gettid
      case 96: // set_tid_address: returns the caller's thread id
        return GUEST_PID;
      case 173: // getppid
        return 0n;
      case 174: // getuid
      case 175: // geteuid
      case 176: // getgid
      case 177: // getegid
        return 0n;
      case 160: // uname
        return this.system.uname(arg(0));
      case 261: // prlimit64
        return this.system.prlimit64(intArg(0), intArg(1), arg(2), arg(3));
      case 163: // getrlimit
        return this.system.prlimit64(0n, intArg(0), 0n, arg(1));
      case 179: // sysinfo
        return this.system.sysinfo(hart, arg(0));
      case 123: // sched_getaffinity
        return this.system.schedGetaffinity(intArg(0), arg(1), arg(2));
      case 124: // sched_yield
        return 0n;
      case 278: // getrandom
        return this.system.getrandom(hart, arg(0), arg(1), arg(2) & 0xffffffffn);
      // Signals and threads.
      case 134: // rt_sigaction
        return this.signals.rtSigaction(intArg(0), arg(1), arg(2), arg(3));
      case 135: // rt_sigprocmask
        return this.signals.rtSigprocmask(intArg(0), arg(1), arg(2), arg(3));
      case 132: // sigaltstack
        return this.signals.sigaltstack(arg(0), arg(1));
      case 98: // futex
        return this.signals.futex(hart, arg(0), arg(1) & 0xffffffffn, arg(2), arg(3));
      case 99: // set_robust_list
        return this.signals.setRobustList(arg(1));
      default:
        // rseq (293) among them: glibc goes on without it, as on an older kernel.
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

  /** Two descriptors, read end first, into an int[2]; nothing is installed if the array is bad. */
  private pipe2(fdsAddress: bigint, flags: bigint): bigint {
    if ((flags & ~PIPE_FLAGS) !== 0n) return -EINVAL;
    if (!this.memory.inGuestMemory(fdsAddress, 8n)) return -EFAULT;
    const pipe = new Pipe();
    const closeOnExec = (flags & BigInt(O_CLOEXEC)) !== 0n;
    const statusFlags = Number(flags) & O_NONBLOCK;
    const reader = this.fds.install(new PipeReader(pipe, statusFlags), closeOnExec);
    if (reader < 0n) return reader;
    const writer = this.fds.install(new PipeWriter(pipe, statusFlags), closeOnExec);
    if (writer < 0n) {
      this.fds.close(reader);
      return writer;
    }
    const bytes = new Uint8Array(8);
    const view = new DataView(bytes.buffer);
    view.setInt32(0, Number(reader), true);
    view.setInt32(4, Number(writer), true);
    const copied = this.memory.copyOut(fdsAddress, bytes);
    if (copied < 0n) {
      this.fds.close(reader);
      this.fds.close(writer);
    }
    return copied;
  }

  private ftruncate(fd: bigint, lengthBytes: bigint): bigint {
    const file = this.fds.get(fd);
    if (file === undefined) return -EBADF;
    if (lengthBytes < 0n) return -EINVAL;
    return file.truncate(lengthBytes);
  }

  private fsync(fd: bigint): bigint {
    const file = this.fds.get(fd);
    return file === undefined ? -EBADF : file.sync();
  }
}
