/**
 * The heap core's accessors over its words: page descriptors (kind, owner, class, run), the
 * allocation bitmap, the words inside blocks (through the block memory), and the counters in
 * the header. Every algorithm above reads the heap through these, so the layout's encodings
 * (heap-layout.ts) are spelled out here once.
 */
import { HeapError } from "./heap-error.js";
import { Bitmap, DescriptorWord, Geometry, HeaderWord, Kind, KindWord, SpanBits, Stat } from "./heap-layout.js";
import { HeapState } from "./heap-state.js";

/** The second layer of a heap core: word, descriptor and bitmap accessors. */
export class HeapWords extends HeapState {
  /** The word of `page`'s descriptor at `field`. */
  protected descriptor(page: number, field: DescriptorWord): number {
    return this.words[this.descriptorsWord + (page << Geometry.DescriptorShift) + field];
  }

  /** Sets the word of `page`'s descriptor at `field`. */
  protected setDescriptor(page: number, field: DescriptorWord, value: number): void {
    this.words[this.descriptorsWord + (page << Geometry.DescriptorShift) + field] = value;
  }

  /** The word index of `page`'s descriptor. */
  protected descriptorBase(page: number): number {
    return this.descriptorsWord + (page << Geometry.DescriptorShift);
  }

  /** What `page` is. */
  protected kindOf(page: number): Kind {
    return this.descriptor(page, DescriptorWord.Kind) & KindWord.KindMask;
  }

  /** The size class of the span starting at `span`. */
  protected classOfSpan(span: number): number {
    return (this.descriptor(span, DescriptorWord.Kind) >>> SpanBits.ClassShift) & SpanBits.ClassMask;
  }

  /** The worker owning the span at `span` (NO_OWNER: none). */
  protected ownerOf(span: number): number {
    return ((this.descriptor(span, DescriptorWord.Kind) & KindWord.OwnerMask) >>> KindWord.OwnerShift) - KindWord.OwnerBias;
  }

  /** The low half of the kind word of a span `owner` owns (kind and owner). */
  protected spanTag(owner: number): number {
    return Kind.Span | ((owner + KindWord.OwnerBias) << KindWord.OwnerShift);
  }

  /**
   * Hands a span to `owner` (under the lock): one atomic store a page, each seen whole by a
   * racing free. The tails first: only the owner's own fast path trusts a tail's owner, and
   * the span is handed over by its old owner (detaching) or taken by its new one (adopting),
   * so no worker sees a tail naming it while the span is another's.
   */
  protected setOwner(span: number, owner: number): void {
    const ownerBits = (owner + KindWord.OwnerBias) << KindWord.OwnerShift;
    const run = this.descriptor(span, DescriptorWord.Run);
    for (let page = span + run - 1; page >= span; page--) {
      const at = this.descriptorBase(page) + DescriptorWord.Kind;
      Atomics.store(this.words, at, (this.words[at] & ~KindWord.OwnerMask) | ownerBits);
    }
  }

  /** Bytes the block starting `page`'s run holds: its class size, or a large block's pages. */
  protected rawUsable(page: number): number {
    return this.kindOf(page) === Kind.Large ? this.descriptor(page, DescriptorWord.Run) * Geometry.PageBytes : this.descriptor(page, DescriptorWord.Size);
  }

  /** Pages of the run starting at `page` (1 for a page that starts none). */
  protected runOf(page: number, kind: Kind): number {
    return kind === Kind.Span || kind === Kind.Large || kind === Kind.Cached || kind === Kind.FreeRun ? this.descriptor(page, DescriptorWord.Run) : 1;
  }

  /** The first page of the span or large block holding `address`. */
  protected blockHead(address: number): number {
    const page = address >>> Geometry.PageShift;
    const kind = this.kindOf(page);
    return kind === Kind.SpanTail || kind === Kind.LargeTail ? this.descriptor(page, DescriptorWord.Run) : page;
  }

  /** Whether a live block starts at `address`. */
  protected isLive(address: number): boolean {
    return (this.words[this.bitmapWord + (address >>> Bitmap.WordShift)] & (1 << ((address >>> Bitmap.GranuleShift) & 31))) !== 0;
  }

  /** Sets a fresh block's bit; a bit already set means a free list handed out a live block (a write after free). */
  protected markLive(address: number): void {
    if (this.shared) return this.markLiveShared(address);
    const words = this.words;
    const at = (this.bitmapWord + (address >>> Bitmap.WordShift)) | 0;
    const bit = 1 << (address >>> Bitmap.GranuleShift);
    const old = words[at];
    words[at] = old | bit;
    if ((old & bit) !== 0) this.corruptFreeList(address);
  }

  /** Clears a block's bit; false if it was clear already (not allocated: the caller reports it). */
  protected clearLive(address: number): boolean {
    if (this.shared) return this.clearLiveShared(address);
    const words = this.words;
    const at = (this.bitmapWord + (address >>> Bitmap.WordShift)) | 0;
    const bit = 1 << (address >>> Bitmap.GranuleShift);
    const old = words[at];
    words[at] = old & ~bit;
    return (old & bit) !== 0;
  }

  // The atomic forms, for shared heaps, out of line: the ArrayBuffer heap's inlined fast
  // paths then carry only the plain read-modify-write (callgrind: the bitmap costs about 23
  // host instructions per tiny-churn op either way).
  /** markLive on a shared heap. */
  protected markLiveShared(address: number): void {
    const bit = 1 << (address >>> Bitmap.GranuleShift);
    if ((Atomics.or(this.words, this.bitmapWord + (address >>> Bitmap.WordShift), bit) & bit) !== 0) this.corruptFreeList(address);
  }

  /** clearLive on a shared heap. */
  protected clearLiveShared(address: number): boolean {
    const bit = 1 << (address >>> Bitmap.GranuleShift);
    return (Atomics.and(this.words, this.bitmapWord + (address >>> Bitmap.WordShift), ~bit) & bit) !== 0;
  }

  /** A free list handed out a live block. */
  protected corruptFreeList(address: number): never {
    throw this.corrupt(`the span at page ${this.blockHead(address)} handed out ${this.hex(address)}, a block that is still live (its free list was overwritten: a write after free?)`);
  }

  /** The error for a broken invariant: the heap is corrupt. */
  protected corrupt(message: string): HeapError {
    return new HeapError(`heap corrupt: ${message}`);
  }

  /**
   * The word at `address` inside a block (a free-list link, or debug mode's size record): a
   * word of the views, where a buffer memory keeps its blocks. The Heap over a memory whose
   * blocks live elsewhere overrides this and setLink (heap.ts), so the fast paths carry no
   * test of where blocks live.
   */
  protected link(address: number): number {
    return this.words[address >>> 2];
  }

  /** Sets the word at `address` inside a block (see link). */
  protected setLink(address: number, value: number): void {
    this.words[address >>> 2] = value;
  }

  /** How errors name an address of this heap. */
  protected hex(address: number): string {
    return this.memory.formatAddress(address);
  }

  /** Counts `pages` more pages in use (fewer, if negative), and the peak. */
  protected usePages(pages: number): void {
    const f = this.floats;
    f[HeaderWord.Stats + Stat.UsedPages] += pages;
    if (f[HeaderWord.Stats + Stat.UsedPages] > f[HeaderWord.Stats + Stat.PeakUsedPages]) f[HeaderWord.Stats + Stat.PeakUsedPages] = f[HeaderWord.Stats + Stat.UsedPages];
  }
}
