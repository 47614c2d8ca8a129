import { closeSync, fdatasyncSync, writeSync } from "node:fs";
import { Random } from "../util/random.js";

/**
 * Where persistent state goes. Allocators and images keep their state in memory and
 * `persist` each range they change to its place in the file, then call `barrier()` where
 * order matters: everything written before a barrier is durable before anything written
 * after it. They never touch the file system themselves.
 */
export interface PersistMedium {
  /** Writes `bytes` at `fileOffset`; durable only after a later `barrier()`. */
  persist(fileOffset: number, bytes: Uint8Array): void;
  /** Makes every write before it durable before any write after it. */
  barrier(): void;
}

/** What a crash keeps: process death keeps every write (the page cache survives); power loss only what a barrier made durable. */
export type Durability = "process" | "power";

/**
 * A file: persist is pwrite; barrier is fdatasync (with durability "power"; with "process",
 * writes that reached the kernel survive a kill -9 and barrier costs nothing).
 */
export class FileMedium implements PersistMedium {
  /** A medium on the open file `fd`; it takes over the descriptor, which `close()` closes. */
  constructor(
    /** The open file descriptor. */
    readonly fd: number,
    /** "power": barriers call fdatasync; "process": barriers cost nothing, and only a kill -9 is survived. */
    readonly durability: Durability = "power",
  ) {}

  /** Writes all of `bytes` at `fileOffset` (pwrite, repeated until done). */
  persist(fileOffset: number, bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) done += writeSync(this.fd, bytes, done, bytes.length - done, fileOffset + done);
  }

  /** fdatasync with durability "power"; nothing with "process". */
  barrier(): void {
    if (this.durability === "power") fdatasyncSync(this.fd);
  }

  /** Closes the file descriptor. */
  close(): void {
    closeSync(this.fd);
  }
}

/** Power-loss simulation granularity: a CPU cache line. */
export const LINE_BYTES = 64;

/**
 * Test mode, as Yat and Jaaru do for persistent-memory code: written lines stay pending (a
 * snapshot of each 64-byte line as the write left it) until a barrier makes them durable.
 * `crash(seed)` returns the durable bytes plus an arbitrary seeded subset of the pending
 * line writes, applied in program order: a state a power loss could leave.
 */
export class SimulatedMedium implements PersistMedium {
  private latest: Uint8Array;
  private durableBytes: Uint8Array;
  private durableLength: number;
  private latestLength: number;
  private pendingLines: number[] = [];
  private pendingBytes: Uint8Array[] = [];
  /** Number of `persist` calls so far. */
  writes = 0;
  /** Number of `barrier` calls so far. */
  barriers = 0;
  /** Test hook, called before every persist and barrier (a crash injector throws from it). */
  beforeEach: (() => void) | null = null;

  /** A medium whose durable contents start as a copy of `initial`. */
  constructor(initial: Uint8Array = new Uint8Array(0)) {
    this.latest = initial.slice();
    this.durableBytes = initial.slice();
    this.durableLength = initial.length;
    this.latestLength = initial.length;
  }

  /** Records the write and its 64-byte lines as pending; runs `beforeEach` first. */
  persist(fileOffset: number, bytes: Uint8Array): void {
    if (this.beforeEach !== null) this.beforeEach();
    this.writes++;
    const end = fileOffset + bytes.length;
    this.latest = grown(this.latest, end);
    this.latest.set(bytes, fileOffset);
    this.latestLength = Math.max(this.latestLength, end);
    for (let line = Math.floor(fileOffset / LINE_BYTES); line * LINE_BYTES < end; line++) {
      this.pendingLines.push(line);
      this.pendingBytes.push(this.latest.slice(line * LINE_BYTES, (line + 1) * LINE_BYTES));
    }
  }

  /** Makes every pending line durable; runs `beforeEach` first. */
  barrier(): void {
    if (this.beforeEach !== null) this.beforeEach();
    this.barriers++;
    for (let i = 0; i < this.pendingLines.length; i++) this.applyLine(i);
    this.pendingLines = [];
    this.pendingBytes = [];
    this.durableLength = this.latestLength;
  }

  /** What survives if the power stays on: everything written. */
  get contents(): Uint8Array {
    return this.latest.slice(0, this.latestLength);
  }

  /** The bytes a power loss now could leave: durable lines plus a seeded subset of pending ones. */
  crash(seed: number): Uint8Array {
    const random = new Random(seed);
    const saved = this.durableBytes.slice();
    let length = this.durableLength;
    for (let i = 0; i < this.pendingLines.length; i++) {
      if (random.below(2) === 1) {
        this.applyLine(i);
        length = Math.max(length, Math.min(this.latestLength, (this.pendingLines[i] + 1) * LINE_BYTES));
      }
    }
    const image = this.durableBytes.slice(0, length);
    this.durableBytes = saved;
    return image;
  }

  private applyLine(index: number): void {
    const offset = this.pendingLines[index] * LINE_BYTES;
    this.durableBytes = grown(this.durableBytes, offset + LINE_BYTES);
    this.durableBytes.set(this.pendingBytes[index], offset);
  }
}

function grown(bytes: Uint8Array, length: number): Uint8Array {
  if (bytes.length >= length) return bytes;
  const bigger = new Uint8Array(Math.max(length, bytes.length * 2));
  bigger.set(bytes);
  return bigger;
}
