import { checkOrder, Geometry } from "./geometry.js";
import { lockMutex, unlockMutex } from "../futex-mutex.js";
import { FrameAllocatorError, type PageFrameAllocator } from "./page-frame-allocator.js";

const enum Word {
  Magic = 0,
  FrameCount = 1,
  Free = 2,
  /** 0 unlocked, 1 locked, 2 locked with waiters (Drepper's futex mutex). */
  Lock = 3,
  Heads = 16,
}
const MAGIC = 0x4d534c42; // "MSLB"
const NONE = -1;

/**
 * Baseline: the classic buddy allocator (free lists per order, buddies merged on put)
 * behind one mutex, as Linux's zone lock guards its buddy lists. All state is in a
 * SharedArrayBuffer: list heads, per-frame next/prev links, and per frame the order of the
 * free block it starts (+1) or of the allocation it starts (-(order + 1)).
 */
export class LockedBuddyAllocator implements PageFrameAllocator {
  /** The shared state other workers attach to. */
  readonly buffer: SharedArrayBuffer;
  /** Frames managed (4 KiB each). */
  readonly frameCount: number;
  private readonly words: Int32Array;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  private readonly state: Int8Array;

  /** A new allocator of `frameCount` frames, every one free, and a first handle on it. */
  static create(frameCount: number): LockedBuddyAllocator {
    const buffer = new SharedArrayBuffer((Word.Heads + Geometry.MaxOrder + 1) * 4 + frameCount * 9);
    const words = new Int32Array(buffer, 0, Word.Heads + Geometry.MaxOrder + 1);
    words[Word.Magic] = MAGIC;
    words[Word.FrameCount] = frameCount;
    words.fill(NONE, Word.Heads);
    const allocator = new LockedBuddyAllocator(buffer);
    // Carve memory into the largest aligned blocks that fit.
    for (let frame = 0; frame < frameCount; ) {
      let order = Geometry.MaxOrder;
      while (frame % (1 << order) !== 0 || frame + (1 << order) > frameCount) order--;
      allocator.pushFree(frame, order);
      frame += 1 << order;
    }
    words[Word.Free] = frameCount;
    return allocator;
  }

  /** Another worker's handle on an allocator's buffer. */
  static attach(buffer: SharedArrayBuffer): LockedBuddyAllocator {
    return new LockedBuddyAllocator(buffer);
  }

  private constructor(buffer: SharedArrayBuffer) {
    const head = new Int32Array(buffer, 0, Word.Heads);
    if (head[Word.Magic] !== MAGIC) throw new FrameAllocatorError("not a buddy allocator buffer");
    this.buffer = buffer;
    this.frameCount = head[Word.FrameCount];
    const linksByte = (Word.Heads + Geometry.MaxOrder + 1) * 4;
    this.words = new Int32Array(buffer, 0, Word.Heads + Geometry.MaxOrder + 1);
    this.next = new Int32Array(buffer, linksByte, this.frameCount);
    this.prev = new Int32Array(buffer, linksByte + this.frameCount * 4, this.frameCount);
    this.state = new Int8Array(buffer, linksByte + this.frameCount * 8, this.frameCount);
  }

  /** First frame of a free run of 2^order frames, now allocated; -1 if there is none. */
  get(order = 0): number {
    checkOrder(order);
    this.lock();
    let found = order;
    while (found <= Geometry.MaxOrder && this.words[Word.Heads + found] === NONE) found++;
    let frame = NONE;
    if (found <= Geometry.MaxOrder) {
      frame = this.words[Word.Heads + found];
      this.unlink(frame, found);
      // Split: the upper halves go back on the lists below.
      while (found > order) {
        found--;
        this.pushFree(frame + (1 << found), found);
      }
      this.state[frame] = -(order + 1);
      this.words[Word.Free] -= 1 << order;
    }
    this.unlock();
    return frame;
  }

  /** Frees a run that `get(order)` returned; throws (changing nothing) on misuse. */
  put(frame: number, order = 0): void {
    checkOrder(order);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount) throw new FrameAllocatorError(`put of frame ${frame}: outside this allocator`);
    this.lock();
    if (this.state[frame] !== -(order + 1)) {
      const recorded = this.state[frame];
      this.unlock();
      throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): ${recorded < 0 ? `allocated with order ${-recorded - 1}` : "not allocated"}`);
    }
    this.state[frame] = 0;
    this.words[Word.Free] += 1 << order;
    let block = frame;
    let blockOrder = order;
    while (blockOrder < Geometry.MaxOrder) {
      const buddy = block ^ (1 << blockOrder);
      if (buddy + (1 << blockOrder) > this.frameCount || this.state[buddy] !== blockOrder + 1) break;
      this.unlink(buddy, blockOrder);
      block = Math.min(block, buddy);
      blockOrder++;
    }
    this.pushFree(block, blockOrder);
    this.unlock();
  }

  /** Frames free (exact while no worker is inside get or put). */
  freeFrames(): number {
    return Atomics.load(this.words, Word.Free);
  }

  /** Frames allocated: frameCount less freeFrames(). */
  allocatedFrames(): number {
    return this.frameCount - this.freeFrames();
  }

  private pushFree(frame: number, order: number): void {
    const head = this.words[Word.Heads + order];
    this.next[frame] = head;
    this.prev[frame] = NONE;
    if (head !== NONE) this.prev[head] = frame;
    this.words[Word.Heads + order] = frame;
    this.state[frame] = order + 1;
  }

  private unlink(frame: number, order: number): void {
    const next = this.next[frame];
    const prev = this.prev[frame];
    if (prev === NONE) this.words[Word.Heads + order] = next;
    else this.next[prev] = next;
    if (next !== NONE) this.prev[next] = prev;
    this.state[frame] = 0;
  }

  private lock(): void {
    lockMutex(this.words, Word.Lock);
  }

  private unlock(): void {
    unlockMutex(this.words, Word.Lock);
  }
}
