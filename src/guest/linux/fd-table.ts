import { EBADF, EINVAL, EMFILE } from "./errno.js";
import type { OpenFile } from "./open-file.js";

/** The most descriptors a guest may hold: RLIMIT_NOFILE as this emulator reports it. */
export const MAX_DESCRIPTORS = 1024;
export const O_CLOEXEC = 0o2000000;
const F_DUPFD = 0;
const F_GETFD = 1;
const F_SETFD = 2;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
const FD_CLOEXEC = 1;
/** The status flags F_SETFL may change (O_APPEND, O_NONBLOCK); the rest stay. */
const SETTABLE_STATUS_FLAGS = 0o2000 | 0o4000;

interface Descriptor {
  file: OpenFile;
  closeOnExec: boolean;
}

/** The guest's file descriptors: numbers to shared open file descriptions. */
export class FdTable {
  private readonly descriptors: (Descriptor | undefined)[] = [];

  get(fd: bigint): OpenFile | undefined {
    return fd >= 0n && fd < BigInt(this.descriptors.length) ? this.descriptors[Number(fd)]?.file : undefined;
  }

  /** Installs `file` at the lowest free number from `lowest` on; -EMFILE when none is free. */
  install(file: OpenFile, closeOnExec: boolean, lowest = 0): bigint {
    for (let fd = lowest; fd < MAX_DESCRIPTORS; fd++) {
      if (this.descriptors[fd] === undefined) {
        this.descriptors[fd] = { file, closeOnExec };
        return BigInt(fd);
      }
    }
    return -EMFILE;
  }

  close(fd: bigint): bigint {
    const file = this.get(fd);
    if (file === undefined) return -EBADF;
    this.descriptors[Number(fd)] = undefined;
    this.drop(file);
    return 0n;
  }

  dup(fd: bigint): bigint {
    const file = this.get(fd);
    if (file === undefined) return -EBADF;
    const installed = this.install(file, false);
    if (installed >= 0n) file.references++;
    return installed;
  }

  /** dup3: `newFd` (closed first if open) becomes a copy of `oldFd`; equal numbers are EINVAL. */
  dup3(oldFd: bigint, newFd: bigint, flags: bigint): bigint {
    const file = this.get(oldFd);
    if (file === undefined) return -EBADF;
    if ((flags & ~BigInt(O_CLOEXEC)) !== 0n || oldFd === newFd) return -EINVAL;
    if (newFd < 0n || newFd >= BigInt(MAX_DESCRIPTORS)) return -EBADF;
    const previous = this.descriptors[Number(newFd)];
    file.references++;
    this.descriptors[Number(newFd)] = { file, closeOnExec: flags !== 0n };
    if (previous !== undefined) this.drop(previous.file);
    return newFd;
  }

  fcntl(fd: bigint, command: bigint, argument: bigint): bigint {
    const file = this.get(fd);
    if (file === undefined) return -EBADF;
    const descriptor = this.descriptors[Number(fd)] as Descriptor;
    switch (Number(command)) {
      case F_DUPFD:
      case F_DUPFD_CLOEXEC: {
        if (argument < 0n || argument >= BigInt(MAX_DESCRIPTORS)) return -EINVAL;
        const installed = this.install(file, Number(command) === F_DUPFD_CLOEXEC, Number(argument));
        if (installed >= 0n) file.references++;
        return installed;
      }
      case F_GETFD:
        return descriptor.closeOnExec ? BigInt(FD_CLOEXEC) : 0n;
      case F_SETFD:
        descriptor.closeOnExec = (argument & BigInt(FD_CLOEXEC)) !== 0n;
        return 0n;
      case F_GETFL:
        return BigInt(file.statusFlags);
      case F_SETFL:
        file.statusFlags = (file.statusFlags & ~SETTABLE_STATUS_FLAGS) | (Number(argument & 0xffffffffn) & SETTABLE_STATUS_FLAGS);
        return 0n;
      default:
        return -EINVAL;
    }
  }

  /** Closes every descriptor (the run is over): host files are released. */
  closeAll(): void {
    for (let fd = 0; fd < this.descriptors.length; fd++) if (this.descriptors[fd] !== undefined) this.close(BigInt(fd));
  }

  private drop(file: OpenFile): void {
    file.references--;
    if (file.references === 0) file.release();
  }
}
