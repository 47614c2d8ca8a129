import { Geometry } from "../geometry.js";

/**
 * A child's word (one Int32 per 512 frames): its free frames in the low bits; a flag while
 * the child is one huge frame (order 9), and another on both children of an order-10 pair,
 * so put can tell them apart. A const enum: the hot paths see plain literals.
 */
export const enum ChildWord {
  /** Room for a whole child's count (512). */
  FreeMask = (1 << 10) - 1,
  /** The child is (part of) one huge run. */
  Huge = 1 << 10,
  /** The child is half of an order-10 pair (set with Huge on both). */
  Pair = 1 << 11,
  /** Both flags: what a huge flag of either kind is tested against. */
  Flags = Huge | Pair,
}

/** Children a run of a huge order (9 or 10) covers. */
export function hugeChildCount(order: number): number {
  return 1 << (order - Geometry.HugeOrder);
}

/** The other child of the order-10 pair `child` belongs to. */
export function pairPartner(child: number): number {
  return child ^ 1;
}
