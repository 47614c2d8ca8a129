import { TWO_POW_32 } from "./address.js";

const EMPTY = -1;
const INITIAL_CAPACITY_LOG2 = 10;
/** Grow when more than half full: linear probing stays short. */
const MAX_LOAD_NUMERATOR = 1;
const MAX_LOAD_DENOMINATOR = 2;

/**
 * Open-addressing hash table from page number (below 2^52) to frame number, linear probing,
 * keys as two int32 words so lookups never box a number. Deletion shifts entries back
 * (no tombstones), so probe sequences stay as short as the load factor allows.
 */
export class PageTable {
  private keysLo: Int32Array;
  private keysHi: Int32Array;
  private frames: Int32Array;
  private capacityLog2: number;
  private mask: number;
  private entryCount = 0;

  /** An empty table with room for 2^capacityLog2 slots; it doubles when more than half full. */
  constructor(capacityLog2 = INITIAL_CAPACITY_LOG2) {
    this.capacityLog2 = capacityLog2;
    const capacity = 1 << capacityLog2;
    this.mask = capacity - 1;
    this.keysLo = new Int32Array(capacity);
    this.keysHi = new Int32Array(capacity);
    this.frames = new Int32Array(capacity).fill(EMPTY);
  }

  /** Number of pages that have a frame. */
  get size(): number {
    return this.entryCount;
  }

  /** Frame of the page `(keyLo, keyHi)` (low and high 32 bits of the page number), or -1. */
  get(keyLo: number, keyHi: number): number {
    let index = this.slotOf(keyLo, keyHi);
    for (;;) {
      const frame = this.frames[index];
      if (frame === EMPTY) return EMPTY;
      if (this.keysLo[index] === (keyLo | 0) && this.keysHi[index] === (keyHi | 0)) return frame;
      index = (index + 1) & this.mask;
    }
  }

  /** Sets the frame of a page; returns the previous frame or -1. */
  set(keyLo: number, keyHi: number, frame: number): number {
    if (frame < 0) throw new Error(`page table: invalid frame ${frame}`);
    let index = this.slotOf(keyLo, keyHi);
    for (;;) {
      const current = this.frames[index];
      if (current === EMPTY) break;
      if (this.keysLo[index] === (keyLo | 0) && this.keysHi[index] === (keyHi | 0)) {
        this.frames[index] = frame;
        return current;
      }
      index = (index + 1) & this.mask;
    }
    this.keysLo[index] = keyLo;
    this.keysHi[index] = keyHi;
    this.frames[index] = frame;
    this.entryCount++;
    if (this.entryCount * MAX_LOAD_DENOMINATOR > (this.mask + 1) * MAX_LOAD_NUMERATOR) this.grow();
    return EMPTY;
  }

  /** Removes a page; returns its frame or -1 if it had none. */
  delete(keyLo: number, keyHi: number): number {
    let index = this.slotOf(keyLo, keyHi);
    for (;;) {
      const frame = this.frames[index];
      if (frame === EMPTY) return EMPTY;
      if (this.keysLo[index] === (keyLo | 0) && this.keysHi[index] === (keyHi | 0)) {
        this.removeAt(index);
        return frame;
      }
      index = (index + 1) & this.mask;
    }
  }

  /** Calls `visit(pageNumber, frame)` for every entry. Do not modify the table meanwhile. */
  forEach(visit: (pageNumber: number, frame: number) => void): void {
    for (let index = 0; index <= this.mask; index++) {
      const frame = this.frames[index];
      if (frame !== EMPTY) visit((this.keysHi[index] >>> 0) * TWO_POW_32 + (this.keysLo[index] >>> 0), frame);
    }
  }

  /** An independent copy with the same entries and capacity. */
  clone(): PageTable {
    const copy = new PageTable(this.capacityLog2);
    copy.keysLo.set(this.keysLo);
    copy.keysHi.set(this.keysHi);
    copy.frames.set(this.frames);
    copy.entryCount = this.entryCount;
    return copy;
  }

  private slotOf(keyLo: number, keyHi: number): number {
    const mixed = Math.imul(keyLo ^ Math.imul(keyHi, 0x85ebca6b), 0x9e3779b1);
    return (mixed >>> (32 - this.capacityLog2)) & this.mask;
  }

  /** Backward-shift deletion: pull later entries of the cluster into the hole. */
  private removeAt(hole: number): void {
    this.frames[hole] = EMPTY;
    this.entryCount--;
    let index = (hole + 1) & this.mask;
    while (this.frames[index] !== EMPTY) {
      const home = this.slotOf(this.keysLo[index], this.keysHi[index]);
      // Move the entry if the hole lies cyclically within [home, index).
      const distanceToIndex = (index - home) & this.mask;
      const distanceToHole = (hole - home) & this.mask;
      if (distanceToHole < distanceToIndex) {
        this.keysLo[hole] = this.keysLo[index];
        this.keysHi[hole] = this.keysHi[index];
        this.frames[hole] = this.frames[index];
        this.frames[index] = EMPTY;
        hole = index;
      }
      index = (index + 1) & this.mask;
    }
  }

  private grow(): void {
    const oldLo = this.keysLo;
    const oldHi = this.keysHi;
    const oldFrames = this.frames;
    this.capacityLog2++;
    const capacity = 1 << this.capacityLog2;
    this.mask = capacity - 1;
    this.keysLo = new Int32Array(capacity);
    this.keysHi = new Int32Array(capacity);
    this.frames = new Int32Array(capacity).fill(EMPTY);
    this.entryCount = 0;
    for (let index = 0; index < oldFrames.length; index++) {
      if (oldFrames[index] !== EMPTY) this.set(oldLo[index], oldHi[index], oldFrames[index]);
    }
  }
}
