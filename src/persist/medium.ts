import { closeSync, fdatasyncSync, writeSync } from "node:fs";
import { Random } from "../util/random.js";

/**
 * Where persistent state goes. Allocators and images keep their state in memory and call
 * `persist(offset, length)` for each range they change (so it reaches the file) and
 * `barrier()` where order matters: everything persisted before a barrier is durable before
 * anything persisted after it. They never touch the file system themselves.
 */
export interface PersistMedium {
  persist(byteOffset: number, lengthBytes: number): void;
  barrier(): void;
}

/** What a crash keeps: process death keeps every write (the page cache survives); power loss only what a barrier made durable. */
export type Durability = "process" | "power";

/**
 * A file that mirrors an in-memory image byte for byte: persist writes the range at the
 * same offset; barrier is fdatasync (with durability "power"; with "process", writes that
 * reached the kernel survive a kill -9 and barrier costs nothing).
 */
export class FileMedium implements PersistMedium {
  constructor(
    readonly fd: number,
    private readonly image: Uint8Array,
    readonly durability: Durability = "power",
  ) {}

  persist(byteOffset: number, lengthBytes: number): void {
    let done = 0;
    while (done < lengthBytes) done += writeSync(this.fd, this.image, byteOffset + done, lengthBytes - done, byteOffset + done);
  }

  barrier(): void {
    if (this.durability === "power") fdatasyncSync(this.fd);
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Power-loss simulation granularity: a CPU cache line. */
export const LINE_BYTES = 64;

/**
 * Test mode, as Yat and Jaaru do for persistent-memory code: persisted lines stay pending
 * (a snapshot of each 64-byte line at the time of its persist) until a barrier makes them
 * durable. `crash(seed)` returns the durable image plus an arbitrary seeded subset of the
 * pending line writes, applied in program order: a state a power loss could leave.
 */
export class SimulatedMedium implements PersistMedium {
  readonly durable: Uint8Array;
  private pendingLines: number[] = [];
  private pendingBytes: Uint8Array[] = [];
  persists = 0;
  barriers = 0;
  /** Test hook, called before every persist and barrier (a crash injector throws from it). */
  beforeEach: (() => void) | null = null;

  constructor(private readonly image: Uint8Array) {
    this.durable = image.slice();
  }

  persist(byteOffset: number, lengthBytes: number): void {
    if (this.beforeEach !== null) this.beforeEach();
    this.persists++;
    const first = Math.floor(byteOffset / LINE_BYTES);
    const last = Math.floor((byteOffset + lengthBytes - 1) / LINE_BYTES);
    for (let line = first; line <= last; line++) {
      this.pendingLines.push(line);
      this.pendingBytes.push(this.image.slice(line * LINE_BYTES, (line + 1) * LINE_BYTES));
    }
  }

  barrier(): void {
    if (this.beforeEach !== null) this.beforeEach();
    this.barriers++;
    for (let i = 0; i < this.pendingLines.length; i++) this.durable.set(this.pendingBytes[i], this.pendingLines[i] * LINE_BYTES);
    this.pendingLines = [];
    this.pendingBytes = [];
  }

  get pendingCount(): number {
    return this.pendingLines.length;
  }

  /** The image a power loss now could leave: durable lines plus a seeded subset of pending ones. */
  crash(seed: number): Uint8Array {
    const random = new Random(seed);
    const image = this.durable.slice();
    for (let i = 0; i < this.pendingLines.length; i++) {
      if (random.below(2) === 1) image.set(this.pendingBytes[i], this.pendingLines[i] * LINE_BYTES);
    }
    return image;
  }
}
