/**
 * Debug mode's block guards (HeapOptions.debug): a canary right after the caller's bytes and
 * their count in the block's last word, checked at free, realloc and usableSize, so a buffer
 * overrun is an error naming the block; freed blocks are poisoned. Off the fast paths: a
 * debug heap takes the checked paths only.
 */
import { HeapError } from "./heap-error.js";
import { Geometry } from "./heap-layout.js";
import type { HeapWords } from "./heap-words.js";

const CANARY = [0xc5, 0xa1, 0x7e, 0x5b];
/** The size record: the caller's byte count, in the block's last word. */
const SIZE_RECORD_BYTES = 4;
/** Bytes debug mode adds to every request: the canary and the size record. */
export const GUARD_BYTES = CANARY.length + SIZE_RECORD_BYTES;
/** What freed blocks are filled with in debug mode. */
const POISON = 0xdd;

/** Writes the canary after the caller's `sizeBytes` bytes of the fresh block at `address`, and the size record; `address` (0 stays 0). */
export function guard(core: HeapWords, address: number, sizeBytes: number): number {
  if (address === Geometry.Null) return Geometry.Null;
  const usable = core.rawUsable(core.blockHead(address));
  for (let i = 0; i < CANARY.length; i++) core.memory.store8(address + sizeBytes + i, CANARY[i]);
  core.setLink(address + usable - SIZE_RECORD_BYTES, sizeBytes);
  return address;
}

/** The size asked for, after checking the canary; a HeapError (nothing changed) if it was overwritten. */
export function checkGuard(core: HeapWords, address: number, page: number, what: string): number {
  const usable = core.rawUsable(page);
  const recordAddress = address + usable - SIZE_RECORD_BYTES;
  const sizeBytes = core.link(recordAddress);
  if (sizeBytes < 0 || sizeBytes > usable - GUARD_BYTES) {
    throw new HeapError(`${what}(${core.hex(address)}): buffer overrun: the block's size record at ${core.hex(recordAddress)} was overwritten`);
  }
  for (let i = 0; i < CANARY.length; i++) {
    if (core.memory.load8(address + sizeBytes + i) !== CANARY[i]) {
      throw new HeapError(`${what}(${core.hex(address)}): buffer overrun past the ${sizeBytes}-byte block: the canary at ${core.hex(address + sizeBytes)} was overwritten`);
    }
  }
  return sizeBytes;
}

/** Checks the guard of a block being freed, then fills it with POISON. */
export function poison(core: HeapWords, address: number, page: number): void {
  checkGuard(core, address, page, "free");
  core.memory.fill(address, core.rawUsable(page), POISON);
}
