import { Geometry } from "../geometry.js";
import { type FrameLayout, MAX_WORKERS, TREE_STRIDE_WORDS, WORKER_STRIDE_WORDS } from "../layout.js";

/**
 * A tree's cache line: its free counter (signed: a worker that allocates straight from the
 * children of another worker's tree leaves a debt there) and the worker that reserved it
 * (index + 1, 0 for none).
 */
export const enum TreeLine {
  /** Free frames of the tree not held in a budget or pending credits. */
  Free = 0,
  /** The worker that reserved the tree, plus one; 0 for none. */
  Owner = 1,
}

/** A worker's cache line: the frames of its tree it holds as a private budget, and that tree (+ 1). */
export const enum WorkerLine {
  /** Frames of the reserved tree this worker may take without touching its counter. */
  Budget = 0,
  /** The reserved tree, plus one; 0 for none. */
  Tree = 1,
}

/** First word of a tree's line (`treesWord`: the layout's first tree line). */
export function treeLineWord(treesWord: number, tree: number): number {
  return treesWord + tree * TREE_STRIDE_WORDS;
}

/** First word of a worker's line (`workersWord`: the layout's first worker line). */
export function workerLineWord(workersWord: number, worker: number): number {
  return workersWord + worker * WORKER_STRIDE_WORDS;
}

/** First of a worker's pending words (one per tree: its frees into that tree not yet on the tree's counter). */
export function pendingWordOf(layout: FrameLayout, worker: number): number {
  return layout.pendingWord + worker * layout.pendingStride;
}

/** Frames in a tree of a pool of `frameCount` frames (the last tree may be partial). */
export function treeFrameCount(frameCount: number, tree: number): number {
  return Math.min(Geometry.FramesPerTree, frameCount - tree * Geometry.FramesPerTree);
}

/** Free frames: tree counters plus every worker's pending credits and budget. Exact while no worker is inside get or put. */
export function countFreeFrames(words: Int32Array, layout: FrameLayout): number {
  let free = 0;
  for (let tree = 0; tree < layout.treeCount; tree++) free += Atomics.load(words, treeLineWord(layout.treesWord, tree) + TreeLine.Free);
  for (let worker = 0; worker < MAX_WORKERS; worker++) {
    const first = pendingWordOf(layout, worker);
    for (let tree = 0; tree < layout.treeCount; tree++) free += words[first + tree];
  }
  for (let worker = 0; worker < MAX_WORKERS; worker++) free += Atomics.load(words, workerLineWord(layout.workersWord, worker) + WorkerLine.Budget);
  return free;
}
