import { widen } from "./block-ids.js";

/** A list's contents: block numbers' two words and the number beside each. */
export interface BlockListState {
  /** Low words of the block numbers. */
  blockLo: Int32Array;
  /** High words of the block numbers. */
  blockHi: Int32Array;
  /** The number beside each block (what it means is the list owner's). */
  values: Int32Array;
}

/** A growing list of blocks, each with a number beside it. */
export class BlockList {
  private blockLo: Int32Array = new Int32Array(256);
  private blockHi: Int32Array = new Int32Array(256);
  private values: Int32Array = new Int32Array(256);
  private count = 0;

  add(blockLo: number, blockHi: number, value: number): void {
    if (this.count === this.values.length) {
      this.blockLo = widen(this.blockLo as Int32Array<ArrayBuffer>, this.count * 2);
      this.blockHi = widen(this.blockHi as Int32Array<ArrayBuffer>, this.count * 2);
      this.values = widen(this.values as Int32Array<ArrayBuffer>, this.count * 2);
    }
    this.blockLo[this.count] = blockLo;
    this.blockHi[this.count] = blockHi;
    this.values[this.count] = value;
    this.count++;
  }

  take(): BlockListState {
    return { blockLo: this.blockLo.slice(0, this.count), blockHi: this.blockHi.slice(0, this.count), values: this.values.slice(0, this.count) };
  }
}
