/** Small fast seeded PRNG (mulberry32): uniform u32s. */
export class Random {
  private state: number;
  /** A generator whose sequence is fixed by `seed` (taken as an int32). */
  constructor(seed: number) {
    this.state = seed | 0;
  }
  /** The next uniform u32. */
  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }
  /** A uniform integer in [0, limit). */
  below(limit: number): number {
    return Math.floor(this.next() * limit);
  }
}
