/**
 * Spans: runs of pages carved into the blocks of one size class (an intrusive free list
 * first, then bump allocation), each owned by one worker and linked in its list for the
 * class while it has room. Here a span is found or made for a malloc, and settled when a
 * block comes back (relinked, kept as the class's spare when empty, or given back to the
 * pages). Only the owner touches its spans without the lock; the abandoned spans of
 * detached workers only the lock holder.
 */
import { DEBUG_CHECKS } from "../../util/debug.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, KindWord, NO_OWNER, SpanBits, WorkerWord } from "./heap-layout.js";
import { LargeBlocks } from "./large-blocks.js";
import { runPages } from "./page-runs.js";
import { CLASS_SIZES } from "./size-classes.js";

/** A span holds at least this many blocks (a medium class's span is as many pages as that takes). */
const SPAN_MIN_BLOCKS = 4;
const SPAN_TARGET_BLOCKS = 64;
const SPAN_TARGET_PAGES = 4;

/** The sixth layer of a heap core: spans of small and medium blocks. */
export abstract class Spans extends LargeBlocks {
  /** Blocks other workers freed into this worker's spans go back into their free lists: remote-frees.ts. */
  protected abstract drainOwnInbox(): void;

  /** Blocks freed into spans nobody owns go back into them (the caller holds the lock): remote-frees.ts. */
  protected abstract drainOrphans(): void;

  /** A block of `sizeClass` from this worker's spans: the first with room, else blocks other workers freed, else an adopted or new span. */
  protected allocateSmall(sizeClass: number, zero: boolean): number {
    const headWord = this.workerWord + WorkerWord.ClassHeads + sizeClass;
    for (let attempt = 0; ; attempt++) {
      for (let span = this.words[headWord]; span !== 0; span = this.words[headWord]) {
        if (this.hasRoom(span)) return this.carve(span, zero);
        this.unlinkSpan(span, headWord); // full: out of the list until a block comes back
      }
      if (attempt > 0 || !this.shared || Atomics.load(this.words, this.workerWord + WorkerWord.Inbox) === Geometry.Null) break;
      this.drainOwnInbox();
    }
    this.lock();
    let span: number;
    try {
      span = this.adoptSpan(sizeClass) || this.newSpan(sizeClass);
    } finally {
      this.unlock();
    }
    return span === 0 ? Geometry.Null : this.carve(span, zero);
  }

  /** Whether the span has a free or a never-used block. */
  protected hasRoom(span: number): boolean {
    // One descriptorBase, not three descriptor calls: malloc inlines this, and a smaller
    // inlined size keeps malloc within TurboFan's budget for inlining it into its callers.
    const words = this.words;
    const base = this.descriptorBase(span);
    return words[base + DescriptorWord.Free] !== Geometry.Null || words[base + DescriptorWord.Bump] <= words[base + DescriptorWord.Limit];
  }

  /** Takes a block from a span with room. */
  protected carve(span: number, zero: boolean): number {
    const words = this.words;
    const base = this.descriptorBase(span);
    let address = words[base + DescriptorWord.Free];
    if (address !== Geometry.Null) words[base + DescriptorWord.Free] = this.link(address);
    else {
      address = words[base + DescriptorWord.Bump];
      words[base + DescriptorWord.Bump] = address + words[base + DescriptorWord.Size];
    }
    words[base + DescriptorWord.Used]++;
    this.markLive(address);
    if (zero) this.memory.fill(address, words[base + DescriptorWord.Size], 0);
    return address;
  }

  /** A block back into its span's free list (its bitmap bit already clear); the owner, or the lock holder for an unowned span. */
  protected returnBlock(address: number, span: number): void {
    const words = this.words;
    const base = this.descriptorBase(span);
    if (DEBUG_CHECKS && words[base + DescriptorWord.Used] <= 0) throw this.corrupt(`span at page ${span} gets block ${this.hex(address)} back with no block in use`);
    this.setLink(address, words[base + DescriptorWord.Free]);
    words[base + DescriptorWord.Free] = address;
    words[base + DescriptorWord.Used]--;
    if (this.ownerOf(span) === NO_OWNER) this.settleUnownedSpan(span, base);
    else if (words[base + DescriptorWord.Used] === 0 || (words[base + DescriptorWord.Kind] & SpanBits.Linked) === 0) this.settleOwnSpan(span, base);
  }

  /** After a free into one of this worker's spans: a full span has room again; an empty one stays as its class's spare, or goes back to the pages. */
  protected settleOwnSpan(span: number, base: number): void {
    const words = this.words;
    const sizeClass = (words[base + DescriptorWord.Kind] >>> SpanBits.ClassShift) & SpanBits.ClassMask;
    const headWord = this.workerWord + WorkerWord.ClassHeads + sizeClass;
    if ((words[base + DescriptorWord.Kind] & SpanBits.Linked) === 0) this.linkSpan(span, headWord);
    if (words[base + DescriptorWord.Used] !== 0) return;
    const spareWord = this.workerWord + WorkerWord.SpareSpans + sizeClass;
    const spare = words[spareWord];
    if (spare === 0 || spare === span || words[this.descriptorBase(spare) + DescriptorWord.Used] !== 0) words[spareWord] = span;
    else this.releaseOwnSpan(span, headWord);
  }

  /** An empty span of this worker's out of its list and back to the pages. */
  protected releaseOwnSpan(span: number, headWord: number): void {
    this.unlinkSpan(span, headWord);
    this.lock();
    try {
      this.releasePages(span, this.descriptor(span, DescriptorWord.Run));
    } finally {
      this.unlock();
    }
  }

  /** The same for a span no worker owns (the caller holds the lock): it waits in the abandoned list, or goes back to the pages once empty. */
  protected settleUnownedSpan(span: number, base: number): void {
    const words = this.words;
    const headWord = HeaderWord.Abandoned + ((words[base + DescriptorWord.Kind] >>> SpanBits.ClassShift) & SpanBits.ClassMask);
    if (words[base + DescriptorWord.Used] === 0) {
      if ((words[base + DescriptorWord.Kind] & SpanBits.Linked) !== 0) this.unlinkSpan(span, headWord);
      this.releasePages(span, words[base + DescriptorWord.Run]);
    } else if ((words[base + DescriptorWord.Kind] & SpanBits.Linked) === 0) this.linkSpan(span, headWord);
  }

  /** Takes an abandoned span of `sizeClass` with room (the caller holds the lock); 0 if none. */
  protected adoptSpan(sizeClass: number): number {
    this.drainOrphans();
    const span = this.words[HeaderWord.Abandoned + sizeClass];
    if (span === 0) return 0;
    this.unlinkSpan(span, HeaderWord.Abandoned + sizeClass);
    this.setOwner(span, this.workerId);
    this.linkSpan(span, this.workerWord + WorkerWord.ClassHeads + sizeClass);
    return span;
  }

  /** A fresh span for `sizeClass`, owned by this worker (the caller holds the lock); 0 if the heap is full. */
  protected newSpan(sizeClass: number): number {
    const size = CLASS_SIZES[sizeClass];
    const pages = runPages(Math.max(Math.min(SPAN_TARGET_PAGES, Math.ceil((size * SPAN_TARGET_BLOCKS) / Geometry.PageBytes)), Math.ceil((size * SPAN_MIN_BLOCKS) / Geometry.PageBytes)));
    const span = this.takeRun(pages, 1);
    if (span === 0) return 0;
    const start = span * Geometry.PageBytes;
    this.setDescriptor(span, DescriptorWord.Free, Geometry.Null);
    this.setDescriptor(span, DescriptorWord.Used, 0);
    this.setDescriptor(span, DescriptorWord.Bump, start);
    this.setDescriptor(span, DescriptorWord.Limit, start + (Math.floor((pages * Geometry.PageBytes) / size) - 1) * size);
    this.setDescriptor(span, DescriptorWord.Run, pages);
    this.setDescriptor(span, DescriptorWord.Size, size);
    this.setDescriptor(span, DescriptorWord.SpanHead, span);
    const tag = this.ownSpanTag | (sizeClass << SpanBits.ClassShift);
    this.takeRunPages(span, span, pages, tag | KindWord.TailBit, false);
    // Published last: a racing free of a stale pointer into this page sees a whole span or none.
    Atomics.store(this.words, this.descriptorBase(span) + DescriptorWord.Kind, tag);
    this.linkSpan(span, this.workerWord + WorkerWord.ClassHeads + sizeClass);
    return span;
  }

  /** Puts a span at the head of the list at `headWord`. */
  protected linkSpan(span: number, headWord: number): void {
    const words = this.words;
    const base = this.descriptorBase(span);
    const head = words[headWord];
    words[base + DescriptorWord.Next] = head;
    words[base + DescriptorWord.Prev] = 0;
    if (head !== 0) words[this.descriptorBase(head) + DescriptorWord.Prev] = span;
    words[headWord] = span;
    words[base + DescriptorWord.Kind] |= SpanBits.Linked;
  }

  /** Takes a span out of the list at `headWord`. */
  protected unlinkSpan(span: number, headWord: number): void {
    const words = this.words;
    const base = this.descriptorBase(span);
    const next = words[base + DescriptorWord.Next];
    const previous = words[base + DescriptorWord.Prev];
    if (previous === 0) words[headWord] = next;
    else words[this.descriptorBase(previous) + DescriptorWord.Next] = next;
    if (next !== 0) words[this.descriptorBase(next) + DescriptorWord.Prev] = previous;
    words[base + DescriptorWord.Next] = 0;
    words[base + DescriptorWord.Prev] = 0;
    words[base + DescriptorWord.Kind] &= ~SpanBits.Linked;
  }
}
