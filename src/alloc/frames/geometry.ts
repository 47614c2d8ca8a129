/**
 * LLFree geometry (Wrenger et al., USENIX ATC 2023): a child is 512 frames (one 2 MiB huge
 * frame) with a 512-bit bitfield and a free counter; a tree is 32 children with a counter
 * of its own. Orders are powers of two of 4 KiB frames.
 */
/** Frames in a child (one huge frame). */
export const FRAMES_PER_CHILD = 512;
/** A frame's child is frame >>> CHILD_SHIFT (log2 of FRAMES_PER_CHILD). */
export const CHILD_SHIFT = 9;
/** Children in a tree. */
export const CHILDREN_PER_TREE = 32;
/** Frames in a tree. */
export const FRAMES_PER_TREE = FRAMES_PER_CHILD * CHILDREN_PER_TREE;
/** A frame's tree is frame >>> TREE_SHIFT (log2 of FRAMES_PER_TREE). */
export const TREE_SHIFT = 14;
/** Order 9: one whole child, a naturally aligned 2 MiB frame. */
export const HUGE_ORDER = 9;
/** Largest order: an aligned pair of children, 1024 frames (4 MiB). */
export const MAX_ORDER = 10;

/** Throws a RangeError unless `order` is an integer from 0 to MAX_ORDER. */
export function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 0 || order > MAX_ORDER) {
    throw new RangeError(`frame order must be an integer from 0 to ${MAX_ORDER}, got ${order}`);
  }
}
