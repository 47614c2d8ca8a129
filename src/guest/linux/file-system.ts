import { constants, fstatSync, lstatSync, mkdirSync, openSync, closeSync, readlinkSync, renameSync, rmdirSync, unlinkSync, accessSync } from "node:fs";
import { join } from "node:path";
import { EACCES, EBADF, EBUSY, EEXIST, EFAULT, EINVAL, EISDIR, ELOOP, ENOENT, ENOTDIR, ERANGE, EROFS, hostErrno } from "./errno.js";
import { O_CLOEXEC, type FdTable } from "./fd-table.js";
import { TRANSFER_CHUNK_BYTES, type GuestMemory } from "./guest-memory.js";
import { HostDirectory, HostFile, O_ACCMODE, O_APPEND, O_NONBLOCK, O_RDONLY, O_RDWR, O_WRONLY, type OpenFile } from "./open-file.js";
import type { ResolvedPath, Sandbox } from "./sandbox.js";
import { encodeStat, encodeStatx, fromHostStats, type FileStatus } from "./stat.js";

const AT_FDCWD = -100n;
const AT_SYMLINK_NOFOLLOW = 0x100n;
const AT_REMOVEDIR = 0x200n;
const AT_EMPTY_PATH = 0x1000n;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_DIRECTORY = 0o200000;
const O_NOFOLLOW = 0o400000;
const O_PATH = 0o10000000;
const O_TMPFILE = 0o20000000;
const RENAME_NOREPLACE = 1n;
const W_OK = 2;
const PROC_SELF_EXE = "/proc/self/exe";
const DIRENT_HEADER_BYTES = 19;
const textDecoder = new TextDecoder();
const textEncoder = new TextEncoder();

/**
 * The path system calls, confined to the sandbox (without one, every path is ENOENT, and the
 * guest has its standard streams only). The guest's working directory starts at "/", the
 * sandbox's root; /proc/self/exe reads as the program's host path, as on Linux.
 */
export class FileSystem {
  private cwd = "/";

  constructor(
    private readonly memory: GuestMemory,
    private readonly fds: FdTable,
    private readonly sandbox: Sandbox | undefined,
    private readonly executablePath: string,
  ) {}

  openat(dirFd: bigint, pathAddress: bigint, flagBits: bigint): bigint {
    const flags = Number(flagBits & 0xffffffffn);
    if ((flags & (O_PATH | O_TMPFILE)) !== 0) return -EINVAL;
    const resolved = this.lookup(dirFd, pathAddress, (flags & O_NOFOLLOW) === 0 && (flags & (O_CREAT | O_EXCL)) !== (O_CREAT | O_EXCL));
    if (typeof resolved === "bigint") return resolved;
    const sandbox = this.sandbox as Sandbox;
    const access = flags & O_ACCMODE;
    const writing = access !== O_RDONLY || (flags & O_TRUNC) !== 0;
    if (!resolved.exists) {
      if ((flags & O_CREAT) === 0) return -ENOENT;
      if (!sandbox.writable) return -EROFS;
    } else {
      if ((flags & O_CREAT) !== 0 && (flags & O_EXCL) !== 0) return -EEXIST;
      if (resolved.isSymbolicLink) return -ELOOP;
      if (resolved.isDirectory) {
        if (access !== O_RDONLY || (flags & O_CREAT) !== 0) return -EISDIR;
        return this.openDirectory(resolved, (flags & O_CLOEXEC) !== 0);
      }
      if ((flags & O_DIRECTORY) !== 0) return -ENOTDIR;
      // Devices, FIFOs and sockets stay out: opening one could block or reach the host's hardware.
      if (!resolved.isRegularFile) return -EACCES;
      if (writing && !sandbox.writable) return -EROFS;
    }
    const hostAccess = access === O_WRONLY ? constants.O_WRONLY : access === O_RDWR ? constants.O_RDWR : constants.O_RDONLY;
    let hostFlags = hostAccess | constants.O_NOFOLLOW | constants.O_NONBLOCK;
    if ((flags & O_CREAT) !== 0) hostFlags |= constants.O_CREAT;
    if ((flags & O_EXCL) !== 0) hostFlags |= constants.O_EXCL;
    if ((flags & O_TRUNC) !== 0) hostFlags |= constants.O_TRUNC;
    const hostFd = this.openChecked(resolved.hostPath, hostFlags, 0o666, false);
    if (hostFd < 0) return BigInt(hostFd);
    return this.fds.install(new HostFile(hostFd, access | (flags & (O_APPEND | O_NONBLOCK))), (flags & O_CLOEXEC) !== 0);
  }

  fstat(fd: bigint, buffer: bigint): bigint {
    const file = this.fds.get(fd);
    if (file === undefined) return -EBADF;
    return this.memory.copyOut(buffer, encodeStat(file.status()));
  }

  /** newfstatat and statx: a path's status, or the descriptor's with AT_EMPTY_PATH and "". */
  statAt(dirFd: bigint, pathAddress: bigint, flags: bigint, buffer: bigint, encode: (status: FileStatus) => Uint8Array): bigint {
    const path = this.memory.readPath(pathAddress);
    if (typeof path === "bigint") return path;
    let status: FileStatus;
    if (path.length === 0 && (flags & AT_EMPTY_PATH) !== 0n) {
      const file = dirFd === AT_FDCWD ? undefined : this.fds.get(dirFd);
      if (file === undefined && dirFd !== AT_FDCWD) return -EBADF;
      if (file !== undefined) status = file.status();
      else {
        const here = this.resolve(dirFd, ".", true);
        if (typeof here === "bigint") return here;
        status = fromHostStats(lstatSync(here.hostPath, { bigint: true }));
      }
    } else {
      const resolved = this.resolve(dirFd, textDecoder.decode(path), (flags & AT_SYMLINK_NOFOLLOW) === 0n);
      if (typeof resolved === "bigint") return resolved;
      if (!resolved.exists) return -ENOENT;
      status = fromHostStats(lstatSync(resolved.hostPath, { bigint: true }));
    }
    return this.memory.copyOut(buffer, encode(status));
  }

  newfstatat(dirFd: bigint, pathAddress: bigint, buffer: bigint, flags: bigint): bigint {
    return this.statAt(dirFd, pathAddress, flags, buffer, encodeStat);
  }

  statx(dirFd: bigint, pathAddress: bigint, flags: bigint, buffer: bigint): bigint {
    return this.statAt(dirFd, pathAddress, flags, buffer, encodeStatx);
  }

  /** Directory entries (struct linux_dirent64) from the descriptor's position, as many as fit. */
  getdents64(fd: bigint, buffer: bigint, count: bigint): bigint {
    const file = this.fds.get(fd);
    if (file === undefined) return -EBADF;
    if (!(file instanceof HostDirectory)) return -ENOTDIR;
    if (!this.memory.belowLimit(buffer, count)) return -EFAULT;
    const out = new Uint8Array(count < BigInt(TRANSFER_CHUNK_BYTES) ? Number(count) : TRANSFER_CHUNK_BYTES);
    const view = new DataView(out.buffer);
    const entries = file.listing();
    let used = 0;
    let position = file.position;
    for (; position < entries.length; position++) {
      const entry = entries[position];
      const name = textEncoder.encode(entry.name);
      const recordBytes = (DIRENT_HEADER_BYTES + name.length + 1 + 7) & ~7;
      if (used + recordBytes > out.length) {
        if (used === 0) return -EINVAL;
        break;
      }
      const inode = entry.inode !== 0n ? entry.inode : this.entryInode(file.hostPath, entry.name);
      view.setBigUint64(used, inode, true);
      view.setBigInt64(used + 8, BigInt(position + 1), true);
      view.setUint16(used + 16, recordBytes, true);
      out[used + 18] = entry.type;
      out.set(name, used + DIRENT_HEADER_BYTES);
      used += recordBytes;
    }
    const copied = this.memory.copyOut(buffer, out.subarray(0, used));
    if (copied < 0n) return copied;
    file.position = position;
    return BigInt(used);
  }

  unlinkat(dirFd: bigint, pathAddress: bigint, flags: bigint): bigint {
    if ((flags & ~AT_REMOVEDIR) !== 0n) return -EINVAL;
    const removeDirectory = (flags & AT_REMOVEDIR) !== 0n;
    const resolved = this.lookupForChange(dirFd, pathAddress, removeDirectory ? -EINVAL : -EISDIR);
    if (typeof resolved === "bigint") return resolved;
    if (!resolved.exists) return -ENOENT;
    try {
      if (removeDirectory) rmdirSync(resolved.hostPath);
      else unlinkSync(resolved.hostPath);
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  mkdirat(dirFd: bigint, pathAddress: bigint, mode: bigint): bigint {
    const resolved = this.lookupForChange(dirFd, pathAddress, -EEXIST);
    if (typeof resolved === "bigint") return resolved;
    if (resolved.exists) return -EEXIST;
    try {
      mkdirSync(resolved.hostPath, Number(mode & 0o777n));
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  /** renameat2 with flags 0 or RENAME_NOREPLACE (RENAME_EXCHANGE and the rest: EINVAL). */
  renameat2(oldDirFd: bigint, oldPathAddress: bigint, newDirFd: bigint, newPathAddress: bigint, flags: bigint): bigint {
    if ((flags & ~RENAME_NOREPLACE) !== 0n) return -EINVAL;
    const from = this.lookupForChange(oldDirFd, oldPathAddress, -EBUSY);
    if (typeof from === "bigint") return from;
    const to = this.lookupForChange(newDirFd, newPathAddress, -EBUSY);
    if (typeof to === "bigint") return to;
    if (!from.exists) return -ENOENT;
    if (to.exists && flags === RENAME_NOREPLACE) return -EEXIST;
    try {
      renameSync(from.hostPath, to.hostPath);
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  /** The link's target, not NUL-terminated, cut to the buffer; /proc/self/exe is the program's path. */
  readlinkat(dirFd: bigint, pathAddress: bigint, buffer: bigint, sizeBytes: bigint): bigint {
    if (BigInt.asIntN(32, sizeBytes) <= 0n) return -EINVAL;
    const path = this.memory.readPath(pathAddress);
    if (typeof path === "bigint") return path;
    const text = textDecoder.decode(path);
    let target: Uint8Array;
    if (text === PROC_SELF_EXE) target = textEncoder.encode(this.executablePath);
    else {
      const resolved = this.resolve(dirFd, text, false);
      if (typeof resolved === "bigint") return resolved;
      if (!resolved.exists) return -ENOENT;
      if (!resolved.isSymbolicLink) return -EINVAL;
      target = readlinkSync(resolved.hostPath, { encoding: "buffer" });
    }
    const bytes = target.subarray(0, Number(sizeBytes < BigInt(target.length) ? sizeBytes : BigInt(target.length)));
    const copied = this.memory.copyOut(buffer, bytes);
    return copied < 0n ? copied : BigInt(bytes.length);
  }

  /** faccessat: existence, and EROFS for W_OK in a read-only sandbox; the host's permission bits otherwise. */
  faccessat(dirFd: bigint, pathAddress: bigint, mode: bigint, flags: bigint): bigint {
    const resolved = this.lookup(dirFd, pathAddress, (flags & AT_SYMLINK_NOFOLLOW) === 0n);
    if (typeof resolved === "bigint") return resolved;
    if (!resolved.exists) return -ENOENT;
    if ((Number(mode) & W_OK) !== 0 && !(this.sandbox as Sandbox).writable) return -EROFS;
    try {
      accessSync(resolved.hostPath, Number(mode & 7n));
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  /** The length written, with its NUL, as the system call (not libc) returns it. */
  getcwd(buffer: bigint, sizeBytes: bigint): bigint {
    const bytes = textEncoder.encode(this.cwd + "\0");
    if (sizeBytes < BigInt(bytes.length)) return -ERANGE;
    const copied = this.memory.copyOut(buffer, bytes);
    return copied < 0n ? copied : BigInt(bytes.length);
  }

  chdir(pathAddress: bigint): bigint {
    const resolved = this.lookup(AT_FDCWD, pathAddress, true);
    if (typeof resolved === "bigint") return resolved;
    if (!resolved.exists) return -ENOENT;
    if (!resolved.isDirectory) return -ENOTDIR;
    this.cwd = resolved.guestPath;
    return 0n;
  }

  /** The guest path at `pathAddress`, resolved from `dirFd` in the sandbox. */
  private lookup(dirFd: bigint, pathAddress: bigint, followLast: boolean): ResolvedPath | bigint {
    const path = this.memory.readPath(pathAddress);
    if (typeof path === "bigint") return path;
    return this.resolve(dirFd, textDecoder.decode(path), followLast);
  }

  /**
   * For unlink, mkdir and rename: the last component is not followed, and must be a name:
   * "." or ".." there (or the root itself) gets `dotError`; a read-only sandbox gets EROFS.
   */
  private lookupForChange(dirFd: bigint, pathAddress: bigint, dotError: bigint): ResolvedPath | bigint {
    const path = this.memory.readPath(pathAddress);
    if (typeof path === "bigint") return path;
    const text = textDecoder.decode(path);
    const resolved = this.resolve(dirFd, text, false);
    if (typeof resolved === "bigint") return resolved;
    const lastName = text.split("/").filter((part) => part.length > 0).pop();
    if (lastName === undefined || lastName === "." || lastName === ".." || resolved.guestPath === "/") return dotError;
    if (!(this.sandbox as Sandbox).writable) return -EROFS;
    return resolved;
  }

  private resolve(dirFd: bigint, path: string, followLast: boolean): ResolvedPath | bigint {
    if (this.sandbox === undefined) return -ENOENT;
    let base = this.cwd;
    if (!path.startsWith("/") && dirFd !== AT_FDCWD) {
      const file: OpenFile | undefined = this.fds.get(dirFd);
      if (file === undefined) return -EBADF;
      if (!(file instanceof HostDirectory)) return -ENOTDIR;
      base = file.guestPath;
    }
    return this.sandbox.resolve(base, path, followLast);
  }

  private openDirectory(resolved: ResolvedPath, closeOnExec: boolean): bigint {
    const hostFd = this.openChecked(resolved.hostPath, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW, 0, true);
    if (hostFd < 0) return BigInt(hostFd);
    return this.fds.install(new HostDirectory(hostFd, resolved.hostPath, resolved.guestPath), closeOnExec);
  }

  /**
   * Opens a host path resolve() produced, then checks what was opened: a regular file (or
   * directory) whose real path, as the kernel reports it, lies in the sandbox. A host
   * process swapping a component for a symbolic link between lookup and open cannot lead
   * the guest out. Returns the host descriptor or a negated errno (as a number).
   */
  private openChecked(hostPath: string, hostFlags: number, mode: number, directory: boolean): number {
    let hostFd: number;
    try {
      hostFd = openSync(hostPath, hostFlags, mode);
    } catch (error) {
      return Number(hostErrno(error));
    }
    try {
      const stats = fstatSync(hostFd);
      const real = readlinkSync(`/proc/self/fd/${hostFd}`);
      if ((directory ? stats.isDirectory() : stats.isFile()) && (this.sandbox as Sandbox).contains(real)) return hostFd;
    } catch (error) {
      closeSync(hostFd);
      return Number(hostErrno(error));
    }
    closeSync(hostFd);
    return Number(-EACCES);
  }

  private entryInode(directory: string, name: string): bigint {
    try {
      return lstatSync(join(directory, name), { bigint: true }).ino;
    } catch {
      return 1n;
    }
  }
}
