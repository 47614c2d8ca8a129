import type { SyncHook } from "../sync-hook.js";
import { lowestBit } from "../../../util/bits.js";

/**
 * A flat atomic bitfield of frames (1 = allocated) in Int32Array words, for the bitmap
 * baseline. A run of 2^order frames is naturally aligned; up to order 5 it lies in one word
 * and one compareExchange claims it; larger runs take whole words one by one and roll back
 * if another worker got there first. Searches read plainly and claim atomically, as
 * run-field.ts (LLFree's layer) does, for the reason given there.
 */

/** One bit per frame, 32 frames per Int32 word: a const enum, so hot paths see literals. */
export const enum BitWord {
  /** Frames (bits) in a word. */
  Bits = 32,
  /** A bit's word is bit >>> Shift; its position there is bit & Mask. */
  Shift = 5,
  Mask = Bits - 1,
}
/** Largest order a single word holds (32 frames). */
const WORD_ORDER = BitWord.Shift;

/** Bit positions where an aligned run of each order may start. */
const RUN_STARTS = [-1, 0x55555555, 0x11111111, 0x01010101, 0x00010001, 0x00000001];

/** Bounded retries: a word that keeps changing under us is given up on, not spun on. */
const MAX_WORD_RETRIES = 64;

/** Bit positions p (multiples of 2^order) where bits p .. p + 2^order - 1 are all 0. */
function freeRunStarts(word: number, order: number): number {
  let free = ~word;
  for (let k = 0; k < order; k++) free &= free >>> (1 << k);
  return free & RUN_STARTS[order];
}

function runMask(order: number): number {
  return order === WORD_ORDER ? -1 : (1 << (1 << order)) - 1;
}

/**
 * Finds a free aligned run of 2^order bits among `wordCount` words from `firstWord`
 * (searching from `startWord`, relative, onwards and wrapping), marks it allocated and
 * returns its bit index relative to the first bit of `firstWord`; -1 if none was found.
 */
export function claimRun(bits: Int32Array, firstWord: number, wordCount: number, order: number, startWord: number, sync: SyncHook | null): number {
  if (order > WORD_ORDER) return claimWords(bits, firstWord, wordCount, 1 << (order - WORD_ORDER), startWord, sync);
  const mask = runMask(order);
  for (let step = 0; step < wordCount; step++) {
    let index = startWord + step;
    if (index >= wordCount) index -= wordCount;
    const at = firstWord + index;
    let word = bits[at];
    for (let retry = 0; retry < MAX_WORD_RETRIES; retry++) {
      const starts = freeRunStarts(word, order);
      if (starts === 0) break;
      const bit = lowestBit(starts);
      if (sync !== null) sync.point();
      const seen = Atomics.compareExchange(bits, at, word, word | (mask << bit));
      if (seen === word) return index * BitWord.Bits + bit;
      word = seen;
    }
  }
  return -1;
}

/** Runs of whole words (orders 6 to 8): each word goes 0 -> all ones, rolled back on a race. */
function claimWords(bits: Int32Array, firstWord: number, wordCount: number, runWords: number, startWord: number, sync: SyncHook | null): number {
  const groups = wordCount / runWords;
  const startGroup = Math.floor(startWord / runWords) % groups;
  for (let step = 0; step < groups; step++) {
    let group = startGroup + step;
    if (group >= groups) group -= groups;
    const first = firstWord + group * runWords;
    let claimed = 0;
    while (claimed < runWords) {
      if (sync !== null) sync.point();
      if (Atomics.compareExchange(bits, first + claimed, 0, -1) !== 0) break;
      claimed++;
    }
    if (claimed === runWords) return group * runWords * BitWord.Bits;
    // Ours alone since we set them: plain stores give them back.
    while (claimed > 0) Atomics.store(bits, first + --claimed, 0);
  }
  return -1;
}

/**
 * Clears an allocated run (bit index relative to the first bit of `firstWord`). Returns false, changing
 * nothing, if any of its bits is already clear.
 */
export function releaseRun(bits: Int32Array, firstWord: number, bitIndex: number, order: number, sync: SyncHook | null): boolean {
  const at = firstWord + (bitIndex >>> BitWord.Shift);
  if (order > WORD_ORDER) {
    const runWords = 1 << (order - WORD_ORDER);
    for (let i = 0; i < runWords; i++) if (Atomics.load(bits, at + i) !== -1) return false;
    for (let i = 0; i < runWords; i++) {
      if (sync !== null) sync.point();
      Atomics.store(bits, at + i, 0);
    }
    return true;
  }
  const mask = runMask(order) << (bitIndex & BitWord.Mask);
  let word = bits[at];
  for (;;) {
    if ((word & mask) !== mask) return false;
    if (sync !== null) sync.point();
    const seen = Atomics.compareExchange(bits, at, word, word & ~mask);
    if (seen === word) return true;
    word = seen;
  }
}
