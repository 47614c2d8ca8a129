import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import * as bitfield from "../../src/alloc/frames/lower/bitfield.js";
import * as runField from "../../src/alloc/frames/lower/run-field.js";

/** Words before and after the field under test: no operation may touch them. */
const GUARD_WORDS = 2;
const GUARD = 0x5a5a5a5a;
/** run-field.ts: one child, 16 frames a word, runs up to order 4 inside a word. */
const CHILD_FRAMES = runField.FieldWord.WordsPerChild * runField.FieldWord.FramesPerWord;
const RUN_FIELD = { wordCount: runField.FieldWord.WordsPerChild, framesPerWord: runField.FieldWord.FramesPerWord, wordOrder: 4 };
/** bitfield.ts: 32 frames a word, runs up to order 5 inside a word; 8 words hold one order-8 run. */
const BITFIELD = { wordCount: 8, framesPerWord: 32, wordOrder: 5 };
const MAX_FIELD_ORDER = 8;
const ORDERS = Array.from({ length: MAX_FIELD_ORDER + 1 }, (_, order) => order);

type Field = typeof RUN_FIELD;

/** A field of `wordCount` words between guard words. */
function guarded(wordCount: number): Int32Array {
  return new Int32Array(GUARD_WORDS + wordCount + GUARD_WORDS).fill(GUARD).fill(0, GUARD_WORDS, GUARD_WORDS + wordCount);
}

function assertGuards(words: Int32Array): void {
  for (let i = 0; i < GUARD_WORDS; i++) {
    assert.equal(words[i], GUARD, `guard word ${i} changed`);
    assert.equal(words[words.length - 1 - i], GUARD, `guard word ${words.length - 1 - i} changed`);
  }
}

const fieldOf = (words: Int32Array, field: Field): Int32Array => words.subarray(GUARD_WORDS, GUARD_WORDS + field.wordCount);

/**
 * The run a claim must find (the model of both layers' search): from word `startWord` on,
 * wrapping, the lowest free aligned run in the first word that has one; a run of whole words
 * takes the first free aligned group from the group holding `startWord`. -1 if none is free.
 */
function expectedClaim(used: Uint8Array, field: Field, order: number, startWord: number): number {
  const frames = 1 << order;
  const isFree = (first: number): boolean => used.subarray(first, first + frames).every((u) => u === 0);
  if (order <= field.wordOrder) {
    for (let step = 0; step < field.wordCount; step++) {
      const word = (startWord + step) % field.wordCount;
      for (let frame = word * field.framesPerWord; frame < (word + 1) * field.framesPerWord; frame += frames) if (isFree(frame)) return frame;
    }
    return -1;
  }
  const runWords = 1 << (order - field.wordOrder);
  const groups = field.wordCount / runWords;
  for (let step = 0; step < groups; step++) {
    const frame = ((Math.floor(startWord / runWords) + step) % groups) * runWords * field.framesPerWord;
    if (isFree(frame)) return frame;
  }
  return -1;
}

/** run-field.ts's release in both steps, as FrameAllocator.put does it. */
function releaseInChild(words: Int32Array, frame: number, order: number): boolean {
  if (!runField.releaseRun(words, GUARD_WORDS, frame, order, null)) return false;
  if (runField.runWordCount(order) > 1) runField.finishRelease(words, GUARD_WORDS, frame, null);
  return true;
}

describe("run field (lower/run-field.ts)", () => {
  for (const order of ORDERS) {
    it(`order ${order}: claims from an empty child at frame 0, reads the order back, and releases to empty`, () => {
      const words = guarded(RUN_FIELD.wordCount);
      assert.equal(runField.claimRun(words, GUARD_WORDS, order, 0, null), 0);
      assert.equal(runField.runOrderAt(words, GUARD_WORDS, 0), order);
      if (order > 0) assert.equal(runField.runOrderAt(words, GUARD_WORDS, 1), runField.NoRun.Inside);
      assert.equal(runField.runOrderAt(words, GUARD_WORDS, 1 << order), runField.NoRun.Free);
      assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, CHILD_FRAMES - (1 << order));
      assert.ok(releaseInChild(words, 0, order));
      assert.deepEqual([...fieldOf(words, RUN_FIELD)], new Array(RUN_FIELD.wordCount).fill(0));
      assertGuards(words);
    });

    it(`order ${order}: fills a child exactly with aligned runs, refuses one more, and empties again`, () => {
      const words = guarded(RUN_FIELD.wordCount);
      const starts = new Set<number>();
      for (let i = 0; i < CHILD_FRAMES >> order; i++) {
        const frame = runField.claimRun(words, GUARD_WORDS, order, i % RUN_FIELD.wordCount, null);
        assert.ok(frame >= 0 && frame % (1 << order) === 0 && !starts.has(frame), `claim ${i}: frame ${frame}`);
        starts.add(frame);
      }
      assert.equal(runField.claimRun(words, GUARD_WORDS, order, 0, null), -1, "a full child has no run");
      assert.equal(runField.claimRun(words, GUARD_WORDS, 0, 0, null), -1, "nor a single frame");
      assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, 0);
      // The last run of the child reads back: nothing past the child's end lengthens it.
      assert.equal(runField.runOrderAt(words, GUARD_WORDS, CHILD_FRAMES - (1 << order)), order);
      for (const frame of starts) assert.ok(releaseInChild(words, frame, order), `release of ${frame}`);
      assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, CHILD_FRAMES);
      assertGuards(words);
    });
  }

  it("refuses a free frame, a wrong order, an inside frame and a double free, changing nothing", () => {
    const words = guarded(RUN_FIELD.wordCount);
    const small = runField.claimRun(words, GUARD_WORDS, 2, 0, null);
    const wide = runField.claimRun(words, GUARD_WORDS, 6, 0, null);
    assert.deepEqual([small, wide], [0, 64]);
    const before = words.slice();
    for (const [frame, order] of [
      [4, 0], // free
      [0, 1], // shorter than the run
      [0, 3], // longer
      [1, 0], // inside
      [64, 5], // half of a whole-word run
      [64, 7], // twice it
      [80, 4], // inside a whole-word run, at a word's start
    ]) {
      assert.equal(runField.releaseRun(words, GUARD_WORDS, frame, order, null), false, `release(${frame}, ${order})`);
      assert.deepEqual(words, before, `release(${frame}, ${order}) changed words`);
    }
    assert.ok(releaseInChild(words, 0, 2));
    assert.equal(runField.releaseRun(words, GUARD_WORDS, 0, 2, null), false, "double free");
  });

  it("frees a run of whole words in two steps: the start word stays a start until finishRelease", () => {
    const words = guarded(RUN_FIELD.wordCount);
    assert.equal(runField.claimRun(words, GUARD_WORDS, 7, 0, null), 0);
    assert.ok(runField.releaseRun(words, GUARD_WORDS, 0, 7, null));
    // Between the steps the head reads as a run of one word, and a second free is refused.
    assert.equal(runField.runOrderAt(words, GUARD_WORDS, 0), 4);
    assert.equal(runField.runOrderAt(words, GUARD_WORDS, runField.FieldWord.FramesPerWord), runField.NoRun.Free);
    assert.equal(runField.releaseRun(words, GUARD_WORDS, 0, 7, null), false);
    runField.finishRelease(words, GUARD_WORDS, 0, null);
    assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, CHILD_FRAMES);
    assertGuards(words);
  });

  it("reserveTail marks the frames past a partial child's end for good", () => {
    const words = guarded(RUN_FIELD.wordCount);
    const frames = 100;
    runField.reserveTail(words, GUARD_WORDS, frames);
    assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, frames);
    for (let i = 0; i < frames; i++) assert.ok(runField.claimRun(words, GUARD_WORDS, 0, 0, null) < frames);
    assert.equal(runField.claimRun(words, GUARD_WORDS, 0, 0, null), -1);
    assertGuards(words);
  });

  it("claims and releases like a model of the child (fast-check)", () => {
    fc.assert(fc.property(fc.array(modelStep(), { maxLength: 200 }), (steps) => runModel(RUN_FIELD, steps, runFieldOps())), { numRuns: 300 });
  });
});

describe("bitfield (lower/bitfield.ts)", () => {
  const frameCount = BITFIELD.wordCount * BITFIELD.framesPerWord;
  const bitsSet = (words: Int32Array): number => [...fieldOf(words, BITFIELD)].reduce((sum, word) => sum + popCount(word), 0);

  for (const order of ORDERS) {
    it(`order ${order}: claims from an empty field at bit 0, sets exactly its bits, and releases to empty`, () => {
      const words = guarded(BITFIELD.wordCount);
      assert.equal(bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, order, 0, null), 0);
      assert.equal(bitsSet(words), 1 << order);
      assert.ok(bitfield.releaseRun(words, GUARD_WORDS, 0, order, null));
      assert.equal(bitsSet(words), 0);
      assertGuards(words);
    });

    it(`order ${order}: fills the field exactly, refuses one more, and empties again`, () => {
      const words = guarded(BITFIELD.wordCount);
      const starts = new Set<number>();
      for (let i = 0; i < frameCount >> order; i++) {
        const bit = bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, order, i % BITFIELD.wordCount, null);
        assert.ok(bit >= 0 && bit % (1 << order) === 0 && !starts.has(bit), `claim ${i}: bit ${bit}`);
        starts.add(bit);
      }
      assert.equal(bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, order, 0, null), -1);
      assert.equal(bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, 0, 0, null), -1);
      assert.equal(bitsSet(words), frameCount);
      for (const bit of starts) assert.ok(bitfield.releaseRun(words, GUARD_WORDS, bit, order, null));
      assert.equal(bitsSet(words), 0);
      assertGuards(words);
    });
  }

  it("refuses to release a run any of whose bits is clear, changing nothing", () => {
    const words = guarded(BITFIELD.wordCount);
    assert.equal(bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, 3, 0, null), 0);
    assert.equal(bitfield.claimRun(words, GUARD_WORDS, BITFIELD.wordCount, 6, 0, null), 64);
    const before = words.slice();
    for (const [bit, order] of [
      [8, 0],
      [0, 4],
      [64, 7],
      [32, 5],
    ]) {
      assert.equal(bitfield.releaseRun(words, GUARD_WORDS, bit, order, null), false, `release(${bit}, ${order})`);
      assert.deepEqual(words, before);
    }
    assert.ok(bitfield.releaseRun(words, GUARD_WORDS, 64, 6, null));
    assert.equal(bitfield.releaseRun(words, GUARD_WORDS, 64, 6, null), false, "double free");
  });

  it("claims and releases like a model of the field (fast-check)", () => {
    fc.assert(fc.property(fc.array(modelStep(), { maxLength: 200 }), (steps) => runModel(BITFIELD, steps, bitfieldOps())), { numRuns: 300 });
  });
});

function popCount(word: number): number {
  let count = 0;
  for (let bits = word >>> 0; bits !== 0; bits >>>= 1) count += bits & 1;
  return count;
}

type Step = { kind: "claim"; order: number; startWord: number } | { kind: "release"; pick: number } | { kind: "bogus"; frame: number; order: number };

function modelStep(): fc.Arbitrary<Step> {
  return fc.oneof(
    fc.record({ kind: fc.constant("claim" as const), order: fc.integer({ min: 0, max: MAX_FIELD_ORDER }), startWord: fc.nat({ max: 31 }) }),
    fc.record({ kind: fc.constant("release" as const), pick: fc.nat() }),
    fc.record({ kind: fc.constant("bogus" as const), frame: fc.nat({ max: 511 }), order: fc.integer({ min: 0, max: MAX_FIELD_ORDER }) }),
  );
}

interface LayerOps {
  claim(words: Int32Array, field: Field, order: number, startWord: number): number;
  release(words: Int32Array, frame: number, order: number): boolean;
  /** Whether a release of (frame, order) must be refused, given the model's runs. */
  refuses(runs: Map<number, number>, used: Uint8Array, frame: number, order: number): boolean;
  /** Checks the words against the model's runs. */
  verify(words: Int32Array, field: Field, runs: Map<number, number>, used: Uint8Array): void;
}

/** The run field knows each run's order: only exactly a run is released. */
function runFieldOps(): LayerOps {
  return {
    claim: (words, _field, order, startWord) => runField.claimRun(words, GUARD_WORDS, order, startWord, null),
    release: releaseInChild,
    refuses: (runs, _used, frame, order) => runs.get(frame) !== order,
    verify(words, _field, runs, used) {
      for (const [frame, order] of runs) assert.equal(runField.runOrderAt(words, GUARD_WORDS, frame), order, `run at ${frame}`);
      assert.equal(runField.auditChild(words, GUARD_WORDS, CHILD_FRAMES).freeFrames, used.filter((u) => u === 0).length);
    },
  };
}

/** The bitfield knows only which frames are taken: any run of taken frames is released. */
function bitfieldOps(): LayerOps {
  return {
    claim: (words, field, order, startWord) => bitfield.claimRun(words, GUARD_WORDS, field.wordCount, order, startWord % field.wordCount, null),
    release: (words, frame, order) => bitfield.releaseRun(words, GUARD_WORDS, frame, order, null),
    refuses: (_runs, used, frame, order) => used.subarray(frame, frame + (1 << order)).some((u) => u === 0),
    verify(words, field, _runs, used) {
      for (let frame = 0; frame < used.length; frame++) {
        const bit = (words[GUARD_WORDS + Math.floor(frame / field.framesPerWord)] >>> frame % field.framesPerWord) & 1;
        assert.equal(bit, used[frame], `bit ${frame}`);
      }
    },
  };
}

/** Runs the steps on a fresh field and on the model side by side; every claim must find the run the model predicts. */
function runModel(field: Field, steps: Step[], ops: LayerOps): void {
  const frameCount = field.wordCount * field.framesPerWord;
  const words = guarded(field.wordCount);
  const used = new Uint8Array(frameCount);
  const runs = new Map<number, number>();
  const mark = (frame: number, order: number, value: number): void => void used.fill(value, frame, frame + (1 << order));
  for (const step of steps) {
    if (step.kind === "claim") {
      const startWord = step.startWord % field.wordCount;
      const expected = expectedClaim(used, field, step.order, startWord);
      assert.equal(ops.claim(words, field, step.order, startWord), expected, `claim of order ${step.order} from word ${startWord}`);
      if (expected >= 0) {
        runs.set(expected, step.order);
        mark(expected, step.order, 1);
      }
    } else if (step.kind === "release") {
      if (runs.size === 0) continue;
      const [frame, order] = [...runs][step.pick % runs.size];
      assert.ok(ops.release(words, frame, order), `release(${frame}, ${order})`);
      runs.delete(frame);
      mark(frame, order, 0);
    } else {
      const frame = (step.frame % frameCount) & -(1 << step.order); // aligned, as callers guarantee
      if (!ops.refuses(runs, used, frame, step.order)) continue;
      const before = words.slice();
      assert.equal(ops.release(words, frame, step.order), false, `bogus release(${frame}, ${step.order})`);
      assert.deepEqual(words, before, `bogus release(${frame}, ${step.order}) changed words`);
    }
    ops.verify(words, field, runs, used);
  }
  assertGuards(words);
}
