import { Geometry } from "../geometry.js";

/**
 * Which unreserved tree a worker reserves next (see FrameAllocator's getElsewhere for the why
 * of each rule): the kinds of tree, the order in which they are tried, and what counts as
 * plenty.
 */

/**
 * A partly used tree is worth reserving with room for this many runs of the order asked
 * for (bounded by PLENTY_MIN_SHIFT and PLENTY_MAX_SHIFT): huge frames freed at random spread
 * evenly over the trees, and a tree taken with 4 of them free sent every fifth get searching
 * (rand order 9).
 */
const PLENTY_RUNS = 16;
/** Plenty is at least an eighth of a tree ... */
const PLENTY_MIN_SHIFT = 3;
/** ... and at most half of one. */
const PLENTY_MAX_SHIFT = 1;

/**
 * After this many searches in a row served outside its home range, a worker searches all
 * trees alike: it is evidently not sharing the allocator with as many workers as it was
 * told.
 */
export const MAX_AWAY_SEARCHES = 8;

/** The kinds of unreserved tree a search for a new tree looks for, one pass each. */
export const enum TreeSearch {
  /** Partly used, with room for PLENTY_RUNS runs. */
  Plenty,
  /** Every frame free. */
  Whole,
  /** Partly used, with room for fewer. */
  Few,
  /** Whole, or partly used with plenty. */
  Roomy,
}

/** Tiers of passes (see SMALL_SEARCH). */
export type SearchTiers = readonly (readonly TreeSearch[])[];

/**
 * The searches for a new tree, tier by tier: each tier's passes run over the home range,
 * then over the other trees, before the next tier.
 */
const SMALL_SEARCH: SearchTiers = [[TreeSearch.Plenty, TreeSearch.Whole], [TreeSearch.Few]];
const HUGE_SEARCH: SearchTiers = [[TreeSearch.Roomy], [TreeSearch.Few]];

/** The search tiers for runs of `order`: small runs want partly used trees first, huge runs any roomy one. */
export function searchTiers(order: number): SearchTiers {
  return order >= Geometry.HugeOrder ? HUGE_SEARCH : SMALL_SEARCH;
}

/** Free frames that make a partly used tree "plenty" for runs of this order. */
export function plentyFrames(order: number): number {
  return Math.max(Geometry.FramesPerTree >> PLENTY_MIN_SHIFT, Math.min((1 << order) * PLENTY_RUNS, Geometry.FramesPerTree >> PLENTY_MAX_SHIFT));
}

/** Whether a tree (whole: every frame free; plenty: see plentyFrames) is what `pass` looks for. */
export function inSearch(pass: TreeSearch, whole: boolean, plenty: boolean): boolean {
  switch (pass) {
    case TreeSearch.Plenty:
      return !whole && plenty;
    case TreeSearch.Whole:
      return whole;
    case TreeSearch.Few:
      return !whole && !plenty;
    case TreeSearch.Roomy:
      return whole || plenty;
  }
}

/** The trees a worker searches first: `count` trees from `firstTree`. */
export interface HomeRange {
  /** First tree of the range. */
  firstTree: number;
  /** Trees in the range (at least 1). */
  count: number;
}

/** Worker `worker`'s share of `treeCount` trees among `workers` workers (workers beyond that share ranges round). */
export function homeRange(worker: number, workers: number, treeCount: number): HomeRange {
  const slot = worker % workers;
  const firstTree = Math.floor((slot * treeCount) / workers);
  return { firstTree, count: Math.max(1, Math.floor(((slot + 1) * treeCount) / workers) - firstTree) };
}

/** How far `tree` lies after `first`, going round `treeCount` trees. */
export function offsetIn(tree: number, first: number, treeCount: number): number {
  return tree >= first ? tree - first : tree + treeCount - first;
}

/** Tree `first + offset`, going round `treeCount` trees (offset below treeCount). */
export function treeAt(first: number, offset: number, treeCount: number): number {
  const tree = first + offset;
  return tree >= treeCount ? tree - treeCount : tree;
}
