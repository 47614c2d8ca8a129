import { availableParallelism } from "node:os";
import type { Durability, PersistMedium } from "../../durable/medium.js";
import { PAGE_SIZE_BYTES } from "../../space/address.js";
import type { FrameSource } from "../../space/frame-source.js";
import { DEBUG_CHECKS } from "../../util/debug.js";
import { checkAllocator } from "./check.js";
import { checkAfterPut, checkGot } from "./debug.js";
import { checkOrder, Geometry } from "./geometry.js";
import { type FrameLayout, Header, HEADER_WORDS, MAX_WORKERS, WORD_BYTES } from "./layout.js";
import { attachedMedium, closedCleanly, closeImage, layoutOf, markOpen, newImage, openImageFile, recoverImage } from "./lifecycle.js";
import { forEachRunIn, giveBackHuge, giveBackRun, orderAt, persistTaken, takeFromTree } from "./lower/children.js";
import { FieldWord, NoRun } from "./lower/run-field.js";
import { FrameAllocatorError, type PageFrameAllocator } from "./page-frame-allocator.js";
import type { SyncHook } from "./sync-hook.js";
import { addToTree, claimTree, flushPending, PendingFlush, releaseTree, takePending, takeTreeCounter } from "./upper/reservation.js";
import { homeRange, inSearch, MAX_AWAY_SEARCHES, offsetIn, plentyFrames, searchTiers, treeAt, type TreeSearch } from "./upper/search-policy.js";
import { countFreeFrames, pendingWordOf, treeFrameCount, TreeLine, treeLineWord, WorkerLine, workerLineWord } from "./upper/trees.js";

/** How `FrameAllocator.create` sizes a new allocator. */
export interface FrameAllocatorOptions {
  /** Number of 4 KiB frames managed. */
  frames: number;
  /** Also hold the frames' bytes in the buffer (at most 2^20 frames); default false. */
  backed?: boolean;
}

/** How a handle joins an allocator: its worker index, and how many workers share it. */
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
 * per 512 frames a run field and a free counter (a "child", see lower/run-field.ts), per 32
 * children a tree counter, per worker a budget.
 *
 * The layers, as in LLFree: lower/ takes runs from children and gives them back
 * (lower/children.ts over lower/run-field.ts); upper/ reserves a tree per worker, pays for
 * runs from a budget taken from the tree's counter and chooses the next tree
 * (upper/reservation.ts, upper/search-policy.ts, upper/trees.ts). Both are plain functions
 * over the buffer's words: this worker's own state (its tree, budget, pending credits and
 * search hints) lives in this class's fields, which get and put, kept here, pass to them.
 * lifecycle.ts creates, opens, recovers and closes images, check.ts verifies one, debug.ts
 * holds the checks every get and put runs under MEMSPACE_DEBUG=1.
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
  /** The shared state (and, when `backed`, the frames' bytes): what other workers attach to. */
  readonly buffer: SharedArrayBuffer;
  /** Frames managed (4 KiB each). */
  readonly frameCount: number;
  /** Where each part of the state lies in `buffer`. */
  readonly layout: FrameLayout;
  /** This handle's worker index (0 to 63): its budget line and pending words. */
  readonly worker: number;
  /** Bytes of the frames, when the allocator holds them (`backed`). */
  readonly frameBytes: Uint8Array | null;
  /** `frameBytes` as a DataView, when the allocator holds them. */
  readonly frameView: DataView | null;
  /** Set when opening ran crash recovery: children it repaired, and how long it took. */
  recovery: { repairedChildren: number; milliseconds: number } | null = null;

  private readonly words: Int32Array;
  /** The metadata as bytes, for writes to the persistent medium. */
  private readonly bytes: Uint8Array;
  private readonly treeCount: number;
  private readonly treesWord: number;
  private readonly childrenWord: number;
  private readonly blocksWord: number;
  /** This worker's budget line. */
  private readonly workerWord: number;
  /** This worker's pending credits, a word per tree (see put). */
  private readonly pendingWord: number;
  /** Trees whose pending word this worker may have made non-zero since its last flush (local: a flush visits only these). */
  private readonly pendingTrees: Int32Array;
  private readonly pendingListed: Uint8Array;
  private pendingTreeCount = 0;
  /** The first tree of this worker's home range, and how many trees it has (see getElsewhere). */
  private readonly homeTree: number;
  private homeTreeCount: number;
  /** Searches in a row that found their tree outside the home range (MAX_AWAY_SEARCHES). */
  private awaySearches = 0;
  private preferredTree = -1;
  /** Frames of the preferred tree this worker may take without touching its counter. */
  private budget = 0;
  /** Child (in its tree) of this worker's last allocation: where the next search starts. */
  private childHint = 0;
  /** Run-field word (in its child) of this worker's last small allocation. */
  private wordHint = 0;
  private sync: SyncHook | null = null;
  /** Where changes to the persistent state (run fields, huge flags) go; null for a volatile allocator. */
  private medium: PersistMedium | null = null;

  /** A new volatile allocator, every frame free, and this handle on it. */
  static create(options: FrameAllocatorOptions, attach: AttachOptions = {}): FrameAllocator {
    return new FrameAllocator(newImage(options.frames, options.backed === true), attach);
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
    return openImageFile(path, options, (buffer, medium) => FrameAllocator.fromImage(buffer, medium, attach));
  }

  /** A fresh persistent image (every frame free, closed cleanly) for `fromImage`. */
  static createImage(frames: number): SharedArrayBuffer {
    const buffer = newImage(frames, false);
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
    if (!closedCleanly(allocator.words)) {
      const start = performance.now();
      const repairedChildren = recoverImage(allocator.bytes, allocator.words, allocator.layout, medium);
      // Recovery cleared every worker line: this handle holds no tree and no budget either.
      allocator.preferredTree = -1;
      allocator.budget = 0;
      allocator.recovery = { repairedChildren, milliseconds: performance.now() - start };
    }
    markOpen(allocator.bytes, allocator.words, medium);
    return allocator;
  }

  /** Orderly shutdown of a persistent allocator: everything written, then the clean flag. */
  close(): void {
    this.releaseReservation();
    if (this.medium === null) return;
    closeImage(this.bytes, this.words, this.medium);
    this.medium = null;
  }

  /** Visits every allocated run (not the frames past the last one). */
  forEachRun(visit: (frame: number, order: number) => void): void {
    forEachRunIn(this.words, this.childrenWord, this.blocksWord, this.frameCount, visit);
  }

  private constructor(buffer: SharedArrayBuffer, attach: AttachOptions) {
    const layout = layoutOf(buffer);
    this.buffer = buffer;
    this.layout = layout;
    this.frameCount = layout.frameCount;
    this.words = new Int32Array(buffer, 0, layout.metaBytes / WORD_BYTES);
    this.bytes = new Uint8Array(buffer, 0, layout.metaBytes);
    this.treeCount = layout.treeCount;
    this.treesWord = layout.treesWord;
    this.childrenWord = layout.childrenWord;
    this.blocksWord = layout.blocksWord;
    this.frameBytes = layout.backed ? new Uint8Array(buffer, layout.dataByte, layout.frameCount * PAGE_SIZE_BYTES) : null;
    this.frameView = layout.backed ? new DataView(buffer, layout.dataByte, layout.frameCount * PAGE_SIZE_BYTES) : null;
    const attachedBefore = Atomics.add(new Int32Array(buffer, 0, HEADER_WORDS), Header.Attached, 1);
    this.worker = attach.worker ?? attachedBefore;
    if (!Number.isInteger(this.worker) || this.worker < 0 || this.worker >= MAX_WORKERS) {
      throw new FrameAllocatorError(`worker index ${this.worker} is outside 0-${MAX_WORKERS - 1}${attach.worker === undefined ? ` (${MAX_WORKERS} handles have attached; pass worker to reuse the index of one that is gone)` : ""}`);
    }
    this.workerWord = workerLineWord(layout.workersWord, this.worker);
    this.pendingWord = pendingWordOf(layout, this.worker);
    this.pendingTrees = new Int32Array(this.treeCount);
    this.pendingListed = new Uint8Array(this.treeCount);
    for (let tree = 0; tree < this.treeCount; tree++) if (this.words[this.pendingWord + tree] !== 0) this.listPending(tree); // a gone worker's credits
    // A handle reusing a gone worker's index inherits its reservation and budget.
    this.preferredTree = this.words[this.workerWord + WorkerLine.Tree] - 1;
    this.budget = this.words[this.workerWord + WorkerLine.Budget];
    this.medium = attachedMedium(this.words);
    const home = homeRange(this.worker, Math.max(attach.workers ?? availableParallelism(), this.worker + 1), this.treeCount);
    this.homeTree = home.firstTree;
    this.homeTreeCount = home.count;
  }

  /** Test mode: route every step through the interleaving harness (null turns it off). */
  setSyncHook(hook: SyncHook | null): void {
    this.sync = hook;
  }

  /** A free run of 2^order frames (order 0 to 10), marked allocated: its first frame, or -1 if none is free. */
  get(order = 0): number {
    checkOrder(order);
    let frame = -1;
    if (this.preferredTree >= 0) frame = this.getInPreferredTree(order);
    if (frame < 0) frame = this.getElsewhere(order);
    if (DEBUG_CHECKS && frame >= 0) checkGot(this.words, this.layout, frame, order);
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

  /**
   * Frees the run of 2^order frames at `frame`, which `get(order)` returned. Throws, changing
   * nothing, for a frame outside the pool, not aligned, not allocated, or allocated with
   * another order.
   */
  put(frame: number, order = 0): void {
    checkOrder(order);
    if (!Number.isInteger(frame) || frame < 0 || frame >= this.frameCount) {
      throw new FrameAllocatorError(`put of frame ${frame}: outside this allocator's ${this.frameCount} frames`);
    }
    const frames = 1 << order;
    if (frame % frames !== 0) throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): not aligned to ${frames} frames, so no run of that order starts there`);
    const freed =
      order >= Geometry.HugeOrder
        ? giveBackHuge(this.words, this.bytes, this.medium, this.childrenWord, frame, order, this.sync)
        : giveBackRun(this.words, this.bytes, this.medium, this.childrenWord, this.blocksWord, frame, order, this.sync);
    if (!freed) this.refusePut(frame, order);
    const tree = frame >>> Geometry.TreeShift;
    if (tree === this.preferredTree) {
      this.setBudget(this.budget + frames);
    } else {
      // Credits for other trees gather in this worker's own words and reach the tree's
      // counter in batches: with two workers freeing at random, every counter update was a
      // cache line taken from the other core. The counters only steer the search (which
      // counts this worker's own credits, and flushes them once they lie in half of the
      // trees); the last-resort search reads the children themselves.
      const pending = this.words[this.pendingWord + tree] + frames;
      if (pending < PendingFlush.Frames) {
        this.words[this.pendingWord + tree] = pending;
        if (this.pendingListed[tree] === 0) this.listPending(tree);
      } else {
        this.words[this.pendingWord + tree] = 0;
        addToTree(this.words, this.treesWord, tree, pending, this.sync);
      }
    }
    if (DEBUG_CHECKS) checkAfterPut(this.words, this.layout, frame, order);
  }

  /** Throws the error for a put that does not match what is allocated at `frame`. */
  private refusePut(frame: number, order: number): never {
    const actual = this.orderOf(frame);
    const what =
      actual >= 0
        ? `it was allocated with order ${actual}`
        : actual === NoRun.Free
          ? "not allocated (a double free?)"
          : actual === NoRun.Inside
            ? "inside an allocated run, not its first frame"
            : "the frame's state is corrupt";
    throw new FrameAllocatorError(`put of frame ${frame} (order ${order}): ${what}`);
  }

  /** Exact while no worker is inside get or put (tree counters plus workers' budgets and pending credits). */
  freeFrames(): number {
    return countFreeFrames(this.words, this.layout);
  }

  /** Gives up this worker's reserved tree (its budget, and its pending credits, go back to the tree counters). */
  releaseReservation(): void {
    this.releasePreferredTree();
    this.flushPending();
  }

  /** Frames allocated: `frameCount` less `freeFrames()`, exact when that is. */
  allocatedFrames(): number {
    return this.frameCount - this.freeFrames();
  }

  /**
   * Order of the allocated run that starts at `frame`; -1 if the frame is free, -2 if it is
   * inside a run, -3 if its state is corrupt.
   */
  orderOf(frame: number): number {
    return orderAt(this.words, this.childrenWord, this.blocksWord, frame);
  }

  /** Byte offset of a frame in `frameBytes` / `frameView`. */
  byteOffsetOf(frame: number): number {
    return frame * PAGE_SIZE_BYTES;
  }

  /**
   * Verifies, while no worker is inside get or put: every child's frame states form aligned
   * power-of-two runs and its counter equals its free frames (0 for a huge frame, whose
   * frames are all unmarked; pairs flagged on both children), and each tree counter (plus
   * pending credits, and the budget of the worker that reserved it) is the sum of its
   * children's. Throws naming the first violation.
   */
  check(): void {
    checkAllocator(this.words, this.layout);
  }

  private setBudget(frames: number): void {
    this.budget = frames;
    this.words[this.workerWord + WorkerLine.Budget] = frames;
  }

  /** Allocates inside the reserved tree, paying from the budget (topped up from the tree's counter). */
  private getInPreferredTree(order: number): number {
    const frames = 1 << order;
    if (this.budget < frames) {
      this.setBudget(this.budget + takeTreeCounter(this.words, this.treesWord, this.preferredTree, this.sync));
      if (this.budget < frames) return -1;
    }
    this.setBudget(this.budget - frames);
    const frame = this.getInChildren(this.preferredTree, order);
    if (frame < 0) this.setBudget(this.budget + frames);
    return frame;
  }

  /** A run from one of the tree's children, searching from where this worker's last one came from; durable before it is returned. */
  private getInChildren(tree: number, order: number): number {
    const frame = takeFromTree(this.words, this.childrenWord, this.blocksWord, tree, order, this.childHint, this.wordHint, this.sync);
    if (frame < 0) return -1;
    this.childHint = (frame >>> Geometry.ChildShift) & (Geometry.ChildrenPerTree - 1);
    if (order < Geometry.HugeOrder) this.wordHint = (frame & (Geometry.FramesPerChild - 1)) >>> FieldWord.FrameShift;
    if (this.medium !== null) persistTaken(this.medium, this.bytes, this.childrenWord, this.blocksWord, frame, order);
    return frame;
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
   * MAX_AWAY_SEARCHES searches in a row served elsewhere, its home range is all the trees.
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
    const last = this.preferredTree;
    this.releasePreferredTree();
    if (this.pendingTreeCount >= this.treeCount >> PendingFlush.TreesShift) this.flushPending();
    const plenty = plentyFrames(order);
    const treeCount = this.treeCount;
    const homeCount = this.homeTreeCount;
    const lastInHome = last >= 0 && offsetIn(last, this.homeTree, treeCount) < homeCount;
    const homeStart = lastInHome ? offsetIn(last, this.homeTree, treeCount) : 0;
    const awayTree = treeAt(this.homeTree, homeCount, treeCount);
    const awayCount = treeCount - homeCount;
    const awayStart = last >= 0 && !lastInHome ? offsetIn(last, awayTree, treeCount) : 0;
    let frame = -1;
    for (const passes of searchTiers(order)) {
      frame = this.reserveInRange(order, passes, plenty, this.homeTree, homeCount, homeStart);
      if (frame >= 0) {
        this.awaySearches = 0;
        return frame;
      }
      frame = this.reserveInRange(order, passes, plenty, awayTree, awayCount, awayStart);
      if (frame >= 0) {
        if (++this.awaySearches === MAX_AWAY_SEARCHES) this.homeTreeCount = treeCount;
        return frame;
      }
    }
    const start = last >= 0 ? last : this.homeTree;
    for (let step = 0; step < treeCount; step++) {
      const tree = treeAt(start, step, treeCount);
      frame = this.getInChildren(tree, order);
      if (frame >= 0) {
        addToTree(this.words, this.treesWord, tree, -(1 << order), this.sync);
        return frame;
      }
    }
    return -1;
  }

  /**
   * Reserves a tree among `count` trees from `first` (going round), visiting them from
   * `startOffset` on, one pass per kind of tree in `passes`, and gets a run there.
   */
  private reserveInRange(order: number, passes: readonly TreeSearch[], plenty: number, first: number, count: number, startOffset: number): number {
    const frames = 1 << order;
    for (const pass of passes) {
      for (let step = 0; step < count; step++) {
        const tree = treeAt(first, treeAt(startOffset, step, count), this.treeCount);
        const line = treeLineWord(this.treesWord, tree);
        const free = this.words[line + TreeLine.Free] + this.words[this.pendingWord + tree];
        if (free < frames || this.words[line + TreeLine.Owner] !== 0) continue;
        const whole = free === treeFrameCount(this.frameCount, tree);
        if (!inSearch(pass, whole, free >= plenty)) continue;
        if (!this.reserveTree(tree)) continue;
        const frame = this.getInPreferredTree(order);
        if (frame >= 0) return frame;
        this.releasePreferredTree();
      }
    }
    return -1;
  }

  /** Reserves `tree` and takes its counter, with this worker's own credits for it, as the budget. */
  private reserveTree(tree: number): boolean {
    if (!claimTree(this.words, this.treesWord, this.workerWord, tree, this.worker, this.sync)) return false;
    this.preferredTree = tree;
    this.childHint = 0;
    const pending = takePending(this.words, this.pendingWord, tree);
    this.setBudget(takeTreeCounter(this.words, this.treesWord, tree, this.sync) + pending);
    return true;
  }

  private releasePreferredTree(): void {
    if (this.preferredTree < 0) return;
    releaseTree(this.words, this.treesWord, this.workerWord, this.preferredTree, this.budget, this.sync);
    this.budget = 0;
    this.preferredTree = -1;
  }

  /** Adds this worker's pending credits to the tree counters. */
  private flushPending(): void {
    flushPending(this.words, this.treesWord, this.pendingWord, this.pendingTrees, this.pendingListed, this.pendingTreeCount, this.sync);
    this.pendingTreeCount = 0;
  }

  private listPending(tree: number): void {
    this.pendingListed[tree] = 1;
    this.pendingTrees[this.pendingTreeCount++] = tree;
  }
}
