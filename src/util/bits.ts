/** Index of the lowest set bit of a non-zero 32-bit word. */
export function lowestBit(bits: number): number {
  return 31 - Math.clz32(bits & -bits);
}
