/**
 * References per block (a page, a line): an open-addressing table from a 64-bit block number,
 * as two int32 words, to a dense id and a count. Memory follows the footprint (distinct
 * blocks), never the trace's length. Counts add, so two counters of disjoint parts of a trace
 * merge into the counter of the whole.
 */

import { isPowerOfTwo, log2 } from "../cache/geometry.js";

const INITIAL_BLOCKS = 1 << 10;
/** Empty slot of the table. */
const NO_BLOCK = -1;

/** Reference counts of the blocks of one size that a trace touches. */
export class BlockCounter {
  /** log2 of the block size. */
  readonly blockBits: number;
  private blockLo = new Int32Array(INITIAL_BLOCKS);
  private blockHi = new Int32Array(INITIAL_BLOCKS);
  private counts = new Float64Array(INITIAL_BLOCKS);
  private blocks = 0;
  /** Open addressing from block number to id, kept at most half full. */
  private table = new Int32Array(INITIAL_BLOCKS * 2).fill(NO_BLOCK);
  /** The block counted last: a run of references to one block needs no lookup. */
  private lastId = -1;

  /** Counts blocks of `blockSizeBytes` (a power of two). */
  constructor(readonly blockSizeBytes: number) {
    if (!isPowerOfTwo(blockSizeBytes) || blockSizeBytes < 2) throw new RangeError(`block size ${blockSizeBytes} is not a power of two of at least 2`);
    this.blockBits = log2(blockSizeBytes);
  }

  /** Distinct blocks counted. */
  get size(): number {
    return this.blocks;
  }

  /** Slots the per-block arrays hold before they grow: ids below it are valid indexes of per-id arrays kept beside this counter. */
  get capacity(): number {
    return this.blockLo.length;
  }

  /** Adds `references` to block (blockLo, blockHi), the block number's two words; returns the block's id. */
  add(blockLo: number, blockHi: number, references: number): number {
    let id = this.lastId;
    if (id < 0 || this.blockLo[id] !== blockLo || this.blockHi[id] !== blockHi) {
      id = this.find(blockLo, blockHi);
      if (id === NO_BLOCK) id = this.insertNew(blockLo, blockHi);
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
    for (let id = 0; id < this.blocks; id++) sum += this.counts[id];
    return sum;
  }

  /** The first byte's address of block `id`. */
  addressOf(id: number): bigint {
    return ((BigInt(this.blockHi[id] >>> 0) << 32n) | BigInt(this.blockLo[id] >>> 0)) << BigInt(this.blockBits);
  }

  /** Adds every count of `other` (same block size); returns, by `other`'s id, the id here. */
  merge(other: BlockCounter): Int32Array {
    if (other.blockSizeBytes !== this.blockSizeBytes) throw new RangeError(`cannot merge ${other.blockSizeBytes}-byte blocks into ${this.blockSizeBytes}-byte blocks`);
    const ids = new Int32Array(other.blocks);
    for (let id = 0; id < other.blocks; id++) ids[id] = this.add(other.blockLo[id], other.blockHi[id], other.counts[id]);
    return ids;
  }

  /** Ids of the `n` most referenced blocks, most first; ties by address, lowest first. */
  hottest(n: number): number[] {
    const ids = Array.from({ length: this.blocks }, (_, id) => id);
    ids.sort((a, b) => this.counts[b] - this.counts[a] || this.compareAddress(a, b));
    return ids.slice(0, n);
  }

  /** Orders ids by block address. */
  compareAddress(a: number, b: number): number {
    return (this.blockHi[a] >>> 0) - (this.blockHi[b] >>> 0) || (this.blockLo[a] >>> 0) - (this.blockLo[b] >>> 0);
  }

  private slotOf(blockLo: number, blockHi: number): number {
    return (Math.imul(blockLo ^ Math.imul(blockHi, 0x85ebca6b), 0x9e3779b1) >>> 0) & (this.table.length - 1);
  }

  private find(blockLo: number, blockHi: number): number {
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = this.slotOf(blockLo, blockHi); ; slot = (slot + 1) & mask) {
      const id = table[slot];
      if (id === NO_BLOCK || (this.blockLo[id] === blockLo && this.blockHi[id] === blockHi)) return id;
    }
  }

  private insertNew(blockLo: number, blockHi: number): number {
    if (this.blocks === this.blockLo.length) this.grow();
    const id = this.blocks++;
    this.blockLo[id] = blockLo;
    this.blockHi[id] = blockHi;
    this.link(id);
    return id;
  }

  private link(id: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let slot = this.slotOf(this.blockLo[id], this.blockHi[id]);
    while (table[slot] !== NO_BLOCK) slot = (slot + 1) & mask;
    table[slot] = id;
  }

  /** Doubles the per-block arrays and the table. */
  private grow(): void {
    const capacity = this.blockLo.length * 2;
    const lo = new Int32Array(capacity);
    lo.set(this.blockLo);
    const hi = new Int32Array(capacity);
    hi.set(this.blockHi);
    const counts = new Float64Array(capacity);
    counts.set(this.counts);
    this.blockLo = lo;
    this.blockHi = hi;
    this.counts = counts;
    this.table = new Int32Array(capacity * 2).fill(NO_BLOCK);
    for (let id = 0; id < this.blocks; id++) this.link(id);
  }
}
