import { closeSync, fstatSync, fsyncSync, ftruncateSync, readdirSync, readSync, writeSync } from "node:fs";
import { EAGAIN, EBADF, EINVAL, EISDIR, EPIPE, ESPIPE, hostErrno } from "./errno.js";
import { fromHostStats, S_IFCHR, S_IFIFO, syntheticStatus, type FileStatus } from "./stat.js";

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_RDWR = 2;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
/** A terminal-like character device's mode, as stdin, stdout and stderr report it. */
const STDIO_MODE = S_IFCHR | 0o620;

/** One entry of a directory listing, as getdents64 hands it out. */
export interface DirectoryEntry {
  name: string;
  inode: bigint;
  /** DT_* type. */
  type: number;
}

/**
 * An open file description (what dup shares): the guest's standard streams, a sandboxed
 * host file or directory, or a pipe end. Results are byte counts or negated errnos.
 */
export abstract class OpenFile {
  /** Descriptors referring to this description; the host side is released at zero. */
  references = 1;
  constructor(public statusFlags: number) {}

  get readable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_WRONLY;
  }

  get writable(): boolean {
    return (this.statusFlags & O_ACCMODE) !== O_RDONLY;
  }

  /** Reads into `into` at `position`, or at (and advancing) the file offset if null. */
  read(_into: Uint8Array, _position: bigint | null): number | bigint {
    return -EINVAL;
  }

  write(_from: Uint8Array, _position: bigint | null): number | bigint {
    return -EINVAL;
  }

  /** Whether a read at `position` (or the file offset) would find bytes: a read into a bad buffer faults only then. */
  hasData(_position: bigint | null): boolean {
    return true;
  }

  seek(_offset: bigint, _whence: number): bigint {
    return -ESPIPE;
  }

  abstract status(): FileStatus;

  truncate(_lengthBytes: bigint): bigint {
    return -EINVAL;
  }

  sync(): bigint {
    return 0n;
  }

  release(): void {}
}

/**
 * A guest's standard input: bytes read from the start, or a reader that fills `into` with
 * what it has (waiting for some if need be) and returns the count, 0 at the end.
 */
export type GuestInput = Uint8Array | ((into: Uint8Array) => number);

/** The guest's standard input (GuestInput), read once from the start. */
export class InputStream extends OpenFile {
  private offset = 0;
  constructor(private readonly source: GuestInput) {
    super(O_RDONLY);
  }

  override read(into: Uint8Array, position: bigint | null): number | bigint {
    if (position !== null) return -ESPIPE;
    if (typeof this.source === "function") return into.length === 0 ? 0 : this.source(into);
    const count = Math.min(into.length, this.source.length - this.offset);
    into.set(this.source.subarray(this.offset, this.offset + count));
    this.offset += count;
    return count;
  }

  /** A reader's stream may have more to come: it counts as having data. */
  override hasData(): boolean {
    return typeof this.source === "function" || this.offset < this.source.length;
  }

  status(): FileStatus {
    return syntheticStatus(STDIO_MODE, 0n);
  }
}

/** Standard output or error: bytes go to the run's writer. */
export class OutputStream extends OpenFile {
  constructor(
    private readonly sink: (bytes: Uint8Array) => void,
    readonly stream: 1 | 2,
  ) {
    super(O_WRONLY);
  }

  override write(from: Uint8Array, position: bigint | null): number | bigint {
    if (position !== null) return -ESPIPE;
    this.sink(from);
    return from.length;
  }

  status(): FileStatus {
    return syntheticStatus(STDIO_MODE, BigInt(this.stream));
  }
}

/** A regular file of the sandbox, open on the host; the offset is kept here (positioned host I/O). */
export class HostFile extends OpenFile {
  private offset = 0n;
  constructor(
    private readonly hostFd: number,
    statusFlags: number,
  ) {
    super(statusFlags);
  }

  override read(into: Uint8Array, position: bigint | null): number | bigint {
    if (!this.readable) return -EBADF;
    try {
      const count = readSync(this.hostFd, into, 0, into.length, position ?? this.offset);
      if (position === null) this.offset += BigInt(count);
      return count;
    } catch (error) {
      return hostErrno(error);
    }
  }

  override hasData(position: bigint | null): boolean {
    return (position ?? this.offset) < this.status().sizeBytes;
  }

  override write(from: Uint8Array, position: bigint | null): number | bigint {
    if (!this.writable) return -EBADF;
    try {
      // As Linux: an O_APPEND write goes to the end, even a pwrite.
      const appending = (this.statusFlags & O_APPEND) !== 0;
      const at = appending ? fstatSync(this.hostFd, { bigint: true }).size : (position ?? this.offset);
      const count = writeSync(this.hostFd, from, 0, from.length, Number(at));
      if (position === null || appending) this.offset = at + BigInt(count);
      return count;
    } catch (error) {
      return hostErrno(error);
    }
  }

  override seek(offset: bigint, whence: number): bigint {
    let base: bigint;
    if (whence === SEEK_SET) base = 0n;
    else if (whence === SEEK_CUR) base = this.offset;
    else if (whence === SEEK_END) base = this.status().sizeBytes;
    else return -EINVAL;
    const target = base + offset;
    if (target < 0n || target > (1n << 63n) - 1n) return -EINVAL;
    this.offset = target;
    return target;
  }

  status(): FileStatus {
    return fromHostStats(fstatSync(this.hostFd, { bigint: true }));
  }

  override truncate(lengthBytes: bigint): bigint {
    if (!this.writable) return -EINVAL;
    try {
      ftruncateSync(this.hostFd, Number(lengthBytes));
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  override sync(): bigint {
    try {
      fsyncSync(this.hostFd);
      return 0n;
    } catch (error) {
      return hostErrno(error);
    }
  }

  override release(): void {
    closeSync(this.hostFd);
  }
}

/** A directory of the sandbox: getdents64 lists it (read once, at the first call, with . and ..). */
export class HostDirectory extends OpenFile {
  /** The next entry getdents64 hands out. */
  position = 0;
  private entries: DirectoryEntry[] | undefined;
  constructor(
    private readonly hostFd: number,
    /** Its path on the host (already checked to lie in the sandbox) and in the guest's view. */
    readonly hostPath: string,
    readonly guestPath: string,
  ) {
    super(O_RDONLY);
  }

  override read(): bigint {
    return -EISDIR;
  }

  override seek(offset: bigint, whence: number): bigint {
    if (whence !== SEEK_SET || offset < 0n) return -EINVAL;
    this.position = Number(offset);
    return offset;
  }

  listing(): DirectoryEntry[] {
    if (this.entries === undefined) {
      const own = this.status().inode;
      this.entries = [
        { name: ".", inode: own, type: DT_DIR },
        { name: "..", inode: own, type: DT_DIR },
      ];
      for (const entry of readdirSync(this.hostPath, { withFileTypes: true })) {
        this.entries.push({ name: entry.name, inode: 0n, type: direntType(entry) });
      }
    }
    return this.entries;
  }

  status(): FileStatus {
    return fromHostStats(fstatSync(this.hostFd, { bigint: true }));
  }

  override release(): void {
    closeSync(this.hostFd);
  }
}

const DT_FIFO = 1;
const DT_CHR = 2;
const DT_DIR = 4;
const DT_REG = 8;
const DT_LNK = 10;
const DT_UNKNOWN = 0;

function direntType(entry: { isFIFO(): boolean; isCharacterDevice(): boolean; isDirectory(): boolean; isFile(): boolean; isSymbolicLink(): boolean }): number {
  if (entry.isFile()) return DT_REG;
  if (entry.isDirectory()) return DT_DIR;
  if (entry.isSymbolicLink()) return DT_LNK;
  if (entry.isFIFO()) return DT_FIFO;
  if (entry.isCharacterDevice()) return DT_CHR;
  return DT_UNKNOWN;
}

/** A pipe's buffer, shared by its two ends. */
export class Pipe {
  chunks: Uint8Array[] = [];
  readers = 1;
  writers = 1;
}

/** Either end of a pipe: a FIFO to fstat. */
abstract class PipeEnd extends OpenFile {
  constructor(
    readonly pipe: Pipe,
    statusFlags: number,
  ) {
    super(statusFlags);
  }

  status(): FileStatus {
    return syntheticStatus(S_IFIFO | 0o600, 0n);
  }
}

/**
 * The read end. The guest is single-threaded: an empty pipe with a writer left would block
 * for ever, so it returns EAGAIN instead (as with O_NONBLOCK); with no writer, end of file.
 */
export class PipeReader extends PipeEnd {
  constructor(pipe: Pipe, statusFlags: number) {
    super(pipe, O_RDONLY | statusFlags);
  }

  override read(into: Uint8Array, position: bigint | null): number | bigint {
    if (position !== null) return -ESPIPE;
    let count = 0;
    while (count < into.length && this.pipe.chunks.length > 0) {
      const chunk = this.pipe.chunks[0];
      const take = Math.min(chunk.length, into.length - count);
      into.set(chunk.subarray(0, take), count);
      count += take;
      if (take === chunk.length) this.pipe.chunks.shift();
      else this.pipe.chunks[0] = chunk.subarray(take);
    }
    if (count === 0 && into.length > 0 && this.pipe.writers > 0) return -EAGAIN;
    return count;
  }

  override hasData(): boolean {
    return this.pipe.chunks.length > 0;
  }

  override release(): void {
    this.pipe.readers--;
  }
}

/** No pipe holds more than this: Linux's default capacity. Beyond it a write gets EAGAIN. */
const PIPE_CAPACITY_BYTES = 65536;

/** The write end: bytes wait in the pipe (up to its capacity); with no reader left, EPIPE. */
export class PipeWriter extends PipeEnd {
  constructor(pipe: Pipe, statusFlags: number) {
    super(pipe, O_WRONLY | statusFlags);
  }

  override write(from: Uint8Array, position: bigint | null): number | bigint {
    if (position !== null) return -ESPIPE;
    if (this.pipe.readers === 0) return -EPIPE;
    const held = this.pipe.chunks.reduce((sum, chunk) => sum + chunk.length, 0);
    const count = Math.min(from.length, PIPE_CAPACITY_BYTES - held);
    if (count === 0 && from.length > 0) return -EAGAIN;
    this.pipe.chunks.push(from.slice(0, count));
    return count;
  }

  override release(): void {
    this.pipe.writers--;
  }
}
