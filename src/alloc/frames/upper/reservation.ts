import type { SyncHook } from "../sync-hook.js";
import { TreeLine, treeLineWord, WorkerLine } from "./trees.js";

/**
 * LLFree's upper layer, the steps of one worker's reservation: taking a tree, topping up the
 * budget from its counter, giving it back, and the worker's credits for other trees. Plain
 * functions over the allocator's words: the worker's own state (its tree, budget and list of
 * pending trees) stays in fields of the FrameAllocator, where get and put reach it without an
 * object in between.
 *
 * As in LLFree, a worker reserves a tree and moves the tree's free counter into a private
 * budget; it then allocates inside that tree paying for each run from its budget (no shared
 * counter touched), and frees into it by adding to its budget. Frees into other trees add to
 * their counters, which the reserving worker collects when its budget runs short.
 */

/** When a worker's pending credits (see FrameAllocator's put) reach the tree counters. A const enum: put sees literals. */
export const enum PendingFlush {
  /** A worker's pending credits for another tree reach its counter once they add up to this many frames. */
  Frames = 4096,
  /** A search flushes the worker's pending credits once they lie in this share (1 / 2^shift) of the trees. */
  TreesShift = 1,
}

/**
 * Reserves `tree` for `worker` if no worker holds it, and names it in the worker's line
 * (`workerWord`); false if another worker got there first. The caller then takes the budget
 * (takeTreeCounter).
 */
export function claimTree(words: Int32Array, treesWord: number, workerWord: number, tree: number, worker: number, sync: SyncHook | null): boolean {
  if (sync !== null) sync.point();
  if (Atomics.compareExchange(words, treeLineWord(treesWord, tree) + TreeLine.Owner, 0, worker + 1) !== 0) return false;
  words[workerWord + WorkerLine.Tree] = tree + 1;
  return true;
}

/** Takes a tree's whole free counter (it may be a debt, below 0), leaving 0. */
export function takeTreeCounter(words: Int32Array, treesWord: number, tree: number, sync: SyncHook | null): number {
  if (sync !== null) sync.point();
  return Atomics.exchange(words, treeLineWord(treesWord, tree) + TreeLine.Free, 0);
}

/** Adds `frames` (below 0: a debt) to a tree's free counter. */
export function addToTree(words: Int32Array, treesWord: number, tree: number, frames: number, sync: SyncHook | null): void {
  if (sync !== null) sync.point();
  Atomics.add(words, treeLineWord(treesWord, tree) + TreeLine.Free, frames);
}

/** Takes the worker's pending credits for `tree` (`pendingWord`: its first pending word), leaving 0. */
export function takePending(words: Int32Array, pendingWord: number, tree: number): number {
  const pending = words[pendingWord + tree];
  if (pending !== 0) words[pendingWord + tree] = 0;
  return pending;
}

/**
 * Gives up the worker's reserved `tree`: its `budget` goes back to the tree's counter, the
 * worker's line forgets both, and last the tree is free for any worker to reserve.
 */
export function releaseTree(words: Int32Array, treesWord: number, workerWord: number, tree: number, budget: number, sync: SyncHook | null): void {
  addToTree(words, treesWord, tree, budget, sync);
  words[workerWord + WorkerLine.Budget] = 0;
  words[workerWord + WorkerLine.Tree] = 0;
  if (sync !== null) sync.point();
  Atomics.store(words, treeLineWord(treesWord, tree) + TreeLine.Owner, 0);
}

/**
 * Adds the worker's pending credits to the tree counters: those of the first `listedCount`
 * trees of `listed` (trees whose pending word it may have made non-zero), clearing their
 * marks in `isListed`. The caller's list is empty afterwards.
 */
export function flushPending(words: Int32Array, treesWord: number, pendingWord: number, listed: Int32Array, isListed: Uint8Array, listedCount: number, sync: SyncHook | null): void {
  for (let i = 0; i < listedCount; i++) {
    const tree = listed[i];
    isListed[tree] = 0;
    const pending = takePending(words, pendingWord, tree);
    if (pending !== 0) addToTree(words, treesWord, tree, pending, sync);
  }
}
