import { claimRun, releaseRun } from "./bitfield.js";
import { checkOrder } from "./geometry.js";
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
  readonly buffer: SharedArrayBuffer;
  readonly frameCount: number;
  private readonly words: Int32Array;
  private readonly wordCount: number;
  private nextWord = 0;

  static create(frameCount: number): BitmapScanAllocator {
    const wordCount = Math.ceil(frameCount / 1024) * 32; // whole order-10 runs of words
    const buffer = new SharedArrayBuffer((Word.Bits + wordCount) * 4);
    const words = new Int32Array(buffer);
    words[Word.Magic] = MAGIC;
    words[Word.FrameCount] = frameCount;
    words[Word.Free] = frameCount;
    for (let bit = frameCount; bit < wordCount * 32; bit++) words[Word.Bits + (bit >>> 5)] |= 1 << (bit & 31);
    return new BitmapScanAllocator(buffer, 0);
  }

  static attach(buffer: SharedArrayBuffer, worker: number, workers: number): BitmapScanAllocator {
    return new BitmapScanAllocator(buffer, Math.floor((worker * new Int32Array(buffer)[Word.FrameCount]) / 32 / Math.max(1, workers)));
  }

  private constructor(buffer: SharedArrayBuffer, startWord: number) {
    this.words = new Int32Array(buffer);
    if (this.words[Word.Magic] !== MAGIC) throw new FrameAllocatorError("not a bitmap allocator buffer");
    this.buffer = buffer;
    this.frameCount = this.words[Word.FrameCount];
    this.wordCount = this.words.length - Word.Bits;
    this.nextWord = startWord;
  }

  get(order = 0): number {
    checkOrder(order);
    const bit = claimRun(this.words, Word.Bits, this.wordCount, order, this.nextWord, null);
    if (bit < 0) return -1;
    this.nextWord = bit >>> 5;
    Atomics.sub(this.words, Word.Free, 1 << order);
    return bit;
  }

  put(frame: number, order = 0): void {
    checkOrder(order);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount || frame % (1 << order) !== 0) {
      throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not a run of this allocator`);
    }
    if (!releaseRun(this.words, Word.Bits, frame, order, null)) throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not allocated`);
    Atomics.add(this.words, Word.Free, 1 << order);
  }

  freeFrames(): number {
    return Atomics.load(this.words, Word.Free);
  }

  allocatedFrames(): number {
    return this.frameCount - this.freeFrames();
  }
}
