/**
 * Page runs: the heap's pages as runs, free ones in power-of-two bins (merged with their
 * free neighbours when pages come back), taken whole for a span or a large block, and the
 * store grown when no run fits. All of it under the page-layer mutex (the caller holds it).
 */
import { DEBUG_CHECKS } from "../../util/debug.js";
import { Bitmap, DescriptorWord, Geometry, HeaderWord, Kind, PageFlag, PageTable } from "./heap-layout.js";
import { HeapWords } from "./heap-words.js";

/** Tries at a run: as the bins are; after reclaiming (when the region cache holds runs) or growing; after growing. */
const TAKE_RUN_ATTEMPTS = 3;
/**
 * The fewest pages whose metadata is cleared at once (256 KiB of heap: a 4 KiB page each of
 * descriptors and bitmap); past that, as many pages as are cleared already, so a growing heap
 * clears O(log n) times and never more than twice the metadata its pages need.
 */
const CLEAR_MIN_PAGES = 64;

/** The third layer of a heap core: the free page runs and their bins. */
export abstract class PageRuns extends HeapWords {
  /** Gives back all the heap can before it grows (the region cache, empty spans): worker-slots.ts. */
  protected abstract reclaimLocked(): void;

  /** Cached large runs (region-cache.ts): reclaiming them is worth a try before growing. */
  protected abstract cachedCount(): number;

  /**
   * Takes a run of `pages` pages (runPages: whole granules from a granule up) starting at a
   * multiple of `alignPages`, and of the granule from a granule up; 0 if none (after growing
   * the store).
   */
  protected takeRun(pages: number, alignPages: number): number {
    if (DEBUG_CHECKS && runPages(pages) !== pages) throw this.corrupt(`a run of ${pages} pages, not whole granules`);
    const align = pages >= PageTable.RunGranulePages ? Math.max(alignPages, PageTable.RunGranulePages) : alignPages;
    for (let attempt = 0; attempt < TAKE_RUN_ATTEMPTS; attempt++) {
      const found = this.findRun(pages, align);
      if (found !== 0) return found;
      if (attempt === 0 && this.cachedCount() > 0) this.reclaimLocked();
      else if (!this.growPages(pages + align)) break; // room for the run at any offset its alignment needs
    }
    return 0;
  }

  /**
   * A run of `pages` pages from a multiple of `alignPages`: the first fit of the smallest
   * unordered bin that holds one (the run freed last: warm), else the lowest-addressed fit of
   * the ordered bins, split around the taken pages. Lowest fit keeps the heap's pages compact,
   * so blocks land on pages touched before (docs/design/heap.md).
   */
  protected findRun(pages: number, alignPages: number): number {
    // The bins that hold runs, from the request's own up.
    let bins = this.words[HeaderWord.BinMask] & (-1 << binOf(pages));
    for (; bins !== 0 && lowestBit(bins) < PageTable.OrderedFromBin; bins &= bins - 1) {
      for (let run = this.words[HeaderWord.Bins + lowestBit(bins)]; run !== 0; run = this.descriptor(run, DescriptorWord.Next)) {
        if (this.runFits(run, pages, alignPages)) return this.splitRun(run, pages, alignPages);
      }
    }
    let lowest = 0;
    for (; bins !== 0; bins &= bins - 1) {
      // In address order: the first fit is the bin's lowest, and a run past the lowest found so far ends the walk.
      for (let run = this.words[HeaderWord.Bins + lowestBit(bins)]; run !== 0 && (lowest === 0 || run < lowest); run = this.descriptor(run, DescriptorWord.Next)) {
        if (!this.runFits(run, pages, alignPages)) continue;
        lowest = run;
        break;
      }
    }
    return lowest === 0 ? 0 : this.splitRun(lowest, pages, alignPages);
  }

  /** Whether the free run at `run` holds `pages` pages from a multiple of `alignPages`. */
  private runFits(run: number, pages: number, alignPages: number): boolean {
    return Math.ceil(run / alignPages) * alignPages + pages <= run + this.descriptor(run, DescriptorWord.Run);
  }

  /** Takes `pages` pages from the first multiple of `alignPages` in the free run at `run` (which holds them); the rest stays free. */
  private splitRun(run: number, pages: number, alignPages: number): number {
    const length = this.descriptor(run, DescriptorWord.Run);
    const start = Math.ceil(run / alignPages) * alignPages;
    this.unbin(run);
    // Before the remainders' descriptors are written: clearing may reach the run's end.
    if (start + pages > this.words[HeaderWord.ClearedPages]) this.extendClearedPages(start + pages);
    if (start > run) this.makeFreeRun(run, start - run);
    if (start + pages < run + length) this.makeFreeRun(start + pages, run + length - start - pages);
    return start;
  }

  /**
   * Clears the descriptors and bitmap words of the pages from HeaderWord.ClearedPages to at
   * least `endPage`, all in the free run that reaches the heap's end (the caller holds the
   * lock, and has taken that run out of its bin or not yet written it). Zeros are written
   * even over a fresh buffer's zeros: the backing may have held anything.
   */
  protected extendClearedPages(endPage: number): void {
    const words = this.words;
    const cleared = words[HeaderWord.ClearedPages];
    const grown = Math.max(CLEAR_MIN_PAGES, cleared - words[HeaderWord.MetaPages]);
    const target = Math.min(this.pageCount, Math.max(endPage, cleared + grown));
    if (DEBUG_CHECKS && (endPage > this.pageCount || target <= cleared)) throw this.corrupt(`clearing metadata of pages ${cleared} to ${endPage} in a heap of ${this.pageCount}`);
    words.fill(0, this.descriptorBase(cleared), this.descriptorBase(target));
    words.fill(0, this.bitmapWord + cleared * Bitmap.WordsPerPage, this.bitmapWord + target * Bitmap.WordsPerPage);
    if (this.shared) Atomics.store(words, HeaderWord.ClearedPages, target);
    else words[HeaderWord.ClearedPages] = target;
    this.views(); // this worker's fast free path takes the new pages
  }

  /**
   * Pages `[first, first + pages)` join the span or large block starting at `head`, taken
   * (zeroed if `zero`) and counted in use. Tails get kind word `tailKindWord` and point back to
   * the head: every tail of a span (free's fast path reads any page of one), but of a large
   * block only its last page (which the free run after it merges by) and those at multiples
   * of PageTable.LargeTailStride (which validate finds an interior pointer's block by): a
   * 4 MiB block writes 17 descriptors, not 1,023, each a cache line of its own.
   */
  protected takeRunPages(head: number, first: number, pages: number, tailKindWord: number, zero: boolean): void {
    const words = this.words;
    const last = first + pages - 1;
    const from = Math.max(first, head + 1);
    const stride = tailKindWord === Kind.LargeTail ? PageTable.LargeTailStride : 1;
    for (let tail = (from + stride - 1) & -stride; tail < last; tail += stride) {
      const at = this.descriptorBase(tail);
      words[at + DescriptorWord.Kind] = tailKindWord;
      words[at + DescriptorWord.Run] = head;
      words[at + DescriptorWord.SpanHead] = head;
    }
    if (last >= from) this.markTail(last, head, tailKindWord);
    this.takePages(first, pages, zero);
    this.usePages(pages);
  }

  /**
   * Pages just taken for a span or a large block (zeroed first if `zero`): the caller will
   * write them. O(1) unless some pages are flagged unmapped (a memory that unmaps).
   */
  protected takePages(first: number, pages: number, zero: boolean): void {
    this.memory.mapPages(first, pages);
    if (zero) this.zeroDirty(first, pages);
    const words = this.words;
    if (first + pages > words[HeaderWord.TakenPagesEnd]) words[HeaderWord.TakenPagesEnd] = first + pages;
    if (words[HeaderWord.UnmappedPages] === 0) return;
    for (let page = first; page < first + pages; page++) {
      if ((this.descriptor(page, DescriptorWord.Flags) & PageFlag.Unmapped) === 0) continue;
      this.setDescriptor(page, DescriptorWord.Flags, 0);
      words[HeaderWord.UnmappedPages]--;
    }
  }

  /** calloc of pages: zero those that may have been written since they last read as zero. */
  protected zeroDirty(first: number, pages: number): void {
    const end = Math.min(first + pages, this.words[HeaderWord.TakenPagesEnd]);
    if (this.words[HeaderWord.UnmappedPages] === 0) {
      if (end > first) this.memory.fill(first * Geometry.PageBytes, (end - first) * Geometry.PageBytes, 0);
      return;
    }
    for (let page = first; page < end; page++) {
      if ((this.descriptor(page, DescriptorWord.Flags) & PageFlag.Unmapped) === 0) this.memory.fill(page * Geometry.PageBytes, Geometry.PageBytes, 0);
    }
  }

  /** Returns pages to the free runs, merged with free neighbours. */
  protected releasePages(first: number, pages: number): void {
    this.usePages(-pages);
    if (this.memory.unmapPages(first, pages)) {
      for (let page = first; page < first + pages; page++) {
        if ((this.descriptor(page, DescriptorWord.Flags) & PageFlag.Unmapped) !== 0) continue;
        this.setDescriptor(page, DescriptorWord.Flags, PageFlag.Unmapped);
        this.words[HeaderWord.UnmappedPages]++;
      }
    }
    let start = first;
    let end = first + pages;
    const before = start - 1;
    if (before >= this.words[HeaderWord.MetaPages]) {
      const kind = this.kindOf(before);
      const head = kind === Kind.FreeRun ? before : kind === Kind.FreeLast ? this.descriptor(before, DescriptorWord.Run) : 0;
      if (head !== 0) {
        this.unbin(head);
        start = head;
      }
    }
    if (end < this.pageCount && this.kindOf(end) === Kind.FreeRun) {
      this.unbin(end);
      end += this.descriptor(end, DescriptorWord.Run);
    }
    this.makeFreeRun(start, end - start);
  }

  /** Page `tail` is a tail of the run starting at `head`, with kind word `kindWord`. */
  protected markTail(tail: number, head: number, kindWord: number): void {
    this.setDescriptor(tail, DescriptorWord.Kind, kindWord);
    this.setDescriptor(tail, DescriptorWord.Run, head);
    this.setDescriptor(tail, DescriptorWord.SpanHead, head);
  }

  /** Marks `[first, first + pages)` a free run and puts it in its bin: first in an unordered bin, in address order in an ordered one. */
  protected makeFreeRun(first: number, pages: number): void {
    this.setDescriptor(first, DescriptorWord.Kind, Kind.FreeRun);
    this.setDescriptor(first, DescriptorWord.Run, pages);
    if (pages > 1) {
      this.setDescriptor(first + pages - 1, DescriptorWord.Kind, Kind.FreeLast);
      this.setDescriptor(first + pages - 1, DescriptorWord.Run, first);
    }
    const bin = binOf(pages);
    let previous = 0;
    let next = this.words[HeaderWord.Bins + bin];
    if (bin >= PageTable.OrderedFromBin) {
      while (next !== 0 && next < first) {
        previous = next;
        next = this.descriptor(next, DescriptorWord.Next);
      }
    }
    this.setDescriptor(first, DescriptorWord.Next, next);
    this.setDescriptor(first, DescriptorWord.Prev, previous);
    if (next !== 0) this.setDescriptor(next, DescriptorWord.Prev, first);
    if (previous === 0) this.words[HeaderWord.Bins + bin] = first;
    else this.setDescriptor(previous, DescriptorWord.Next, first);
    this.words[HeaderWord.BinMask] |= 1 << bin;
  }

  /** Takes the free run at `first` out of its bin. */
  protected unbin(first: number): void {
    const next = this.descriptor(first, DescriptorWord.Next);
    const previous = this.descriptor(first, DescriptorWord.Prev);
    if (previous === 0) {
      const bin = binOf(this.descriptor(first, DescriptorWord.Run));
      this.words[HeaderWord.Bins + bin] = next;
      if (next === 0) this.words[HeaderWord.BinMask] &= ~(1 << bin);
    } else {
      this.setDescriptor(previous, DescriptorWord.Next, next);
    }
    if (next !== 0) this.setDescriptor(next, DescriptorWord.Prev, previous);
    this.setDescriptor(first, DescriptorWord.Kind, Kind.Unset);
  }

  /** Grows the store (doubling, to at least `minimumPages` more pages); the new pages become a free run. */
  protected growPages(minimumPages: number): boolean {
    const pageCount = this.pageCount;
    const wanted = Math.max(pageCount * 2, pageCount + minimumPages);
    const target = Math.min(this.words[HeaderWord.MaxPages], wanted);
    if (target <= pageCount || !this.memory.grow(target * Geometry.PageBytes)) return false;
    this.views();
    this.words[HeaderWord.PageCount] = target;
    this.releasePages(pageCount, target - pageCount);
    this.usePages(target - pageCount); // releasePages counted them as returned
    return true;
  }
}

/** The bin of a free run of `pages` pages. */
export function binOf(pages: number): number {
  return Math.min(PageTable.BinCount - 1, 31 - Math.clz32(pages));
}

/** The index of the lowest set bit of `mask` (not 0). */
function lowestBit(mask: number): number {
  return 31 - Math.clz32(mask & -mask);
}

/** Pages a large block of `sizeBytes` takes (whole granules from a granule up). */
export function pagesFor(sizeBytes: number): number {
  return runPages(Math.ceil(sizeBytes / Geometry.PageBytes));
}

/** Pages a run of at least `pages` takes: whole granules from a granule up (PageTable.RunGranulePages). */
export function runPages(pages: number): number {
  return pages >= PageTable.RunGranulePages ? (pages + PageTable.RunGranulePages - 1) & -PageTable.RunGranulePages : pages;
}
