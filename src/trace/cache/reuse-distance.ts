/**
 * Exact LRU stack (reuse) distances, Mattson's measure, in O(log n) per access: a Fenwick tree
 * over access times holds a 1 at each block's last use, so the blocks used since a block's
 * previous use are counted by one prefix sum. Times are renumbered (compacted) whenever they
 * run out, so memory follows the footprint (distinct blocks), not the trace's length.
 *
 * A block's distance is its depth in the LRU stack when reused (1: the block used last), so a
 * fully associative LRU cache of C blocks hits exactly the accesses of distance at most C:
 * one pass gives the miss count of every cache size.
 */
import { PAGE_SHIFT } from "../../space/address.js";
import type { AccessSink } from "./access-stream.js";
import { BlockIds, NO_BLOCK, widen } from "../block-ids.js";
import { BlockList, type BlockListState } from "../block-list.js";
import { isPowerOfTwo, log2 } from "./geometry.js";

/** A power-of-two bucket of the distance histogram: distances from..to and how many. */
export interface ReuseBucket {
  /** Least distance of the bucket (a power of two). */
  from: number;
  /** Greatest distance of the bucket. */
  to: number;
  /** Reuses at these distances. */
  count: number;
}

/** A point of the miss-ratio curve: a fully associative LRU cache of `blocks` blocks. */
export interface MissRatioPoint {
  /** Capacity in blocks. */
  blocks: number;
  /** Capacity in bytes. */
  sizeBytes: number;
  /** Misses, first touches included. */
  misses: number;
  /** Misses over references. */
  missRatio: number;
}

/** What ReuseDistance.report() gives. */
export interface ReuseReport {
  /** The granularity. */
  blockSizeBytes: number;
  /** Block references: an access that spans several blocks references each. */
  references: number;
  /** Distinct blocks touched. */
  footprintBlocks: number;
  /** First touches: misses in a cache of any size. */
  coldMisses: number;
  /** Reuses by distance, in buckets 1, 2-3, 4-7, ... up to the footprint. */
  histogram: ReuseBucket[];
  /** Misses at every power-of-two size from 1 block up to the first size that holds the footprint. */
  missRatioCurve: MissRatioPoint[];
}

/** What a part's distances hold for the merge (structured-clonable). */
export interface ReusePartState {
  /** The granularity. */
  blockSizeBytes: number;
  /** Block references in the part. */
  references: number;
  /** Reuses inside the part by exact distance (index = distance). */
  distanceCounts: Float64Array;
  /** The part's first touch of each block, in order, and (`values`) the distinct blocks it had touched before. */
  firstTouches: BlockListState;
  /** The part's blocks from least to most recently used. */
  byRecency: BlockListState;
}

/** A block's last use while a merge has taken its mark away. */
const NO_TIME = -1;

/** Times before the first compaction, and the least after one. */
const MIN_TIME_CAPACITY = 1 << 16;
/** Room for this many times the footprint after a compaction: a compaction per footprint-many accesses at most. */
const TIME_CAPACITY_PER_BLOCK = 4;
const INITIAL_BLOCKS = 1 << 10;

/** Exact reuse distances of the blocks (`blockSizeBytes`, a power of two) that an access stream touches. */
export class ReuseDistance implements AccessSink {
  /** The granularity: a page, a cache line, or any power of two. */
  readonly blockSizeBytes: number;
  private readonly blockBits: number;
  /** Reuses by exact distance (index = distance; index 0 unused). */
  private distanceCounts = new Float64Array(INITIAL_BLOCKS + 1);
  private cold = 0;
  private references = 0;
  /** Blocks seen, by dense id, and each one's time of last use. */
  private readonly ids = new BlockIds();
  private lastUse = new Int32Array(INITIAL_BLOCKS);
  /** Fenwick tree (1-based) over times; `owner[t]` is the block last used at time t. */
  private tree = new Int32Array(MIN_TIME_CAPACITY + 1);
  private owner = new Int32Array(MIN_TIME_CAPACITY);
  private now = 0;
  /** The block touched last, to answer a repeat (distance 1) without a lookup. */
  private lastId = -1;
  /**
   * For a part of a trace (reuse-parts.ts): its first touch of each block, in order, with the
   * distinct blocks it had touched before (the block's depth in the part's own stack).
   */
  private readonly firstTouches: BlockList | null;

  /**
   * Distances between references to blocks of `blockSizeBytes` (default: a page). `part`:
   * these are the distances of a part of a trace that does not start at its beginning; a
   * first touch in the part is then left to `mergePart` instead of counted cold.
   */
  constructor(blockSizeBytes: number = 1 << PAGE_SHIFT, options: { part?: boolean } = {}) {
    if (!isPowerOfTwo(blockSizeBytes) || blockSizeBytes < 2) throw new RangeError(`block size ${blockSizeBytes} is not a power of two of at least 2`);
    this.blockSizeBytes = blockSizeBytes;
    this.blockBits = log2(blockSizeBytes);
    this.firstTouches = options.part === true ? new BlockList() : null;
  }

  /** Every kind of access references its blocks alike. */
  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.access(lo, hi, sizeBytes);
  }
  /** As fetch. */
  read(lo: number, hi: number, sizeBytes: number): void {
    this.access(lo, hi, sizeBytes);
  }
  /** As fetch. */
  write(lo: number, hi: number, sizeBytes: number): void {
    this.access(lo, hi, sizeBytes);
  }
  /** As fetch: one reference to the blocks it spans. */
  modify(lo: number, hi: number, sizeBytes: number): void {
    this.access(lo, hi, sizeBytes);
  }

  /** Touches every block that `sizeBytes` bytes at the address span, in address order. */
  access(lo: number, hi: number, sizeBytes: number): void {
    const bits = this.blockBits;
    let blockLo = (hi << (32 - bits)) | (lo >>> bits);
    let blockHi = hi >>> bits;
    const spanned = ((((lo >>> 0) % this.blockSizeBytes) + sizeBytes - 1) >>> bits) + 1;
    for (let index = 0; index < spanned; index++) {
      this.touch(blockLo, blockHi);
      blockLo = (blockLo + 1) | 0;
      if (blockLo === 0) blockHi++;
    }
  }

  /** Misses of a fully associative LRU cache of `blocks` blocks (any size, not only powers of two). */
  missesAt(blocks: number): number {
    let misses = this.cold;
    for (let distance = Math.max(1, Math.floor(blocks) + 1); distance <= this.ids.size; distance++) misses += this.distanceCounts[distance];
    return misses;
  }

  /** The histogram and miss-ratio curve so far. */
  report(): ReuseReport {
    const counts = this.distanceCounts;
    const histogram: ReuseBucket[] = [];
    for (let from = 1; from <= Math.max(1, this.ids.size); from *= 2) {
      const to = from * 2 - 1;
      let count = 0;
      for (let distance = from; distance <= Math.min(to, this.ids.size); distance++) count += counts[distance];
      histogram.push({ from, to, count });
    }
    const missRatioCurve: MissRatioPoint[] = [];
    // Suffix sums: misses at size C are the cold misses plus the reuses farther than C.
    let farther = 0;
    const missesAbove = new Float64Array(this.ids.size + 2);
    for (let distance = this.ids.size; distance >= 1; distance--) {
      missesAbove[distance] = farther;
      farther += counts[distance];
    }
    for (let blocks = 1; ; blocks *= 2) {
      const misses = this.cold + (blocks <= this.ids.size ? missesAbove[blocks] : 0);
      missRatioCurve.push({ blocks, sizeBytes: blocks * this.blockSizeBytes, misses, missRatio: this.references === 0 ? 0 : misses / this.references });
      if (blocks >= this.ids.size) break;
    }
    return {
      blockSizeBytes: this.blockSizeBytes,
      references: this.references,
      footprintBlocks: this.ids.size,
      coldMisses: this.cold,
      histogram,
      missRatioCurve,
    };
  }

  private touch(blockLo: number, blockHi: number): void {
    this.references++;
    const lastId = this.lastId;
    const ids = this.ids;
    if (lastId >= 0 && ids.blockLo[lastId] === blockLo && ids.blockHi[lastId] === blockHi) {
      // The block used last: distance 1, and its mark may stay where it is.
      this.distanceCounts[1]++;
      return;
    }
    // Room for one more time first: a compaction renumbers every block's last use.
    if (this.now === this.owner.length) this.compact();
    let id = ids.find(blockLo, blockHi);
    if (id === NO_BLOCK) {
      id = ids.add(blockLo, blockHi);
      if (ids.capacity !== this.lastUse.length) this.grow();
      if (this.firstTouches === null) this.cold++;
      else this.firstTouches.add(blockLo, blockHi, id);
    } else {
      const previous = this.lastUse[id];
      // Blocks whose last use came after this one's previous use: all of them but the prefix.
      const distance = this.ids.size - this.prefix(previous) + 1;
      this.distanceCounts[distance]++;
      this.mark(previous, -1);
    }
    const time = this.now++;
    this.lastUse[id] = time;
    this.owner[time] = id;
    this.mark(time, 1);
    this.lastId = id;
  }

  /** What a part's distances hand to `mergePart` (constructed with `part`). */
  partState(): ReusePartState {
    if (this.firstTouches === null) throw new Error("partState: these distances were not made for a part");
    // The part's blocks from least to most recently used: live times in order.
    const byRecency = new BlockList();
    for (let time = 0; time < this.now; time++) {
      const id = this.owner[time];
      if (this.lastUse[id] === time) byRecency.add(this.ids.blockLo[id], this.ids.blockHi[id], 0);
    }
    return {
      blockSizeBytes: this.blockSizeBytes,
      references: this.references,
      distanceCounts: this.distanceCounts.slice(0, this.ids.size + 1),
      firstTouches: this.firstTouches.take(),
      byRecency: byRecency.take(),
    };
  }

  /**
   * Adds the distances of a part that follows everything counted here: its own reuses as
   * they are, and each of its first touches resolved against this stack (a block it had
   * touched `depth` distinct blocks into the part lies that much deeper than here, less the
   * blocks the part had already moved up); then its blocks go on top in its recency order.
   */
  mergePart(part: ReusePartState): void {
    if (part.blockSizeBytes !== this.blockSizeBytes) throw new RangeError(`cannot merge ${part.blockSizeBytes}-byte blocks into ${this.blockSizeBytes}-byte blocks`);
    const ids = this.ids;
    const most = ids.size + part.byRecency.blockLo.length + 2;
    if (this.distanceCounts.length < most) this.distanceCounts = widen(this.distanceCounts, most);
    for (let distance = 1; distance < part.distanceCounts.length; distance++) this.distanceCounts[distance] += part.distanceCounts[distance];
    this.references += part.references;
    // Blocks with a mark here: every block but those the part has taken up so far.
    let marked = ids.size;
    const { blockLo, blockHi, values: depth } = part.firstTouches;
    for (let index = 0; index < blockLo.length; index++) {
      const id = ids.find(blockLo[index], blockHi[index]);
      if (id === NO_BLOCK) {
        this.cold++;
        continue;
      }
      const previous = this.lastUse[id];
      this.distanceCounts[depth[index] + marked - this.prefix(previous) + 1]++;
      this.mark(previous, -1);
      this.lastUse[id] = NO_TIME;
      marked--;
    }
    for (let index = 0; index < part.byRecency.blockLo.length; index++) {
      if (this.now === this.owner.length) this.compact();
      let id = ids.find(part.byRecency.blockLo[index], part.byRecency.blockHi[index]);
      if (id === NO_BLOCK) {
        id = ids.add(part.byRecency.blockLo[index], part.byRecency.blockHi[index]);
        if (ids.capacity !== this.lastUse.length) this.grow();
      }
      const time = this.now++;
      this.lastUse[id] = time;
      this.owner[time] = id;
      this.mark(time, 1);
      this.lastId = id;
    }
  }

  /** Adds `delta` at time `time`. */
  private mark(time: number, delta: number): void {
    const tree = this.tree;
    const size = tree.length - 1;
    for (let at = time + 1; at <= size; at += at & -at) tree[at] += delta;
  }

  /** Marks at times 0..time. */
  private prefix(time: number): number {
    const tree = this.tree;
    let sum = 0;
    for (let at = time + 1; at > 0; at -= at & -at) sum += tree[at];
    return sum;
  }

  /** Renumbers the live times 0..blocks-1 in order, in room for TIME_CAPACITY_PER_BLOCK times the footprint. */
  private compact(): void {
    const capacity = Math.max(MIN_TIME_CAPACITY, this.ids.size * TIME_CAPACITY_PER_BLOCK);
    const owner = new Int32Array(capacity);
    let next = 0;
    for (let time = 0; time < this.now; time++) {
      const id = this.owner[time];
      if (this.lastUse[id] === time) {
        this.lastUse[id] = next;
        owner[next++] = id;
      }
    }
    // Every time 0..next-1 holds a mark: build the tree in one pass.
    const tree = new Int32Array(capacity + 1);
    for (let at = 1; at <= capacity; at++) {
      if (at <= next) tree[at] += 1;
      const parent = at + (at & -at);
      if (parent <= capacity) tree[parent] += tree[at];
    }
    this.owner = owner;
    this.tree = tree;
    this.now = next;
  }

  /** Widens the per-block arrays to the ids' capacity. */
  private grow(): void {
    const capacity = this.ids.capacity;
    this.lastUse = widen(this.lastUse, capacity);
    if (this.distanceCounts.length < capacity + 1) this.distanceCounts = widen(this.distanceCounts, capacity + 1);
  }
}
