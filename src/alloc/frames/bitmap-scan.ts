import { BitWord, claimRun, releaseRun } from "./lower/bitfield.js";
import { checkOrder, Geometry } from "./geometry.js";
import { FrameAllocatorError, type PageFrameAllocator } from "./page-frame-allocator.js";

const enum Word {
  Magic = 0,
  FrameCount = 1,
  Free = 2,
  Bits = 16,
}
const MAGIC = 0x4d534253; // "MSBS"

/**
 * Baseline: one flat atomic bitmap over all frames, searched linearly (next fit: each
 * worker resumes where its last search ended) with a global free counter. The same bitfield
 * layer as LLFree, without children and trees: what the hierarchy buys is measured against
 * this. A put checks only that the bits were set (no order map).
 */
export class BitmapScanAllocator implements PageFrameAllocator {
  /** The shared state other workers attach to. */
  readonly buffer: SharedArrayBuffer;
  /** Frames managed (4 KiB each). */
  readonly frameCount: number;
  private readonly words: Int32Array;
  private readonly wordCount: number;
  private nextWord = 0;

  /** A new allocator of `frameCount` frames, every one free, and a first handle on it. */
  static create(frameCount: number): BitmapScanAllocator {
    // Whole runs of the largest order, so the last one's words are all there.
    const maxRunFrames = 1 << Geometry.MaxOrder;
    const wordCount = (Math.ceil(frameCount / maxRunFrames) * maxRunFrames) / BitWord.Bits;
    const buffer = new SharedArrayBuffer((Word.Bits + wordCount) * Int32Array.BYTES_PER_ELEMENT);
    const words = new Int32Array(buffer);
    words[Word.Magic] = MAGIC;
    words[Word.FrameCount] = frameCount;
    words[Word.Free] = frameCount;
    for (let bit = frameCount; bit < wordCount * BitWord.Bits; bit++) words[Word.Bits + (bit >>> BitWord.Shift)] |= 1 << (bit & BitWord.Mask);
    return new BitmapScanAllocator(buffer, 0);
  }

  /** Worker `worker` of `workers`'s handle on an allocator's buffer: its searches start at its share of the bitmap. */
  static attach(buffer: SharedArrayBuffer, worker: number, workers: number): BitmapScanAllocator {
    return new BitmapScanAllocator(buffer, Math.floor((worker * new Int32Array(buffer)[Word.FrameCount]) / BitWord.Bits / Math.max(1, workers)));
  }

  private constructor(buffer: SharedArrayBuffer, startWord: number) {
    this.words = new Int32Array(buffer);
    if (this.words[Word.Magic] !== MAGIC) throw new FrameAllocatorError("not a bitmap allocator buffer");
    this.buffer = buffer;
    this.frameCount = this.words[Word.FrameCount];
    this.wordCount = this.words.length - Word.Bits;
    this.nextWord = startWord;
  }

  /** First frame of a free run of 2^order frames, now allocated; -1 if there is none. */
  get(order = 0): number {
    checkOrder(order);
    const bit = claimRun(this.words, Word.Bits, this.wordCount, order, this.nextWord, null);
    if (bit < 0) return -1;
    this.nextWord = bit >>> BitWord.Shift;
    Atomics.sub(this.words, Word.Free, 1 << order);
    return bit;
  }

  /** Frees a run that `get(order)` returned; throws (changing nothing) on misuse. */
  put(frame: number, order = 0): void {
    checkOrder(order);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount || frame % (1 << order) !== 0) {
      throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not a run of this allocator`);
    }
    if (!releaseRun(this.words, Word.Bits, frame, order, null)) throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not allocated`);
    Atomics.add(this.words, Word.Free, 1 << order);
  }

  /** Frames free (exact while no worker is inside get or put). */
  freeFrames(): number {
    return Atomics.load(this.words, Word.Free);
  }

  /** Frames allocated: frameCount less freeFrames(). */
  allocatedFrames(): number {
    return this.frameCount - this.freeFrames();
  }
}
