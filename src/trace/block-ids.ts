/**
 * Dense ids for 64-bit block numbers (a page, a line: the address shifted right), kept as two
 * int32 words: an open-addressing table, at most half full, and the numbers by id. Memory
 * follows the footprint (distinct blocks), never the trace's length. Owners keep per-block
 * arrays indexed by id beside it and grow them to `capacity`.
 */

const INITIAL_BLOCKS = 1 << 10;
/** An empty slot of the table; what `find` returns for a block it has not seen. */
export const NO_BLOCK = -1;

/** The blocks seen so far, each with a dense id from 0. */
export class BlockIds {
  /** Low word of each block's number, by id. */
  blockLo = new Int32Array(INITIAL_BLOCKS);
  /** High word of each block's number, by id. */
  blockHi = new Int32Array(INITIAL_BLOCKS);
  /** Distinct blocks: ids run from 0 to size - 1. */
  size = 0;
  private table = new Int32Array(INITIAL_BLOCKS * 2).fill(NO_BLOCK);

  /** Ids below this fit the arrays; it doubles when `add` needs room. */
  get capacity(): number {
    return this.blockLo.length;
  }

  /** The id of block (blockLo, blockHi), or NO_BLOCK. */
  find(blockLo: number, blockHi: number): number {
    const table = this.table;
    const mask = table.length - 1;
    for (let slot = slotOf(blockLo, blockHi, mask); ; slot = (slot + 1) & mask) {
      const id = table[slot];
      if (id === NO_BLOCK) return NO_BLOCK;
      if (this.blockLo[id] === blockLo && this.blockHi[id] === blockHi) return id;
    }
  }

  /** Gives a block `find` did not know the next id. */
  add(blockLo: number, blockHi: number): number {
    if (this.size === this.blockLo.length) this.grow();
    const id = this.size++;
    this.blockLo[id] = blockLo;
    this.blockHi[id] = blockHi;
    this.link(id);
    return id;
  }

  /** The block's id, added if new. */
  idOf(blockLo: number, blockHi: number): number {
    const id = this.find(blockLo, blockHi);
    return id === NO_BLOCK ? this.add(blockLo, blockHi) : id;
  }

  private link(id: number): void {
    const table = this.table;
    const mask = table.length - 1;
    let slot = slotOf(this.blockLo[id], this.blockHi[id], mask);
    while (table[slot] !== NO_BLOCK) slot = (slot + 1) & mask;
    table[slot] = id;
  }

  /** Doubles the arrays and the table. */
  private grow(): void {
    const capacity = this.blockLo.length * 2;
    this.blockLo = widen(this.blockLo, capacity);
    this.blockHi = widen(this.blockHi, capacity);
    this.table = new Int32Array(capacity * 2).fill(NO_BLOCK);
    for (let id = 0; id < this.size; id++) this.link(id);
  }
}

function slotOf(blockLo: number, blockHi: number, mask: number): number {
  return (Math.imul(blockLo ^ Math.imul(blockHi, 0x85ebca6b), 0x9e3779b1) >>> 0) & mask;
}

/** A copy of `array` in `length` elements (the rest zero). */
export function widen<T extends Int32Array<ArrayBuffer> | Float64Array<ArrayBuffer>>(array: T, length: number): T {
  const wider = new (array.constructor as new (length: number) => T)(length);
  wider.set(array);
  return wider;
}
