/**
 * Debug mode's block guards (HeapOptions.debug): a canary right after the caller's bytes and
 * their count in the block's last word, checked at free, realloc and usableSize, so a buffer
 * overrun is an error naming the block; freed blocks are poisoned. Off the fast paths: a
 * debug heap takes the checked paths only.
 */
import { HeapChecks } from "./heap-check.js";
import { HeapError } from "./heap-error.js";
import { Geometry } from "./heap-layout.js";

const CANARY = [0xc5, 0xa1, 0x7e, 0x5b];
/** The size record: the caller's byte count, in the block's last word. */
const SIZE_RECORD_BYTES = 4;
/** Bytes debug mode adds to every request: the canary and the size record. */
export const GUARD_BYTES = CANARY.length + SIZE_RECORD_BYTES;
/** What freed blocks are filled with in debug mode. */
const POISON = 0xdd;

/** The layer of a heap core above its checks: debug mode's block guards. */
export class DebugGuards extends HeapChecks {
  /** Writes the canary after the caller's `sizeBytes` bytes of the fresh block at `address`, and the size record; `address` (0 stays 0). */
  protected guard(address: number, sizeBytes: number): number {
    if (address === Geometry.Null) return Geometry.Null;
    const usable = this.rawUsable(this.blockHead(address));
    for (let i = 0; i < CANARY.length; i++) this.memory.store8(address + sizeBytes + i, CANARY[i]);
    this.setLink(address + usable - SIZE_RECORD_BYTES, sizeBytes);
    return address;
  }

  /** The size asked for, after checking the canary; a HeapError (nothing changed) if it was overwritten. */
  protected checkGuard(address: number, page: number, what: string): number {
    const usable = this.rawUsable(page);
    const recordAddress = address + usable - SIZE_RECORD_BYTES;
    const sizeBytes = this.link(recordAddress);
    if (sizeBytes < 0 || sizeBytes > usable - GUARD_BYTES) {
      throw new HeapError(`${what}(${this.hex(address)}): buffer overrun: the block's size record at ${this.hex(recordAddress)} was overwritten`);
    }
    for (let i = 0; i < CANARY.length; i++) {
      if (this.memory.load8(address + sizeBytes + i) !== CANARY[i]) {
        throw new HeapError(`${what}(${this.hex(address)}): buffer overrun past the ${sizeBytes}-byte block: the canary at ${this.hex(address + sizeBytes)} was overwritten`);
      }
    }
    return sizeBytes;
  }

  /** Checks the guard of a block being freed, then fills it with POISON. */
  protected poison(address: number, page: number): void {
    this.checkGuard(address, page, "free");
    this.memory.fill(address, this.rawUsable(page), POISON);
  }
}
