import { Geometry } from "./geometry.js";
import { type FrameLayout, Header } from "./layout.js";
import { hugeChildCount } from "./lower/child-word.js";
import { orderAt, runFieldWord } from "./lower/children.js";
import { auditChild, NoRun } from "./lower/run-field.js";
import { FrameAllocatorError } from "./page-frame-allocator.js";

/**
 * The pre- and postconditions FrameAllocator's get and put check under MEMSPACE_DEBUG=1
 * (src/util/debug.ts): each throws at the first broken one (a corrupted buffer, or a bug in
 * the allocator). They read the allocator's words (`layout` places them) and change nothing.
 */

function broken(message: string): never {
  throw new FrameAllocatorError(`frame allocator debug check failed: ${message}`);
}

/**
 * After get(order) returned `frame` (not -1): the run lies in the pool, is aligned to its
 * order, is allocated with that order, and (huge runs, which take whole children by their
 * counter alone) no frame of it was marked allocated in its children's run fields.
 */
export function checkGot(words: Int32Array, layout: FrameLayout, frame: number, order: number): void {
  const frames = 1 << order;
  const what = `get(${order}) returned frame ${frame}`;
  if (!Number.isInteger(frame) || frame < 0 || frame + frames > layout.frameCount) broken(`${what}: the run is not inside the pool of ${layout.frameCount} frames`);
  if (frame % frames !== 0) broken(`${what}: not aligned to ${frames} frames`);
  const actual = orderAt(words, layout.childrenWord, layout.blocksWord, frame);
  if (actual !== order) broken(`${what}: afterwards the frame is not the start of a run of order ${order} (orderOf says ${actual})`);
  if (order < Geometry.HugeOrder) return;
  const firstChild = frame >>> Geometry.ChildShift;
  for (let c = firstChild; c < firstChild + hugeChildCount(order); c++) {
    const marked = Geometry.FramesPerChild - auditChild(words, runFieldWord(layout.blocksWord, c), Geometry.FramesPerChild).freeFrames;
    if (marked !== 0) broken(`${what}: child ${c} still has ${marked} frames allocated in its run field, so they were not free`);
  }
}

/**
 * After put(frame, order): the frame is free and, for a huge run (which put frees by its
 * children's counters alone), no frame of it is marked allocated in its children's run
 * fields. Only while one handle has ever attached: with other workers about, one may have
 * taken the frames again at once. There is no check before put: put itself refuses, changing
 * nothing, a frame that is not the start of a run of that order.
 */
export function checkAfterPut(words: Int32Array, layout: FrameLayout, frame: number, order: number): void {
  if (words[Header.Attached] !== 1) return;
  const actual = orderAt(words, layout.childrenWord, layout.blocksWord, frame);
  if (actual !== NoRun.Free) broken(`put(${frame}, ${order}): afterwards the frame is not free (orderOf says ${actual})`);
  if (order < Geometry.HugeOrder) return;
  const firstChild = frame >>> Geometry.ChildShift;
  for (let c = firstChild; c < firstChild + hugeChildCount(order); c++) {
    const marked = Geometry.FramesPerChild - auditChild(words, runFieldWord(layout.blocksWord, c), Geometry.FramesPerChild).freeFrames;
    if (marked !== 0) broken(`put(${frame}, ${order}): child ${c} has ${marked} frames allocated in its run field, so the huge run was not whole`);
  }
}
