/**
 * References per block (a page, a line): a count beside each block's dense id (BlockIds).
 * Memory follows the footprint (distinct blocks), never the trace's length. Counts add, so
 * two counters of disjoint parts of a trace merge into the counter of the whole.
 */

import { BlockIds, NO_BLOCK, widen } from "../block-ids.js";
import { isPowerOfTwo, log2 } from "../cache/geometry.js";

/** A BlockCounter's counts as plain arrays, by id. */
export interface BlockCounterState {
  blockSizeBytes: number;
  blockLo: Int32Array;
  blockHi: Int32Array;
  counts: Float64Array;
}

/** Reference counts of the blocks of one size that a trace touches. */
export class BlockCounter {
  /** log2 of the block size. */
  readonly blockBits: number;
  private readonly ids = new BlockIds();
  private counts = new Float64Array(this.ids.capacity);
  /** The block counted last: a run of references to one block needs no lookup. */
  private lastId = -1;

  /** Counts blocks of `blockSizeBytes` (a power of two). */
  constructor(readonly blockSizeBytes: number) {
    if (!isPowerOfTwo(blockSizeBytes) || blockSizeBytes < 2) throw new RangeError(`block size ${blockSizeBytes} is not a power of two of at least 2`);
    this.blockBits = log2(blockSizeBytes);
  }

  /** Distinct blocks counted. */
  get size(): number {
    return this.ids.size;
  }

  /** Slots the per-block arrays hold before they grow: ids below it are valid indexes of per-id arrays kept beside this counter. */
  get capacity(): number {
    return this.ids.capacity;
  }

  /** Adds `references` to block (blockLo, blockHi), the block number's two words; returns the block's id. */
  add(blockLo: number, blockHi: number, references: number): number {
    let id = this.lastId;
    const ids = this.ids;
    if (id < 0 || ids.blockLo[id] !== blockLo || ids.blockHi[id] !== blockHi) {
      id = ids.find(blockLo, blockHi);
      if (id === NO_BLOCK) {
        id = ids.add(blockLo, blockHi);
        if (ids.capacity !== this.counts.length) this.counts = widen(this.counts, ids.capacity);
      }
      this.lastId = id;
    }
    this.counts[id] += references;
    return id;
  }

  /** One reference to block (blockLo, blockHi). */
  touch(blockLo: number, blockHi: number): void {
    this.add(blockLo, blockHi, 1);
  }

  /** References to block `id`. */
  countOf(id: number): number {
    return this.counts[id];
  }

  /** Sum of all references. */
  total(): number {
    let sum = 0;
    for (let id = 0; id < this.ids.size; id++) sum += this.counts[id];
    return sum;
  }

  /** The first byte's address of block `id`. */
  addressOf(id: number): bigint {
    return ((BigInt(this.ids.blockHi[id] >>> 0) << 32n) | BigInt(this.ids.blockLo[id] >>> 0)) << BigInt(this.blockBits);
  }

  /** The counts as plain arrays, by id (structured-clonable: a worker posts them). */
  state(): BlockCounterState {
    const size = this.ids.size;
    return { blockSizeBytes: this.blockSizeBytes, blockLo: this.ids.blockLo.slice(0, size), blockHi: this.ids.blockHi.slice(0, size), counts: this.counts.slice(0, size) };
  }

  /** Adds every count of another counter's state (same block size); returns, by its id, the id here. */
  merge(other: BlockCounterState): Int32Array {
    if (other.blockSizeBytes !== this.blockSizeBytes) throw new RangeError(`cannot merge ${other.blockSizeBytes}-byte blocks into ${this.blockSizeBytes}-byte blocks`);
    const here = new Int32Array(other.counts.length);
    for (let id = 0; id < other.counts.length; id++) here[id] = this.add(other.blockLo[id], other.blockHi[id], other.counts[id]);
    return here;
  }

  /** Ids of the `n` most referenced blocks, most first; ties by address, lowest first. */
  hottest(n: number): number[] {
    const order = Array.from({ length: this.ids.size }, (_, id) => id);
    order.sort((a, b) => this.counts[b] - this.counts[a] || this.compareAddress(a, b));
    return order.slice(0, n);
  }

  /** Orders ids by block address. */
  compareAddress(a: number, b: number): number {
    const { blockLo, blockHi } = this.ids;
    return (blockHi[a] >>> 0) - (blockHi[b] >>> 0) || (blockLo[a] >>> 0) - (blockLo[b] >>> 0);
  }
}
