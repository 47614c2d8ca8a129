/**
 * LLFree geometry (Wrenger et al., USENIX ATC 2023): a child is 512 frames (one 2 MiB huge
 * frame) with a 512-bit bitfield and a free counter; a tree is 32 children with a counter
 * of its own. Orders are powers of two of 4 KiB frames.
 *
 * A const enum, so tsc writes its members as literals: an imported `const` is read from its
 * module's cell, with a check that it is initialised, at every use, which cost get and put
 * at order 9 a sixth of their instructions once the allocator spanned several modules.
 */
export const enum Geometry {
  /** Frames in a child (one huge frame). */
  FramesPerChild = 512,
  /** A frame's child is frame >>> ChildShift (log2 of FramesPerChild). */
  ChildShift = 9,
  /** Children in a tree. */
  ChildrenPerTree = 32,
  /** Frames in a tree. */
  FramesPerTree = FramesPerChild * ChildrenPerTree,
  /** A frame's tree is frame >>> TreeShift (log2 of FramesPerTree). */
  TreeShift = 14,
  /** Order 9: one whole child, a naturally aligned 2 MiB frame. */
  HugeOrder = 9,
  /** Largest order: an aligned pair of children, 1024 frames (4 MiB). */
  MaxOrder = 10,
}

/** Throws a RangeError unless `order` is an integer from 0 to Geometry.MaxOrder. */
export function checkOrder(order: number): void {
  if (!Number.isInteger(order) || order < 0 || order > Geometry.MaxOrder) {
    throw new RangeError(`frame order must be an integer from 0 to ${Geometry.MaxOrder}, got ${order}`);
  }
}
