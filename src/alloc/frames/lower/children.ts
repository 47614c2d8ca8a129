import type { PersistMedium } from "../../../durable/medium.js";
import { Geometry } from "../geometry.js";
import { WORD_BYTES } from "../layout.js";
import { FrameAllocatorError } from "../page-frame-allocator.js";
import type { SyncHook } from "../sync-hook.js";
import { ChildWord, hugeChildCount } from "./child-word.js";
import { claimRun, FieldWord, finishRelease, NoRun, releaseRun, runOrderAt, runWordCount } from "./run-field.js";

/**
 * LLFree's lower layer: the children (a counter word and a run field per 512 frames) and
 * how a run is taken from them and given back. Plain functions over the allocator's words
 * (`childrenWord`: its first child counter; `blocksWord`: its first run-field word), so the
 * allocator's get and put call them with its own fields and no object in between. They know
 * nothing of tree counters, reservations or budgets (upper/), which pay for the frames
 * before a take and are credited after a give-back.
 *
 * On a persistent allocator every change a caller acts on is durable first: the run's words
 * (inside-marks first, the start word last on get; the other way round on put, see
 * run-field.ts) and huge flags.
 */

/** Bounded retries for a child counter that keeps changing under us. */
const MAX_COUNTER_RETRIES = 1 << 12;

/** Throws the error for state that breaks the allocator's invariants. */
export function corrupt(message: string): never {
  throw new FrameAllocatorError(`frame allocator corrupt: ${message}`);
}

/** First run-field word of child `child`. */
export function runFieldWord(blocksWord: number, child: number): number {
  return blocksWord + child * FieldWord.WordsPerChild;
}

/** Frames of child `child` in a pool of `frameCount` frames (the last may be partial, those past it have none). */
export function childFrameCount(frameCount: number, child: number): number {
  return Math.max(0, Math.min(Geometry.FramesPerChild, frameCount - child * Geometry.FramesPerChild));
}

/**
 * A run of 2^order frames from one of the tree's children, visiting them from the child
 * `childHint` (in the tree) on, and small runs from run-field word `wordHint` on. Returns
 * the run's first frame in the pool, or -1 if no child has one.
 */
export function takeFromTree(words: Int32Array, childrenWord: number, blocksWord: number, tree: number, order: number, childHint: number, wordHint: number, sync: SyncHook | null): number {
  const firstChild = tree * Geometry.ChildrenPerTree;
  // An order-10 run is an aligned pair of children.
  const stride = order > Geometry.HugeOrder ? 1 << (order - Geometry.HugeOrder) : 1;
  for (let step = 0; step < Geometry.ChildrenPerTree; step += stride) {
    const child = firstChild + ((childHint + step) & (Geometry.ChildrenPerTree - stride));
    const frame = order >= Geometry.HugeOrder ? takeHuge(words, childrenWord, child, order, sync) : takeRun(words, childrenWord, blocksWord, child, order, wordHint, sync);
    if (frame >= 0) return frame;
  }
  return -1;
}

/** A run of 2^order frames (order below 9) from one child: its counter first, then its run field. */
function takeRun(words: Int32Array, childrenWord: number, blocksWord: number, child: number, order: number, wordHint: number, sync: SyncHook | null): number {
  const frames = 1 << order;
  const at = childrenWord + child;
  let word = words[at];
  for (let retry = 0; ; retry++) {
    if ((word & ChildWord.Huge) !== 0 || word < frames || retry === MAX_COUNTER_RETRIES) return -1;
    if (sync !== null) sync.point();
    const seen = Atomics.compareExchange(words, at, word, word - frames);
    if (seen === word) break;
    word = seen;
  }
  const frame = claimRun(words, runFieldWord(blocksWord, child), order, wordHint, sync);
  if (frame >= 0) return child * Geometry.FramesPerChild + frame;
  // Fragmented: enough free frames, but no aligned run of this order.
  if (sync !== null) sync.point();
  Atomics.add(words, at, frames);
  return -1;
}

/** Order 9 takes one entirely free child, order 10 an aligned pair. */
function takeHuge(words: Int32Array, childrenWord: number, child: number, order: number, sync: SyncHook | null): number {
  // Spelled out, not helper calls: every call to an imported function costs a module-variable load and check on the hot path.
  const count = 1 << (order - Geometry.HugeOrder);
  const flags = order === Geometry.HugeOrder ? ChildWord.Huge : ChildWord.Huge | ChildWord.Pair;
  // A plain look first: a failing compareExchange costs as much as a succeeding one.
  for (let c = 0; c < count; c++) if (words[childrenWord + child + c] !== Geometry.FramesPerChild) return -1;
  let claimed = 0;
  while (claimed < count) {
    if (sync !== null) sync.point();
    if (Atomics.compareExchange(words, childrenWord + child + claimed, Geometry.FramesPerChild, flags) !== Geometry.FramesPerChild) break;
    claimed++;
  }
  if (claimed === count) return child * Geometry.FramesPerChild;
  while (claimed > 0) {
    if (sync !== null) sync.point();
    Atomics.store(words, childrenWord + child + --claimed, Geometry.FramesPerChild);
  }
  return -1;
}

/**
 * Makes a run just taken durable before the caller hands it out: a huge run's flags, or a
 * small run's words, inside-marks first and the start word last (a crash between leaves
 * orphans recovery clears).
 */
export function persistTaken(medium: PersistMedium, bytes: Uint8Array, childrenWord: number, blocksWord: number, frame: number, order: number): void {
  const child = frame >>> Geometry.ChildShift;
  if (order >= Geometry.HugeOrder) {
    persistWords(medium, bytes, childrenWord + child, hugeChildCount(order));
    return;
  }
  const wordCount = runWordCount(order);
  const firstWord = runFieldWord(blocksWord, child) + ((frame & (Geometry.FramesPerChild - 1)) >>> FieldWord.FrameShift);
  if (wordCount > 1) persistWords(medium, bytes, firstWord + 1, wordCount - 1);
  persistWords(medium, bytes, firstWord, 1);
}

/**
 * Frees the run of 2^order frames (order below 9) at `frame` and adds it to its child's
 * counter; false, changing nothing, if that is not what is allocated there. Validating and
 * freeing are one compareExchange, so of racing double frees one succeeds.
 */
export function giveBackRun(words: Int32Array, bytes: Uint8Array, medium: PersistMedium | null, childrenWord: number, blocksWord: number, frame: number, order: number, sync: SyncHook | null): boolean {
  const child = frame >>> Geometry.ChildShift;
  const inChild = frame & (Geometry.FramesPerChild - 1);
  const bits = runFieldWord(blocksWord, child);
  if (!releaseRun(words, bits, inChild, order, sync)) return false;
  // The common case (a run inside one word, no medium) is done: the rest stays out of line.
  if (order > FieldWord.WordOrder || medium !== null) finishGiveBack(words, bytes, medium, bits, inChild, order, sync);
  if (sync !== null) sync.point();
  Atomics.add(words, childrenWord + child, 1 << order);
  return true;
}

/**
 * The rest of freeing a run: its words durable, and the second step of a run of whole words
 * (see run-field.ts for the order), before the counter offers the frames again.
 */
function finishGiveBack(words: Int32Array, bytes: Uint8Array, medium: PersistMedium | null, bits: number, inChild: number, order: number, sync: SyncHook | null): void {
  const wordCount = runWordCount(order);
  const firstWord = bits + (inChild >>> FieldWord.FrameShift);
  if (wordCount > 1 && medium !== null) persistWords(medium, bytes, firstWord + 1, wordCount - 1);
  if (wordCount > 1) finishRelease(words, bits, inChild, sync);
  if (medium !== null) persistWords(medium, bytes, firstWord, 1);
}

/**
 * Frees a huge run: order 9 a child flagged huge (not pair), order 10 an aligned pair
 * flagged both. False, changing nothing, if that is not what is allocated at `frame`.
 */
export function giveBackHuge(words: Int32Array, bytes: Uint8Array, medium: PersistMedium | null, childrenWord: number, frame: number, order: number, sync: SyncHook | null): boolean {
  const child = frame >>> Geometry.ChildShift;
  const expected = order === Geometry.HugeOrder ? ChildWord.Huge : ChildWord.Huge | ChildWord.Pair;
  const last = child + (1 << (order - Geometry.HugeOrder));
  // Order 9 goes straight to the compareExchange, which validates too: a plain read first
  // would fetch the line shared and then upgrade it, two transfers from the core that
  // allocated the frame instead of one (rand order 9 on 2 workers).
  if (order !== Geometry.HugeOrder) for (let c = child; c < last; c++) if (words[childrenWord + c] !== expected) return false;
  // The first child's compareExchange is the claim: of two racing frees, one wins.
  for (let c = child; c < last; c++) {
    if (sync !== null) sync.point();
    if (Atomics.compareExchange(words, childrenWord + c, expected, Geometry.FramesPerChild) !== expected) {
      if (c !== child) corrupt(`put of frame ${frame} (order ${order}): child ${c} changed while its pair was being freed`);
      return false;
    }
  }
  // A crash before this is durable leaves the flag on the file: recovery drops it if the
  // frames were reused meanwhile, or the run stays allocated (the in-flight put is lost).
  if (medium !== null) persistWords(medium, bytes, childrenWord + child, last - child);
  return true;
}

/** Order of the allocated run that starts at `frame`, or a NoRun reason (see run-field.ts). */
export function orderAt(words: Int32Array, childrenWord: number, blocksWord: number, frame: number): number {
  const child = frame >>> Geometry.ChildShift;
  const word = words[childrenWord + child];
  if ((word & ChildWord.Huge) !== 0) {
    if ((word & ChildWord.Pair) === 0) return frame % Geometry.FramesPerChild === 0 ? Geometry.HugeOrder : NoRun.Inside;
    return frame % (Geometry.FramesPerChild * hugeChildCount(Geometry.MaxOrder)) === 0 ? Geometry.MaxOrder : NoRun.Inside;
  }
  return runOrderAt(words, runFieldWord(blocksWord, child), frame & (Geometry.FramesPerChild - 1));
}

/** Visits every allocated run of the first `frameCount` frames (not the frames past the last one). */
export function forEachRunIn(words: Int32Array, childrenWord: number, blocksWord: number, frameCount: number, visit: (frame: number, order: number) => void): void {
  const childCount = Math.ceil(frameCount / Geometry.FramesPerChild);
  for (let c = 0; c < childCount; c++) {
    const word = words[childrenWord + c];
    const firstFrame = c * Geometry.FramesPerChild;
    if ((word & ChildWord.Huge) !== 0) {
      if ((word & ChildWord.Pair) === 0) visit(firstFrame, Geometry.HugeOrder);
      else if (c % hugeChildCount(Geometry.MaxOrder) === 0) visit(firstFrame, Geometry.MaxOrder);
      continue;
    }
    const framesHere = Math.min(Geometry.FramesPerChild, frameCount - firstFrame);
    for (let frame = 0; frame < framesHere; ) {
      const order = runOrderAt(words, runFieldWord(blocksWord, c), frame);
      if (order >= 0) {
        visit(firstFrame + frame, order);
        frame += 1 << order;
      } else frame++;
    }
  }
}

/** Persists words and waits for them: the state a caller acts on is durable first. */
export function persistWords(medium: PersistMedium, bytes: Uint8Array, firstWord: number, count: number): void {
  medium.persist(firstWord * WORD_BYTES, bytes.subarray(firstWord * WORD_BYTES, (firstWord + count) * WORD_BYTES));
  medium.barrier();
}
