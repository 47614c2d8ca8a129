import type { SyncHook } from "../sync-hook.js";
import { lowestBit } from "../../../util/bits.js";

/**
 * LLFree's lower layer, with the order of every run kept in the bitfield itself: two bits
 * per frame, 16 frames per Int32 word, a child's 512 frames in 32 words (128 bytes, the
 * pair of cache lines the CPU fetches together).
 *
 *   00 free · 11 allocated, first frame of a run · 01 allocated, inside a run
 *
 * A run of 2^order frames is naturally aligned. Up to order 4 it lies in one word, and one
 * compareExchange claims it together with its start mark; orders 5 to 8 take 2 to 16 whole
 * words, the first one (with the start mark) first. `put` needs no side table to know a
 * run's order: the run at f has order k exactly when f is a start, the next 2^k - 1 frames
 * are inside-marks, and frame f + 2^k is not. That is what lets a double free, an interior
 * frame or a wrong order be refused before anything changes, with the same compareExchange
 * that frees the run serialising racing frees.
 *
 * Profile lesson: in Node 20 every Atomics call is a builtin call (~12 ns a load, ~20 ns a
 * compareExchange; a plain typed-array read ~1 ns), so searches read words plainly (an
 * aligned Int32 read never tears) and only the compareExchange that claims is atomic: a stale
 * read just makes it fail, and the loop goes on with the value it returned.
 */
export const enum FieldWord {
  /** Frames in a run-field word. */
  FramesPerWord = 16,
  /** A frame's word is frame >>> FrameShift; its bits start at (frame & FrameMask) << BitsShift. */
  FrameShift = 4,
  /** A frame's position in its word. */
  FrameMask = FramesPerWord - 1,
  /** Log2 of the bits per frame (2). */
  BitsShift = 1,
  /** A frame's two bits, at bit 0. */
  StateMask = 3,
  /** Largest order within one word. */
  WordOrder = 4,
  /** Run-field words of a child (512 frames). */
  WordsPerChild = 32,
}
const WORD_ORDER = FieldWord.WordOrder;
const ALLOC_BITS = 0x55555555;
/** First word of a run of whole words: every frame allocated, frame 0 the start. */
const FIRST_WORD = ALLOC_BITS | FrameState.StartBit;
/** Bit positions where an aligned run of each order may start (the frame's low bit). */
const RUN_STARTS = [0x55555555, 0x11111111, 0x01010101, 0x00010001, 0x00000001];
/** Bounded retries: a word that keeps changing under us is given up on, not spun on. */
const MAX_WORD_RETRIES = 64;

const enum FrameState {
  Free = 0,
  Inside = 1,
  /** The bit that makes an allocated frame a start. */
  StartBit = 2,
  Start = Inside | StartBit,
}

/** Why `runOrderAt` found no run starting at a frame. */
export const enum NoRun {
  /** The frame is free. */
  Free = -1,
  /** The frame is allocated, inside a run that starts before it. */
  Inside = -2,
  /** A start whose run is not a naturally aligned power of two. */
  Corrupt = -3,
}

/** Low bits (frame positions) where 2^order frames from there on are all free. */
function freeRunStarts(word: number, order: number): number {
  let free = ~word & ALLOC_BITS;
  for (let k = 0; k < order; k++) free &= free >>> (2 << k);
  return free & RUN_STARTS[order];
}

/** All bits of a run of 2^order frames (order <= 4) at bit 0. */
function runMask(order: number): number {
  return order === WORD_ORDER ? -1 : (1 << (2 << order)) - 1;
}

/** The bits of an allocated run (order <= 4) at bit 0: all allocated, the first a start. */
function runValue(order: number): number {
  return (runMask(order) & ALLOC_BITS) | FrameState.StartBit;
}

/** The order of the largest power of two at most `count` (count >= 1). */
function floorLog2(count: number): number {
  return 31 - Math.clz32(count);
}

function stateOf(words: Int32Array, firstWord: number, frame: number): FrameState {
  return (words[firstWord + (frame >>> FieldWord.FrameShift)] >>> ((frame & FieldWord.FrameMask) << FieldWord.BitsShift)) & FieldWord.StateMask;
}

/**
 * Claims a free aligned run of 2^order frames (order <= 8) in one child's words, searching
 * from word `startWord` on and wrapping. Returns the frame index in the child, or -1.
 */
export function claimRun(words: Int32Array, firstWord: number, order: number, startWord: number, sync: SyncHook | null): number {
  if (order > WORD_ORDER) return claimWords(words, firstWord, 1 << (order - WORD_ORDER), startWord, sync);
  const value = runValue(order);
  for (let step = 0; step < FieldWord.WordsPerChild; step++) {
    const index = (startWord + step) & (FieldWord.WordsPerChild - 1);
    const at = firstWord + index;
    let word = words[at];
    for (let retry = 0; retry < MAX_WORD_RETRIES; retry++) {
      const starts = freeRunStarts(word, order);
      if (starts === 0) break;
      const bit = lowestBit(starts);
      if (sync !== null) sync.point();
      const seen = Atomics.compareExchange(words, at, word, word | (value << bit));
      if (seen === word) return index * FieldWord.FramesPerWord + (bit >>> FieldWord.BitsShift);
      word = seen;
    }
  }
  return -1;
}

/** Orders 5 to 8: whole words 0 -> allocated, the first first; rolled back on a race. */
function claimWords(words: Int32Array, firstWord: number, runWords: number, startWord: number, sync: SyncHook | null): number {
  const groups = FieldWord.WordsPerChild / runWords;
  const startGroup = Math.floor(startWord / runWords);
  for (let step = 0; step < groups; step++) {
    const group = (startGroup + step) % groups;
    const first = firstWord + group * runWords;
    if (words[first] !== 0) continue;
    let claimed = 0;
    while (claimed < runWords) {
      if (sync !== null) sync.point();
      if (Atomics.compareExchange(words, first + claimed, 0, claimed === 0 ? FIRST_WORD : ALLOC_BITS) !== 0) break;
      claimed++;
    }
    if (claimed === runWords) return group * runWords * FieldWord.FramesPerWord;
    // Ours alone since we set them: give them back, the start word last.
    while (claimed > 0) {
      if (sync !== null) sync.point();
      Atomics.store(words, first + --claimed, 0);
    }
  }
  return -1;
}

/**
 * The order of the run that starts at `frame` (index in the child), or why there is none:
 * -1 free, -2 inside a run, -3 a start whose run is not a power of two (corrupt).
 */
export function runOrderAt(words: Int32Array, firstWord: number, frame: number): number {
  const state = stateOf(words, firstWord, frame);
  if (state === FrameState.Free) return NoRun.Free;
  if (state !== FrameState.Start) return NoRun.Inside;
  let length = 1;
  while (frame + length < FieldWord.WordsPerChild * FieldWord.FramesPerWord && stateOf(words, firstWord, frame + length) === FrameState.Inside) length++;
  const order = floorLog2(length);
  return length === 1 << order && frame % length === 0 ? order : NoRun.Corrupt;
}

/**
 * Frees the run of 2^order frames at `frame` (index in the child) if that is exactly what
 * is allocated there; otherwise returns false and changes nothing.
 *
 * A run of whole words (order >= 5) is freed in two steps, for crash consistency: this
 * claims it with a compareExchange on its last word (so of two racing frees one wins) and
 * clears every word but the start word; `finishRelease` clears the start word once the
 * caller has made the others durable. The start word stays a start meanwhile, so a run
 * before it never looks longer, and a crash leaves at worst the head of this run allocated
 * (recovery keeps the aligned power-of-two part of it), never frames that look like part
 * of someone else's run.
 */
export function releaseRun(words: Int32Array, firstWord: number, frame: number, order: number, sync: SyncHook | null): boolean {
  const end = frame + (1 << order);
  // Frame `end` (if in the child) must not be inside the same run: else it is longer.
  const nextInside = end < FieldWord.WordsPerChild * FieldWord.FramesPerWord && stateOf(words, firstWord, end) === FrameState.Inside;
  const at = firstWord + (frame >>> FieldWord.FrameShift);
  if (order > WORD_ORDER) {
    const runWords = 1 << (order - WORD_ORDER);
    if (nextInside || words[at] !== FIRST_WORD) return false;
    for (let i = 1; i < runWords; i++) if (words[at + i] !== ALLOC_BITS) return false;
    // The last word's compareExchange is the claim: of two racing frees, one wins.
    if (sync !== null) sync.point();
    if (Atomics.compareExchange(words, at + runWords - 1, ALLOC_BITS, 0) !== ALLOC_BITS) return false;
    for (let i = 1; i < runWords - 1; i++) {
      if (sync !== null) sync.point();
      Atomics.store(words, at + i, 0);
    }
    return true;
  }
  if (nextInside) return false;
  const shift = (frame & FieldWord.FrameMask) << FieldWord.BitsShift;
  const mask = runMask(order) << shift;
  const value = runValue(order) << shift;
  let word = words[at];
  // Not bounded: each failed compareExchange means another worker's step succeeded (lock-free),
  // and giving up would refuse a legitimate put.
  for (;;) {
    if ((word & mask) !== value) return false;
    if (sync !== null) sync.point();
    const seen = Atomics.compareExchange(words, at, word, word & ~mask);
    if (seen === word) return true;
    word = seen;
  }
}

/** Second step of freeing a run of whole words (see releaseRun). */
export function finishRelease(words: Int32Array, firstWord: number, frame: number, sync: SyncHook | null): void {
  if (sync !== null) sync.point();
  Atomics.store(words, firstWord + (frame >>> FieldWord.FrameShift), 0);
}

/** Words a run of 2^order frames spans (1 up to order 4). */
export function runWordCount(order: number): number {
  return order > WORD_ORDER ? 1 << (order - WORD_ORDER) : 1;
}

/**
 * Crash recovery of one child's run field: keeps every well-formed run, clears inside-marks
 * that belong to no start (a multi-word run half persisted), and keeps only the aligned
 * power-of-two head of a malformed one. Returns the words it changed (relative) and the
 * child's free frames.
 */
export function repairChild(words: Int32Array, firstWord: number, frameCount: number): { freeFrames: number; changedWords: number[] } {
  const changed = new Set<number>();
  const clear = (frame: number): void => {
    words[firstWord + (frame >>> FieldWord.FrameShift)] &= ~(FieldWord.StateMask << ((frame & FieldWord.FrameMask) << FieldWord.BitsShift));
    changed.add(frame >>> FieldWord.FrameShift);
  };
  let freeFrames = 0;
  for (let frame = 0; frame < frameCount; ) {
    const state = stateOf(words, firstWord, frame);
    if (state !== FrameState.Start) {
      if (state !== FrameState.Free) clear(frame);
      freeFrames++;
      frame++;
      continue;
    }
    let length = 1;
    while (frame + length < frameCount && stateOf(words, firstWord, frame + length) === FrameState.Inside) length++;
    // The largest naturally aligned power of two that fits: a well-formed run keeps all of it.
    let order = floorLog2(length);
    while (frame % (1 << order) !== 0) order--;
    for (let extra = frame + (1 << order); extra < frame + length; extra++) {
      clear(extra);
      freeFrames++;
    }
    frame += length;
  }
  return { freeFrames, changedWords: [...changed] };
}

/**
 * A child's frames as check() needs them: free frames, or a description of the first
 * malformed state (an unknown state, an inside-mark with no start, a run that is not a
 * naturally aligned power of two).
 */
export function auditChild(words: Int32Array, firstWord: number, frameCount: number): { freeFrames: number; problem: string | null } {
  let freeFrames = 0;
  for (let frame = 0; frame < frameCount; ) {
    const state = stateOf(words, firstWord, frame);
    if (state === FrameState.Free) {
      freeFrames++;
      frame++;
      continue;
    }
    if (state !== FrameState.Start) return { freeFrames, problem: `frame ${frame} of the child has state ${state.toString(2).padStart(2, "0")} outside a run` };
    const order = runOrderAt(words, firstWord, frame);
    if (order < 0) return { freeFrames, problem: `the run at frame ${frame} of the child is not a naturally aligned power of two` };
    frame += 1 << order;
  }
  return { freeFrames, problem: null };
}

/** Marks frames from `fromFrame` to the child's end as one permanently allocated run each (past the last frame). */
export function reserveTail(words: Int32Array, firstWord: number, fromFrame: number): void {
  for (let frame = fromFrame; frame < FieldWord.WordsPerChild * FieldWord.FramesPerWord; frame++) {
    words[firstWord + (frame >>> FieldWord.FrameShift)] |= FrameState.Start << ((frame & FieldWord.FrameMask) << FieldWord.BitsShift);
  }
}
