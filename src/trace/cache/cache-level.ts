/**
 * One set-associative cache level over typed arrays: Cachegrind's model (cg_sim.c) of a set as
 * a list of tags, most recently used first, with the whole block number as the tag. Used for
 * caches (lines) and TLBs (pages) alike.
 */
import { isPowerOfTwo, log2, setCount, type CacheGeometry } from "./geometry.js";

/** Every set's blocks as two words each, set after set, way 0 first (CacheLevel.tagState). */
export interface TagState {
  tagLo: Int32Array;
  tagHi: Int32Array;
}

/** Which way a miss evicts: least recently used, oldest installed, or a seeded random one. */
export type ReplacementPolicy = "lru" | "fifo" | "random";

/** The policies `--policy` takes. */
export const REPLACEMENT_POLICIES: readonly ReplacementPolicy[] = ["lru", "fifo", "random"];

const enum Policy {
  Lru = 0,
  Fifo = 1,
  Random = 2,
}

/**
 * An empty way's high tag word. A block number's high word is the address's high word shifted
 * right by the line bits (at least one), so it is never all ones.
 */
export const EMPTY_TAG_HI = -1;
const EMPTY = EMPTY_TAG_HI;

/**
 * A set-associative cache level. Way 0 of a set is its most recently used line (LRU) or its
 * newest (FIFO, random); a miss installs the block there and shifts the rest down, so a set
 * fills from the front and its last way is the victim (random: a random way once full).
 * Write-allocate: reads and writes look up alike.
 */
export class CacheLevel {
  /** Sets, a power of two. */
  readonly sets: number;
  /** Ways per set. */
  readonly assoc: number;
  /** Line (or page) size. */
  readonly lineSizeBytes: number;
  /** log2 of the line size. */
  readonly lineBits: number;
  private readonly lineMask: number;
  private readonly setMask: number;
  private readonly policy: Policy;
  /** Block numbers (low and high words) per way, set after set. */
  private readonly tagLo: Int32Array;
  private readonly tagHi: Int32Array;
  private randomState: number;
  private readonly seed: number;
  /**
   * The block looked up last. It is still cached (only a lookup here could evict it), and a
   * repeat lookup changes no policy's state, so a repeat is a hit with nothing to do.
   */
  private lastLo = 0;
  private lastHi = EMPTY;
  /**
   * Whether the last lookup that missed found its set not yet full: in a cache that started
   * empty at a cut in the trace, such a miss depends on what was cached before the cut
   * (cache-parts.ts).
   */
  lastMissWasCold = false;

  /**
   * `sets` and `lineSizeBytes` powers of two (a line of at least 2 bytes), `assoc` at least 1;
   * `seed` drives the random policy only.
   */
  constructor(sets: number, assoc: number, lineSizeBytes: number, policy: ReplacementPolicy = "lru", seed = 1) {
    if (!isPowerOfTwo(sets)) throw new RangeError(`set count ${sets} is not a power of two`);
    if (!isPowerOfTwo(lineSizeBytes) || lineSizeBytes < 2) throw new RangeError(`line size ${lineSizeBytes} is not a power of two of at least 2`);
    if (!Number.isInteger(assoc) || assoc < 1 || sets * assoc > 2 ** 30) throw new RangeError(`associativity ${assoc} out of range`);
    this.sets = sets;
    this.assoc = assoc;
    this.lineSizeBytes = lineSizeBytes;
    this.lineBits = log2(lineSizeBytes);
    this.lineMask = lineSizeBytes - 1;
    this.setMask = sets - 1;
    this.policy = policy === "lru" ? Policy.Lru : policy === "fifo" ? Policy.Fifo : Policy.Random;
    this.tagLo = new Int32Array(sets * assoc);
    this.tagHi = new Int32Array(sets * assoc).fill(EMPTY);
    this.seed = seed >>> 0 || 1;
    this.randomState = this.seed;
  }

  /** The level a checked geometry describes. */
  static fromGeometry(geometry: CacheGeometry, policy: ReplacementPolicy = "lru", seed = 1): CacheLevel {
    return new CacheLevel(setCount(geometry), geometry.assoc, geometry.lineSizeBytes, policy, seed);
  }

  /** Empties every set (and restarts the random sequence). */
  reset(): void {
    this.tagHi.fill(EMPTY);
    this.lastHi = EMPTY;
    this.randomState = this.seed;
  }

  /**
   * Looks up an access of `sizeBytes` (at most a line) at the address `lo`, `hi`; returns
   * whether it missed. One that straddles two lines looks up both and is one miss if either
   * misses (Cachegrind's count).
   */
  accessIsMiss(lo: number, hi: number, sizeBytes: number): boolean {
    const bits = this.lineBits;
    const blockLo = (hi << (32 - bits)) | (lo >>> bits);
    const blockHi = hi >>> bits;
    if ((lo & this.lineMask) + sizeBytes <= this.lineSizeBytes) {
      if (blockLo === this.lastLo && blockHi === this.lastHi) return false;
      return this.blockIsMiss(blockLo, blockHi);
    }
    const nextLo = (blockLo + 1) | 0;
    const firstMissed = this.blockIsMiss(blockLo, blockHi);
    const secondMissed = this.blockIsMiss(nextLo, nextLo === 0 ? blockHi + 1 : blockHi);
    return firstMissed || secondMissed;
  }

  /** Looks up one block (the address shifted right by lineBits, as two words); a miss installs it. Returns whether it missed. */
  blockIsMiss(blockLo: number, blockHi: number): boolean {
    this.lastLo = blockLo;
    this.lastHi = blockHi;
    const base = Math.imul(blockLo & this.setMask, this.assoc);
    // The most frequent case, kept small enough to inline: the set's first way.
    if (this.tagLo[base] === blockLo && this.tagHi[base] === blockHi) return false;
    return this.searchSet(base, blockLo, blockHi);
  }

  /** The rest of a lookup: the set's other ways, then a miss's replacement. */
  private searchSet(base: number, blockLo: number, blockHi: number): boolean {
    const tagLo = this.tagLo;
    const tagHi = this.tagHi;
    const end = base + this.assoc;
    for (let at = base + 1; at < end; at++) {
      if (tagLo[at] === blockLo && tagHi[at] === blockHi) {
        if (this.policy === Policy.Lru) this.moveToFront(base, at, blockLo, blockHi);
        return false;
      }
    }
    this.lastMissWasCold = tagHi[end - 1] === EMPTY;
    if (this.policy === Policy.Random && tagHi[end - 1] !== EMPTY) {
      const victim = base + this.nextRandom(this.assoc);
      tagLo[victim] = blockLo;
      tagHi[victim] = blockHi;
    } else this.moveToFront(base, end - 1, blockLo, blockHi);
    return true;
  }

  /**
   * Copies set `set`'s blocks, way 0 first, into `lo` and `hi` (at least `assoc` long);
   * returns how many ways hold one.
   */
  readSet(set: number, lo: Int32Array, hi: Int32Array): number {
    const base = set * this.assoc;
    let ways = 0;
    while (ways < this.assoc && this.tagHi[base + ways] !== EMPTY) {
      lo[ways] = this.tagLo[base + ways];
      hi[ways] = this.tagHi[base + ways];
      ways++;
    }
    return ways;
  }

  /** Copies of every set's blocks (low and high words), set after set, way 0 first; an empty way's high word is EMPTY_TAG_HI. */
  tagState(): TagState {
    return { tagLo: this.tagLo.slice(), tagHi: this.tagHi.slice() };
  }

  /** Takes on the blocks of `tagState()` of a level of the same shape. */
  loadTagState(state: TagState): void {
    if (state.tagLo.length !== this.tagLo.length || state.tagHi.length !== this.tagHi.length) throw new RangeError("a tag state of another shape");
    this.tagLo.set(state.tagLo);
    this.tagHi.set(state.tagHi);
    this.lastHi = EMPTY;
  }

  /** Makes set `set` hold the `ways` blocks of `lo` and `hi`, way 0 first, and empties its other ways. */
  writeSet(set: number, lo: Int32Array, hi: Int32Array, ways: number): void {
    if (ways > this.assoc) throw new RangeError(`${ways} blocks for a set of ${this.assoc} ways`);
    const base = set * this.assoc;
    for (let way = 0; way < this.assoc; way++) {
      this.tagLo[base + way] = way < ways ? lo[way] : 0;
      this.tagHi[base + way] = way < ways ? hi[way] : EMPTY;
    }
    // The block looked up last may be gone.
    this.lastHi = EMPTY;
  }

  /** Shifts ways [base, at) down one and puts the block at `base`. */
  private moveToFront(base: number, at: number, blockLo: number, blockHi: number): void {
    const tagLo = this.tagLo;
    const tagHi = this.tagHi;
    for (let way = at; way > base; way--) {
      tagLo[way] = tagLo[way - 1];
      tagHi[way] = tagHi[way - 1];
    }
    tagLo[base] = blockLo;
    tagHi[base] = blockHi;
  }

  /** xorshift32, reduced to [0, bound). */
  private nextRandom(bound: number): number {
    let x = this.randomState;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.randomState = x >>> 0;
    return this.randomState % bound;
  }
}
