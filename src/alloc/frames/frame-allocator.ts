import { availableParallelism } from "node:os";
import { auditChild, claimRun, finishRelease, releaseRun, repairChild, reserveTail, runOrderAt, runWordCount, WORDS_PER_CHILD } from "./run-field.js";
import { createSharedFile, openSharedFile } from "../../durable/files.js";
import { FileMedium, type Durability, type PersistMedium } from "../../durable/medium.js";
import {
  checkOrder,
  CHILD_SHIFT,
  CHILDREN_PER_TREE,
  FRAMES_PER_CHILD,
  FRAMES_PER_TREE,
  HUGE_ORDER,
  MAX_ORDER,
  TREE_SHIFT,
} from "./geometry.js";
import { frameLayout, Header, HEADER_WORDS, LAYOUT_VERSION, MAGIC, MAX_WORKERS, TREE_STRIDE_WORDS, WORKER_STRIDE_WORDS, type FrameLayout } from "./layout.js";
import { FrameAllocatorError, type PageFrameAllocator } from "./page-frame-allocator.js";
import { PAGE_SIZE_BYTES } from "../../space/address.js";
import type { FrameSource } from "../../space/frame-source.js";
import type { SyncHook } from "./sync-hook.js";

/**
 * A tree's cache line: its free counter (signed: a worker that allocates straight from the
 * children of another worker's tree leaves a debt there) and the worker that reserved it
 * (index + 1, 0 for none).
 */
const enum TreeLine {
  Free = 0,
  Owner = 1,
}
/** A worker's cache line: the frames of its tree it holds as a private budget, and that tree (+ 1). */
const enum WorkerLine {
  Budget = 0,
  Tree = 1,
}
/**
 * Child word: free frames in the low 10 bits; a flag while the child is one huge frame
 * (order 9), and another on both children of an order-10 pair, so put can tell them apart.
 */
const CHILD_FREE_MASK = 0x3ff;
const CHILD_HUGE = 1 << 10;
const CHILD_PAIR = 1 << 11;
/** A worker's credits for another tree reach its counter once they add up to this. */
const PENDING_FLUSH_FRAMES = 4096;
/**
 * A partly used tree is worth reserving with room for this many runs of the order asked
 * for (or an eighth of a tree): huge frames freed at random spread evenly over the trees,
 * and a tree taken with 4 of them free sent every fifth get searching (rand order 9).
 */
const PLENTY_RUNS = 16;
/**
 * After this many searches in a row served outside its home range, a worker searches all
 * trees alike: it is evidently not sharing the allocator with as many workers as it was
 * told (see getElsewhere).
 */
const AWAY_STREAK_LIMIT = 8;
/** The kinds of unreserved tree a search for a new tree looks for, one pass each. */
const enum TreeSearch {
  /** Partly used, with room for PLENTY_RUNS runs. */
  Plenty,
  Whole,
  /** Partly used, with room for fewer. */
  Few,
  /** Whole, or partly used with plenty. */
  Roomy,
}
/**
 * The searches for a new tree, tier by tier: each tier's passes run over the home range,
 * then over the other trees, before the next tier (see getElsewhere).
 */
const SMALL_SEARCH: readonly (readonly TreeSearch[])[] = [[TreeSearch.Plenty, TreeSearch.Whole], [TreeSearch.Few]];
const HUGE_SEARCH: readonly (readonly TreeSearch[])[] = [[TreeSearch.Roomy], [TreeSearch.Few]];

function inSearch(pass: TreeSearch, whole: boolean, plenty: boolean): boolean {
  switch (pass) {
    case TreeSearch.Plenty:
      return !whole && plenty;
    case TreeSearch.Whole:
      return whole;
    case TreeSearch.Few:
      return !whole && !plenty;
    case TreeSearch.Roomy:
      return whole || plenty;
  }
}
/** Bounded retries for a counter that keeps changing under us. */
const MAX_COUNTER_RETRIES = 1 << 12;

export interface FrameAllocatorOptions {
  /** Number of 4 KiB frames managed. */
  frames: number;
  /** Also hold the frames' bytes in the buffer (at most 2^20 frames); default false. */
  backed?: boolean;
}

export interface AttachOptions {
  /**
   * This worker's index (0 to 63), unique among live handles: it owns a budget slot in the
   * buffer. Default: the order in which handles attach.
   */
  worker?: number;
  /**
   * How many workers share the allocator: each gets a home range of treeCount / workers
   * trees, where it looks for trees first (a worker alone on an allocator it was told to
   * share soon looks everywhere alike). Default: this machine's cores.
   */
  workers?: number;
}

/**
 * A lock-free page-frame allocator after LLFree. All state lives in a SharedArrayBuffer:
 * per 512 frames a run field and a free counter (a "child", see run-field.ts), per 32
 * children a tree counter, per worker a budget.
 *
 * As in LLFree, each worker reserves a tree and moves the tree's free counter into a private
 * budget; it then allocates inside that tree paying for each run from its budget (no shared
 * counter touched), and frees into it by adding to its budget. Frees into other trees add to
 * their counters, which the reserving worker collects when its budget runs short. When no
 * tree has enough, a worker allocates straight from any child with enough free frames,
 * reserved or not, and leaves a debt (a negative amount) on that tree's counter, so frames
 * parked in an idle worker's budget never make the allocator fail while frames are free.
 *
 * Counters are taken before frames are marked on get and given back after they are cleared
 * on put, so a counter never promises frames its run field does not have.
 *
 * Differences from LLFree: budgets are plain numbers in the owner's own cache line (other
 * workers only read them, in freeFrames and check), since every Atomics call costs a builtin
 * call in Node 20; a worker looks for a new tree in its own share of the trees first (LLFree
 * only starts each core at a different tree), so frees land in trees the same worker will
 * reserve again; the debt replaces LLFree's draining of other cores' reservations; runs of
 * orders 5-8 span 2-16 Int32 words claimed one by one (JS atomics stop at 32 bits without
 * BigInt).
 */
export class FrameAllocator implements PageFrameAllocator, FrameSource {
  readonly buffer: SharedArrayBuffer;
  readonly frameCount: number;
  readonly layout: FrameLayout;
  readonly worker: number;
  /** Bytes of the frames, when the allocator holds them (`backed`). */
  readonly frameBytes: Uint8Array | null;
  readonly frameView: DataView | null;

  private readonly words: Int32Array;
  /** The metadata as bytes, for writes to the persistent medium. */
  private readonly bytes: Uint8Array;
  private readonly treeCount: number;
  private readonly treesWord: number;
  /** This worker's budget line. */
  private readonly workerWord: number;
  /** This worker's pending credits, a word per tree (see put). */
  private readonly pendingWord: number;
  /** Trees whose pending word this worker may have made non-zero since its last flush (local: a flush visits only these). */
  private readonly pendingTrees: Int32Array;
  private readonly pendingListed: Uint8Array;
  private pendingTreeCount = 0;
  private readonly workersWord: number;
  private readonly childrenWord: number;
  private readonly blocksWord: number;
  /** The first tree of this worker's home range, and how many trees it has (see getElsewhere). */
  private readonly homeTree: number;
  private homeTreeCount: number;
  /** Searches in a row that found their tree outside the home range (AWAY_STREAK_LIMIT). */
  private awayStreak = 0;
  private preferredTree = -1;
  /** Frames of the preferred tree this worker may take without touching its counter. */
  private budget = 0;
  private childHint = 0;
  /** Bitfield word (0-15) of this worker's last allocation: where the next search starts. */
  private wordHint = 0;
  private sync: SyncHook | null = null;
  /** Set when opening ran crash recovery: children it repaired, and how long it took. */
  recovery: { repairedChildren: number; milliseconds: number } | null = null;
  /** Where changes to the persistent state (run fields, huge flags) go; null for a volatile allocator. */
  private medium: PersistMedium | null = null;

  static create(options: FrameAllocatorOptions, attach: AttachOptions = {}): FrameAllocator {
    const layout = frameLayout(options.frames, options.backed === true);
    const buffer = new SharedArrayBuffer(layout.totalBytes);
    initialise(buffer, layout);
    return new FrameAllocator(buffer, attach);
  }

  /** Another worker's handle on an allocator's buffer (a persistent one's file included). */
  static attach(buffer: SharedArrayBuffer, attach: AttachOptions = {}): FrameAllocator {
    return new FrameAllocator(buffer, attach);
  }

  /**
   * A persistent allocator in a file (created with `frames` frames if it does not exist).
   * Run fields and huge-frame flags live in the file; counters, trees and budgets are
   * rebuilt. If the last user did not `close()` it (a crash), opening runs recovery. With
   * durability "power" (the default) every get and put ends with fdatasync; with "process"
   * the writes survive a kill -9 but not a power loss, and cost a write() each.
   */
  static open(path: string, options: { frames?: number; durability?: Durability } = {}, attach: AttachOptions = {}): FrameAllocator {
    const durability = options.durability ?? "power";
    let file = openSharedFile(path, durability);
    if (file === null) {
      if (options.frames === undefined) throw new FrameAllocatorError(`${path}: no such allocator file (pass frames to create one)`);
      const layout = frameLayout(options.frames, false);
      const buffer = new SharedArrayBuffer(layout.totalBytes);
      initialise(buffer, layout);
      file = createSharedFile(path, buffer, durability);
    }
    const { buffer, medium } = file;
    try {
      if (buffer.byteLength < HEADER_WORDS * 4) throw new FrameAllocatorError(`${buffer.byteLength} bytes, too short for a frame allocator`);
      const header = new Int32Array(buffer, 0, HEADER_WORDS);
      if (options.frames !== undefined && header[Header.Magic] === MAGIC && header[Header.FrameCount] !== options.frames) {
        throw new FrameAllocatorError(`holds ${header[Header.FrameCount]} frames, not ${options.frames}`);
      }
      if (header[Header.Magic] !== MAGIC) throw new FrameAllocatorError(`not a frame allocator file (magic 0x${(header[Header.Magic] >>> 0).toString(16)})`);
      // Other workers' handles reach the open file through the shared header.
      header[Header.PersistFd] = medium.fd + 1;
      header[Header.Durability] = durability === "process" ? 0 : 1;
      return FrameAllocator.fromImage(buffer, medium, attach);
    } catch (error) {
      medium.close();
      throw error instanceof FrameAllocatorError ? new FrameAllocatorError(`${path}: ${error.message}`) : error;
    }
  }

  /** A fresh persistent image (every frame free, closed cleanly) for `fromImage`. */
  static createImage(frames: number): SharedArrayBuffer {
    const layout = frameLayout(frames, false);
    const buffer = new SharedArrayBuffer(layout.totalBytes);
    initialise(buffer, layout);
    new Int32Array(buffer)[Header.Clean] = 1;
    return buffer;
  }

  /**
   * An allocator over a persistent image (recovering it if it was not closed cleanly) whose
   * changes go to `medium`: `open` uses a file, tests a simulated medium.
   */
  static fromImage(buffer: SharedArrayBuffer, medium: PersistMedium, attach: AttachOptions = {}): FrameAllocator {
    const allocator = new FrameAllocator(buffer, attach);
    if (allocator.layout.backed) throw new FrameAllocatorError("a persistent frame allocator holds metadata only (backed: false)");
    allocator.medium = medium;
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    if (header[Header.Clean] !== 1) {
      const start = performance.now();
      const repairedChildren = allocator.recover();
      allocator.recovery = { repairedChildren, milliseconds: performance.now() - start };
    }
    header[Header.Clean] = 0;
    medium.persist(0, allocator.bytes.subarray(0, HEADER_WORDS * 4));
    medium.barrier();
    return allocator;
  }

  /** Orderly shutdown of a persistent allocator: everything written, then the clean flag. */
  close(): void {
    this.releasePreferredTree();
    this.flushPending();
    const medium = this.medium;
    if (medium === null) return;
    medium.persist(0, this.bytes);
    medium.barrier();
    this.words[Header.Clean] = 1;
    this.words[Header.PersistFd] = 0;
    medium.persist(0, this.bytes.subarray(0, HEADER_WORDS * 4));
    medium.barrier();
    if (medium instanceof FileMedium) medium.close();
    this.medium = null;
  }

  /**
   * Crash recovery: run fields are the truth. Drops huge flags a crash left stale (a huge
   * frame whose frames were reused, half an order-10 pair), clears inside-marks of runs half
   * persisted, recounts every child, rebuilds trees and forgets reservations and budgets.
   * Returns the number of children it had to repair.
   */
  private recover(): number {
    let repaired = 0;
    for (let tree = 0; tree < this.treeCount; tree++) {
      let treeFree = 0;
      for (let c = tree * CHILDREN_PER_TREE; c < (tree + 1) * CHILDREN_PER_TREE; c++) {
        const framesHere = Math.max(0, Math.min(FRAMES_PER_CHILD, this.frameCount - c * FRAMES_PER_CHILD));
        const repair = repairChild(this.words, this.bitsOf(c), framesHere);
        if (repair.changedWords.length > 0) repaired++;
        let flags = this.words[this.childrenWord + c] & (CHILD_HUGE | CHILD_PAIR);
        if (flags !== 0 && repair.freeFrames !== FRAMES_PER_CHILD) flags = 0; // freed, then reused
        this.words[this.childrenWord + c] = flags !== 0 ? flags : repair.freeFrames;
      }
      for (let c = tree * CHILDREN_PER_TREE; c < (tree + 1) * CHILDREN_PER_TREE; c++) {
        const word = this.words[this.childrenWord + c];
        if ((word & CHILD_PAIR) !== 0 && this.words[this.childrenWord + (c ^ 1)] !== word) {
          this.words[this.childrenWord + c] = FRAMES_PER_CHILD; // half of a pair that never (or no longer) was
          repaired++;
        }
        if ((this.words[this.childrenWord + c] & CHILD_HUGE) === 0) treeFree += this.words[this.childrenWord + c];
      }
      this.words[this.treeWordOf(tree) + TreeLine.Free] = treeFree;
      this.words[this.treeWordOf(tree) + TreeLine.Owner] = 0;
    }
    this.words.fill(0, this.workersWord, this.workersWord + MAX_WORKERS * WORKER_STRIDE_WORDS);
    this.words.fill(0, this.layout.pendingWord, this.layout.pendingWord + MAX_WORKERS * this.layout.pendingStride);
    this.preferredTree = -1;
    this.budget = 0;
    this.medium!.persist(0, this.bytes);
    this.medium!.barrier();
    return repaired;
  }

  /** Visits every allocated run (not the frames past the last one). */
  forEachRun(visit: (frame: number, order: number) => void): void {
    for (let c = 0; c < this.layout.childCount; c++) {
      const word = this.words[this.childrenWord + c];
      const firstFrame = c * FRAMES_PER_CHILD;
      if ((word & CHILD_HUGE) !== 0) {
        if ((word & CHILD_PAIR) === 0) visit(firstFrame, HUGE_ORDER);
        else if ((c & 1) === 0) visit(firstFrame, MAX_ORDER);
        continue;
      }
      const framesHere = Math.min(FRAMES_PER_CHILD, this.frameCount - firstFrame);
      for (let frame = 0; frame < framesHere; ) {
        const order = runOrderAt(this.words, this.bitsOf(c), frame);
        if (order >= 0) {
          visit(firstFrame + frame, order);
          frame += 1 << order;
        } else frame++;
      }
    }
  }

  private constructor(buffer: SharedArrayBuffer, attach: AttachOptions) {
    if (buffer.byteLength < HEADER_WORDS * 4) throw new FrameAllocatorError(`not a frame allocator buffer: ${buffer.byteLength} bytes`);
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    if (header[Header.Magic] !== MAGIC || header[Header.Version] !== LAYOUT_VERSION) {
      throw new FrameAllocatorError(`not a frame allocator buffer (magic 0x${(header[Header.Magic] >>> 0).toString(16)}, version ${header[Header.Version]})`);
    }
    const layout = frameLayout(header[Header.FrameCount], header[Header.Backed] === 1);
    if (buffer.byteLength < layout.totalBytes) throw new FrameAllocatorError(`frame allocator buffer is ${buffer.byteLength} bytes, its layout needs ${layout.totalBytes}`);
    this.buffer = buffer;
    this.layout = layout;
    this.frameCount = layout.frameCount;
    this.words = new Int32Array(buffer, 0, layout.metaBytes / 4);
    this.bytes = new Uint8Array(buffer, 0, layout.metaBytes);
    this.treeCount = layout.treeCount;
    this.treesWord = layout.treesWord;
    this.childrenWord = layout.childrenWord;
    this.blocksWord = layout.blocksWord;
    this.frameBytes = layout.backed ? new Uint8Array(buffer, layout.dataByte, layout.frameCount * PAGE_SIZE_BYTES) : null;
    this.frameView = layout.backed ? new DataView(buffer, layout.dataByte, layout.frameCount * PAGE_SIZE_BYTES) : null;
    const attachedBefore = Atomics.add(header, Header.Attached, 1);
    this.worker = attach.worker ?? attachedBefore;
    if (!Number.isInteger(this.worker) || this.worker < 0 || this.worker >= MAX_WORKERS) {
      throw new FrameAllocatorError(`worker index ${this.worker} is outside 0-${MAX_WORKERS - 1}${attach.worker === undefined ? ` (${MAX_WORKERS} handles have attached; pass worker to reuse the index of one that is gone)` : ""}`);
    }
    this.workersWord = layout.workersWord;
    this.workerWord = layout.workersWord + this.worker * WORKER_STRIDE_WORDS;
    this.pendingWord = layout.pendingWord + this.worker * layout.pendingStride;
    this.pendingTrees = new Int32Array(this.treeCount);
    this.pendingListed = new Uint8Array(this.treeCount);
    for (let tree = 0; tree < this.treeCount; tree++) if (this.words[this.pendingWord + tree] !== 0) this.listPending(tree); // a gone worker's credits
    // A handle reusing a gone worker's index inherits its reservation and budget.
    this.preferredTree = this.words[this.workerWord + WorkerLine.Tree] - 1;
    this.budget = this.words[this.workerWord + WorkerLine.Budget];
    if (header[Header.PersistFd] !== 0 && header[Header.Clean] === 0) {
      this.medium = new FileMedium(header[Header.PersistFd] - 1, header[Header.Durability] === 1 ? "power" : "process");
    }
    const workers = Math.max(attach.workers ?? availableParallelism(), this.worker + 1);
    const slot = this.worker % workers;
    this.homeTree = Math.floor((slot * this.treeCount) / workers);
    this.homeTreeCount = Math.max(1, Math.floor(((slot + 1) * this.treeCount) / workers) - this.homeTree);
  }

  /** Test mode: route every step through the interleaving harness (null turns it off). */
  setSyncHook(hook: SyncHook | null): void {
    this.sync = hook;
  }

  get(order = 0): number {
    checkOrder(order);
    let frame = -1;
    if (this.preferredTree >= 0) frame = this.getInPreferredTree(order);
    if (frame < 0) frame = this.getElsewhere(order);
    return frame;
  }

  /** `get` that throws, naming the request, when no run is free. */
  getOrThrow(order = 0): number {
    const frame = this.get(order);
    if (frame < 0) {
      throw new FrameAllocatorError(`out of frames: no free run of ${2 ** order} frames (order ${order}); ${this.freeFrames()} of ${this.frameCount} frames free`);
    }
    return frame;
  }

  put(frame: number, order = 0): void {
    checkOrder(order);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount) {
      throw new FrameAllocatorError(`put of frame ${frame}: outside this allocator's ${this.frameCount} frames`);
    }
    const frames = 1 << order;
    if (frame % frames !== 0) throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not aligned to ${frames} frames, so no run of that order starts there`);
    const child = frame >>> CHILD_SHIFT;
    if (order >= HUGE_ORDER) {
      this.putHuge(frame, child, order);
    } else {
      // Validating and freeing are one compareExchange: racing double frees get one success.
      const inChild = frame & (FRAMES_PER_CHILD - 1);
      if (!releaseRun(this.words, this.bitsOf(child), inChild, order, this.sync)) this.refusePut(frame, order);
      const wordCount = runWordCount(order);
      const firstWord = this.bitsOf(child) + (inChild >>> 4);
      // Durable before the counter offers the frames again (see run-field.ts for the order).
      if (wordCount > 1 && this.medium !== null) this.persistWords(firstWord + 1, wordCount - 1);
      if (wordCount > 1) finishRelease(this.words, this.bitsOf(child), inChild, this.sync);
      if (this.medium !== null) this.persistWords(firstWord, 1);
      if (this.sync !== null) this.sync.point();
      Atomics.add(this.words, this.childrenWord + child, frames);
    }
    const tree = frame >>> TREE_SHIFT;
    if (tree === this.preferredTree) {
      this.setBudget(this.budget + frames);
    } else {
      // Credits for other trees gather in this worker's own words and reach the tree's
      // counter in batches: with two workers freeing at random, every counter update was a
      // cache line taken from the other core. The counters only steer the search (which
      // counts this worker's own credits, and flushes them once they lie in half of the
      // trees); the last-resort search reads the children themselves.
      const pending = this.words[this.pendingWord + tree] + frames;
      if (pending < PENDING_FLUSH_FRAMES) {
        this.words[this.pendingWord + tree] = pending;
        if (this.pendingListed[tree] === 0) this.listPending(tree);
      } else {
        this.words[this.pendingWord + tree] = 0;
        if (this.sync !== null) this.sync.point();
        Atomics.add(this.words, this.treeWordOf(tree) + TreeLine.Free, pending);
      }
    }
  }

  /** Order 9 frees a child flagged huge (not pair), order 10 an aligned pair flagged both. */
  private putHuge(frame: number, child: number, order: number): void {
    const expected = order === HUGE_ORDER ? CHILD_HUGE : CHILD_HUGE | CHILD_PAIR;
    const last = child + (1 << (order - HUGE_ORDER));
    // Order 9 goes straight to the compareExchange, which validates too: a plain read first
    // would fetch the line shared and then upgrade it, two transfers from the core that
    // allocated the frame instead of one (rand order 9 on 2 workers).
    if (order !== HUGE_ORDER) for (let c = child; c < last; c++) if (this.words[this.childrenWord + c] !== expected) this.refusePut(frame, order);
    // The first child's compareExchange is the claim: of two racing frees, one wins.
    for (let c = child; c < last; c++) {
      if (this.sync !== null) this.sync.point();
      if (Atomics.compareExchange(this.words, this.childrenWord + c, expected, FRAMES_PER_CHILD) !== expected) {
        this.assert(c === child, `put of frame ${frame} (order ${order}): child ${c} changed while its pair was being freed`);
        this.refusePut(frame, order);
      }
    }
    // A crash before this is durable leaves the flag on the file: recovery drops it if the
    // frames were reused meanwhile, or the run stays allocated (the in-flight put is lost).
    if (this.medium !== null) this.persistWords(this.childrenWord + child, last - child);
  }

  /** Throws the error for a put that does not match what is allocated at `frame`. */
  private refusePut(frame: number, order: number): never {
    const actual = this.orderOf(frame);
    const what =
      actual >= 0
        ? `it was allocated with order ${actual}`
        : actual === -1
          ? "not allocated (a double free?)"
          : actual === -2
            ? "inside an allocated run, not its first frame"
            : "the frame's state is corrupt";
    throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): ${what}`);
  }

  /** Exact while no worker is inside get or put (tree counters plus workers' budgets). */
  freeFrames(): number {
    let free = 0;
    for (let tree = 0; tree < this.treeCount; tree++) free += Atomics.load(this.words, this.treeWordOf(tree) + TreeLine.Free);
    for (let worker = 0; worker < MAX_WORKERS; worker++) {
      const first = this.layout.pendingWord + worker * this.layout.pendingStride;
      for (let tree = 0; tree < this.treeCount; tree++) free += this.words[first + tree];
    }
    for (let worker = 0; worker < MAX_WORKERS; worker++) free += Atomics.load(this.words, this.workersWord + worker * WORKER_STRIDE_WORDS + WorkerLine.Budget);
    return free;
  }

  /** Gives up this worker's reserved tree (its budget, and its pending credits, go back to the tree counters). */
  releaseReservation(): void {
    this.releasePreferredTree();
    this.flushPending();
  }

  allocatedFrames(): number {
    return this.frameCount - this.freeFrames();
  }

  /**
   * Order of the allocated run that starts at `frame`; -1 if the frame is free, -2 if it is
   * inside a run, -3 if its state is corrupt.
   */
  orderOf(frame: number): number {
    const child = frame >>> CHILD_SHIFT;
    const word = this.words[this.childrenWord + child];
    if ((word & CHILD_HUGE) !== 0) {
      if ((word & CHILD_PAIR) === 0) return frame % FRAMES_PER_CHILD === 0 ? HUGE_ORDER : -2;
      return frame % (2 * FRAMES_PER_CHILD) === 0 ? MAX_ORDER : -2;
    }
    return runOrderAt(this.words, this.bitsOf(child), frame & (FRAMES_PER_CHILD - 1));
  }

  /** Byte offset of a frame in `frameBytes` / `frameView`. */
  byteOffsetOf(frame: number): number {
    return frame * PAGE_SIZE_BYTES;
  }

  /**
   * Verifies, while no worker is inside get or put: every child's frame states form aligned
   * power-of-two runs and its counter equals its free frames (0 for a huge frame, whose
   * frames are all unmarked; pairs flagged on both children), and each tree counter (plus
   * the budget of the worker that reserved it) is the sum of its children's. Throws naming
   * the first violation.
   */
  check(): void {
    for (let tree = 0; tree < this.treeCount; tree++) {
      let treeFree = 0;
      for (let c = tree * CHILDREN_PER_TREE; c < (tree + 1) * CHILDREN_PER_TREE; c++) {
        const word = this.words[this.childrenWord + c];
        const firstFrame = c * FRAMES_PER_CHILD;
        const where = `child ${c} (frames ${firstFrame}-${firstFrame + FRAMES_PER_CHILD - 1})`;
        const framesHere = Math.max(0, Math.min(FRAMES_PER_CHILD, this.frameCount - firstFrame));
        const audit = auditChild(this.words, this.bitsOf(c), framesHere);
        if (audit.problem !== null) this.fail(`${where}: ${audit.problem}`);
        if ((word & CHILD_HUGE) !== 0) {
          if ((word & CHILD_FREE_MASK) !== 0 || audit.freeFrames !== FRAMES_PER_CHILD) this.fail(`${where}: huge, yet counter ${word & CHILD_FREE_MASK} and ${FRAMES_PER_CHILD - audit.freeFrames} frames marked`);
          if ((word & CHILD_PAIR) !== 0 && this.words[this.childrenWord + (c ^ 1)] !== word) this.fail(`${where}: half of an order-10 pair whose other half is not`);
          continue;
        }
        if ((word & CHILD_PAIR) !== 0) this.fail(`${where}: pair flag without the huge flag`);
        if (word !== audit.freeFrames) this.fail(`${where}: counter ${word}, free frames ${audit.freeFrames}`);
        treeFree += word;
      }
      let counter = this.words[this.treeWordOf(tree) + TreeLine.Free];
      for (let worker = 0; worker < MAX_WORKERS; worker++) counter += this.words[this.layout.pendingWord + worker * this.layout.pendingStride + tree];
      const owner = this.words[this.treeWordOf(tree) + TreeLine.Owner] - 1;
      const budget = owner >= 0 ? this.words[this.workersWord + owner * WORKER_STRIDE_WORDS + WorkerLine.Budget] : 0;
      if (owner >= 0 && this.words[this.workersWord + owner * WORKER_STRIDE_WORDS + WorkerLine.Tree] !== tree + 1) this.fail(`tree ${tree}: reserved by worker ${owner}, whose line names tree ${this.words[this.workersWord + owner * WORKER_STRIDE_WORDS + WorkerLine.Tree] - 1}`);
      if (counter + budget !== treeFree) this.fail(`tree ${tree}: counter ${counter}${owner >= 0 ? ` + worker ${owner}'s budget ${budget}` : ""}, children hold ${treeFree} free`);
    }
  }

  /** First run-field word of a child. */
  private bitsOf(child: number): number {
    return this.blocksWord + child * WORDS_PER_CHILD;
  }

  private treeWordOf(tree: number): number {
    return this.treesWord + tree * TREE_STRIDE_WORDS;
  }

  /** Persists words and waits for them: the state a caller acts on is durable first. */
  private persistWords(firstWord: number, count: number): void {
    this.medium!.persist(firstWord * 4, this.bytes.subarray(firstWord * 4, (firstWord + count) * 4));
    this.medium!.barrier();
  }

  private setBudget(frames: number): void {
    this.budget = frames;
    this.words[this.workerWord + WorkerLine.Budget] = frames;
  }

  /** Allocates inside the reserved tree, paying from the budget (topped up from the tree's counter). */
  private getInPreferredTree(order: number): number {
    const frames = 1 << order;
    if (this.budget < frames) {
      if (this.sync !== null) this.sync.point();
      this.setBudget(this.budget + Atomics.exchange(this.words, this.treeWordOf(this.preferredTree) + TreeLine.Free, 0));
      if (this.budget < frames) return -1;
    }
    this.setBudget(this.budget - frames);
    const frame = this.getInChildren(this.preferredTree, order);
    if (frame < 0) this.setBudget(this.budget + frames);
    return frame;
  }

  /** A run from one of the tree's children, searching from the last child that served. */
  private getInChildren(tree: number, order: number): number {
    const firstChild = tree * CHILDREN_PER_TREE;
    const stride = order > HUGE_ORDER ? 2 : 1;
    for (let step = 0; step < CHILDREN_PER_TREE; step += stride) {
      const offset = (this.childHint + step) & (CHILDREN_PER_TREE - stride);
      const child = firstChild + offset;
      const frame = order >= HUGE_ORDER ? this.getHugeInChildren(child, order) : this.getInChild(child, order);
      if (frame >= 0) {
        this.childHint = offset;
        return frame;
      }
    }
    return -1;
  }

  private getInChild(child: number, order: number): number {
    const frames = 1 << order;
    const at = this.childrenWord + child;
    let word = this.words[at];
    for (let retry = 0; ; retry++) {
      if ((word & CHILD_HUGE) !== 0 || word < frames || retry === MAX_COUNTER_RETRIES) return -1;
      if (this.sync !== null) this.sync.point();
      const seen = Atomics.compareExchange(this.words, at, word, word - frames);
      if (seen === word) break;
      word = seen;
    }
    const frame = claimRun(this.words, this.bitsOf(child), order, this.wordHint, this.sync);
    if (frame >= 0) {
      this.wordHint = frame >>> 4;
      if (this.medium !== null) {
        // Inside-marks first, the start word last: a crash between leaves orphans recovery clears.
        const wordCount = runWordCount(order);
        const firstWord = this.bitsOf(child) + (frame >>> 4);
        if (wordCount > 1) this.persistWords(firstWord + 1, wordCount - 1);
        this.persistWords(firstWord, 1);
      }
      return child * FRAMES_PER_CHILD + frame;
    }
    // Fragmented: enough free frames, but no aligned run of this order.
    if (this.sync !== null) this.sync.point();
    Atomics.add(this.words, at, frames);
    return -1;
  }

  /** Order 9 takes one entirely free child, order 10 an aligned pair. */
  private getHugeInChildren(child: number, order: number): number {
    const count = 1 << (order - HUGE_ORDER);
    const flags = order === HUGE_ORDER ? CHILD_HUGE : CHILD_HUGE | CHILD_PAIR;
    // A plain look first: a failing compareExchange costs as much as a succeeding one.
    for (let c = 0; c < count; c++) if (this.words[this.childrenWord + child + c] !== FRAMES_PER_CHILD) return -1;
    let claimed = 0;
    while (claimed < count) {
      if (this.sync !== null) this.sync.point();
      if (Atomics.compareExchange(this.words, this.childrenWord + child + claimed, FRAMES_PER_CHILD, flags) !== FRAMES_PER_CHILD) break;
      claimed++;
    }
    if (claimed === count) {
      if (this.medium !== null) this.persistWords(this.childrenWord + child, count);
      return child * FRAMES_PER_CHILD;
    }
    while (claimed > 0) {
      if (this.sync !== null) this.sync.point();
      Atomics.store(this.words, this.childrenWord + child + --claimed, FRAMES_PER_CHILD);
    }
    return -1;
  }

  /**
   * The preferred tree could not serve: reserve another, first in this worker's home range
   * (its share of the trees: treeCount / workers of them) and then among the others, each
   * range searched onwards from the last tree reserved in it. Keeping each worker to its own
   * trees keeps the frames it frees in trees it will reserve again: with frames shuffled
   * across 2 workers (rand order 9), a search over all trees soon interleaves the two
   * workers' trees, so nearly every get takes a child whose line the other worker wrote last
   * (the C model in bench/native: 27 ns a pair on 1 worker, 68 on 2; 27 on 2 with home ranges).
   *
   * The search goes in two tiers, each over the home range and then the others: trees with
   * room to spare, then trees with just enough. A worker alone on the allocator (fewer
   * workers than it was told of) frees into every tree; taking a home tree with a few frames
   * before a roomy one elsewhere sent it searching every few gets (rand order 9: 10x slower),
   * and scanning a home range with no roomy tree at every search still cost it 45%: after
   * AWAY_STREAK_LIMIT searches in a row served elsewhere, its home range is all the trees.
   * Small runs (LLFree's order) want a partly used tree with plenty free (keeps whole trees
   * whole for huge frames, and a tree with a few stray frames would soon send us searching
   * again), then a whole tree. Huge runs take the first tree that is whole or has plenty: a
   * huge frame is a whole child, so it fragments nothing, and searching every tree for a
   * partly used one before a whole one was half of the time of a bulk order-9 get (2.8 us a
   * search over 256 trees). Last, allocate straight from the children of any tree, leaving a
   * debt on its counter.
   *
   * The search counts this worker's pending credits with each tree's counter, and reserving
   * a tree moves them into the budget; they reach the counters (an atomic add on a line the
   * other workers also write, per tree) only once they lie in half of the trees. Flushing
   * at every search cost rand order 0 on 2 workers a tenth of its time.
   */
  private getElsewhere(order: number): number {
    const frames = 1 << order;
    const last = this.preferredTree;
    this.releasePreferredTree();
    if (this.pendingTreeCount >= this.treeCount >> 1) this.flushPending();
    const plenty = Math.max(FRAMES_PER_TREE >> 3, Math.min(frames * PLENTY_RUNS, FRAMES_PER_TREE >> 1));
    const homeCount = this.homeTreeCount;
    const lastInHome = last >= 0 && this.offsetIn(last, this.homeTree) < homeCount;
    const homeStart = lastInHome ? this.offsetIn(last, this.homeTree) : 0;
    const awayTree = this.homeTree + homeCount < this.treeCount ? this.homeTree + homeCount : this.homeTree + homeCount - this.treeCount;
    const awayCount = this.treeCount - homeCount;
    const awayStart = last >= 0 && !lastInHome ? this.offsetIn(last, awayTree) : 0;
    let frame = -1;
    for (const passes of order >= HUGE_ORDER ? HUGE_SEARCH : SMALL_SEARCH) {
      frame = this.reserveInRange(order, passes, plenty, this.homeTree, homeCount, homeStart);
      if (frame >= 0) {
        this.awayStreak = 0;
        return frame;
      }
      frame = this.reserveInRange(order, passes, plenty, awayTree, awayCount, awayStart);
      if (frame >= 0) {
        if (++this.awayStreak === AWAY_STREAK_LIMIT) this.homeTreeCount = this.treeCount;
        return frame;
      }
    }
    const start = last >= 0 ? last : this.homeTree;
    for (let step = 0; step < this.treeCount; step++) {
      let tree = start + step;
      if (tree >= this.treeCount) tree -= this.treeCount;
      frame = this.getInChildren(tree, order);
      if (frame >= 0) {
        if (this.sync !== null) this.sync.point();
        Atomics.sub(this.words, this.treeWordOf(tree) + TreeLine.Free, frames);
        return frame;
      }
    }
    return -1;
  }

  /** How far `tree` lies after `first`, going round the trees. */
  private offsetIn(tree: number, first: number): number {
    return tree >= first ? tree - first : tree + this.treeCount - first;
  }

  /**
   * Reserves a tree among `count` trees from `first` (going round), visiting them from
   * `startOffset` on, one pass per kind of tree in `passes`, and gets a run there.
   */
  private reserveInRange(order: number, passes: readonly TreeSearch[], plenty: number, first: number, count: number, startOffset: number): number {
    const frames = 1 << order;
    for (const pass of passes) {
      for (let step = 0; step < count; step++) {
        let offset = startOffset + step;
        if (offset >= count) offset -= count;
        let tree = first + offset;
        if (tree >= this.treeCount) tree -= this.treeCount;
        const line = this.treeWordOf(tree);
        const free = this.words[line + TreeLine.Free] + this.words[this.pendingWord + tree];
        if (free < frames || this.words[line + TreeLine.Owner] !== 0) continue;
        const whole = free === this.treeFrameCount(tree);
        if (!inSearch(pass, whole, free >= plenty)) continue;
        if (!this.reserveTree(tree)) continue;
        const frame = this.getInPreferredTree(order);
        if (frame >= 0) return frame;
        this.releasePreferredTree();
      }
    }
    return -1;
  }

  /** Adds this worker's pending credits to the tree counters. */
  private flushPending(): void {
    for (let i = 0; i < this.pendingTreeCount; i++) {
      const tree = this.pendingTrees[i];
      this.pendingListed[tree] = 0;
      const pending = this.words[this.pendingWord + tree];
      if (pending === 0) continue;
      this.words[this.pendingWord + tree] = 0;
      if (this.sync !== null) this.sync.point();
      Atomics.add(this.words, this.treeWordOf(tree) + TreeLine.Free, pending);
    }
    this.pendingTreeCount = 0;
  }

  private listPending(tree: number): void {
    this.pendingListed[tree] = 1;
    this.pendingTrees[this.pendingTreeCount++] = tree;
  }

  private reserveTree(tree: number): boolean {
    const line = this.treeWordOf(tree);
    if (this.sync !== null) this.sync.point();
    if (Atomics.compareExchange(this.words, line + TreeLine.Owner, 0, this.worker + 1) !== 0) return false;
    this.preferredTree = tree;
    this.childHint = 0;
    this.words[this.workerWord + WorkerLine.Tree] = tree + 1;
    if (this.sync !== null) this.sync.point();
    // This worker's own credits for the tree go straight into its budget.
    const pending = this.words[this.pendingWord + tree];
    if (pending !== 0) this.words[this.pendingWord + tree] = 0;
    this.setBudget(Atomics.exchange(this.words, line + TreeLine.Free, 0) + pending);
    return true;
  }

  private releasePreferredTree(): void {
    if (this.preferredTree < 0) return;
    const line = this.treeWordOf(this.preferredTree);
    if (this.sync !== null) this.sync.point();
    Atomics.add(this.words, line + TreeLine.Free, this.budget);
    this.setBudget(0);
    this.words[this.workerWord + WorkerLine.Tree] = 0;
    if (this.sync !== null) this.sync.point();
    Atomics.store(this.words, line + TreeLine.Owner, 0);
    this.preferredTree = -1;
  }

  private treeFrameCount(tree: number): number {
    return Math.min(FRAMES_PER_TREE, this.frameCount - tree * FRAMES_PER_TREE);
  }

  private assert(condition: boolean, message: string): asserts condition {
    if (!condition) this.fail(message);
  }

  private fail(message: string): never {
    throw new FrameAllocatorError(`frame allocator corrupt: ${message}`);
  }
}

/** Every frame free; frames past the last are allocated for good so no search finds them. */
function initialise(buffer: SharedArrayBuffer, layout: FrameLayout): void {
  const words = new Int32Array(buffer, 0, layout.metaBytes / 4);
  words[Header.Magic] = MAGIC;
  words[Header.Version] = LAYOUT_VERSION;
  words[Header.FrameCount] = layout.frameCount;
  words[Header.Backed] = layout.backed ? 1 : 0;
  for (let tree = 0; tree < layout.treeCount; tree++) {
    let treeFree = 0;
    for (let c = tree * CHILDREN_PER_TREE; c < (tree + 1) * CHILDREN_PER_TREE; c++) {
      const framesHere = Math.max(0, Math.min(FRAMES_PER_CHILD, layout.frameCount - c * FRAMES_PER_CHILD));
      words[layout.childrenWord + c] = framesHere;
      treeFree += framesHere;
      reserveTail(words, layout.blocksWord + c * WORDS_PER_CHILD, framesHere);
    }
    words[layout.treesWord + tree * TREE_STRIDE_WORDS + TreeLine.Free] = treeFree;
  }
}
