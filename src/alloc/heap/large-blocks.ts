/**
 * Large blocks (over 256 KiB, or aligned beyond a page): whole page runs, from the region
 * cache when it holds one of about the right size, else from the free runs; resized in place
 * into the free pages after them. The caller holds the lock.
 */
import { HeapError } from "./heap-error.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, Stat } from "./heap-layout.js";
import { RegionCache } from "./region-cache.js";

/** The fifth layer of a heap core: large blocks. */
export abstract class LargeBlocks extends RegionCache {
  /** A large block of `pages` pages (zeroed if `zero`); 0 if the heap is full. */
  protected allocateLarge(pages: number, zero: boolean): number {
    this.tick();
    const cached = this.takeCached(pages);
    if (cached !== 0) {
      this.floats[HeaderWord.Stats + Stat.CacheHits]++;
      const run = this.descriptor(cached, DescriptorWord.Run);
      this.floats[HeaderWord.Stats + Stat.CachedPages] -= run;
      this.setDescriptor(cached, DescriptorWord.Kind, Kind.Large);
      this.markLive(cached * Geometry.PageBytes);
      if (zero) this.zeroDirty(cached, run);
      return cached * Geometry.PageBytes;
    }
    this.floats[HeaderWord.Stats + Stat.CacheMisses]++;
    const hugeAlign = this.memory.hugeAlignPages ?? 0;
    const first = this.takeRun(pages, hugeAlign > 0 && pages >= hugeAlign ? hugeAlign : 1);
    return first === 0 ? Geometry.Null : this.startLarge(first, pages, zero);
  }

  /** Makes the run at `first` (just taken) a live large block; its address. */
  protected startLarge(first: number, pages: number, zero: boolean): number {
    this.setDescriptor(first, DescriptorWord.Kind, Kind.Large);
    this.setDescriptor(first, DescriptorWord.Run, pages);
    this.takeRunPages(first, first, pages, Kind.LargeTail, zero);
    this.markLive(first * Geometry.PageBytes);
    return first * Geometry.PageBytes;
  }

  /** Frees the large block at `page`: into the region cache, or back to the free pages. */
  protected freeLarge(page: number): void {
    const run = this.descriptor(page, DescriptorWord.Run);
    if (!this.clearLive(page * Geometry.PageBytes)) throw new HeapError(`free(${this.hex(page * Geometry.PageBytes)}): not allocated (a double free, racing with another)`);
    // After the check: a free that fails changes nothing, the cache's clock and policy included.
    this.tick();
    if (!this.cacheRun(page, run)) this.releasePages(page, run);
  }

  /** Grows (into free pages after it) or shrinks a large block in place; false if it cannot grow. */
  protected resizeLarge(page: number, pages: number): boolean {
    const run = this.descriptor(page, DescriptorWord.Run);
    if (pages === run) return true;
    if (pages < run) {
      this.setDescriptor(page, DescriptorWord.Run, pages);
      if (pages > 1) this.markTail(page + pages - 1, page, Kind.LargeTail);
      this.releasePages(page + pages, run - pages);
      return true;
    }
    const next = page + run;
    // A cached run right after the block is memory nobody uses: the block grows into it
    // rather than move (a cache that held on to it made growing blocks copy, measured in
    // docs/design/heap.md).
    if (next < this.pageCount && this.kindOf(next) === Kind.Cached) this.evictCachedAt(next);
    if (next >= this.pageCount || this.kindOf(next) !== Kind.FreeRun || this.descriptor(next, DescriptorWord.Run) < pages - run) {
      this.countMove();
      return false;
    }
    const extra = pages - run;
    const leftover = this.descriptor(next, DescriptorWord.Run) - extra;
    this.unbin(next);
    if (next + extra > this.words[HeaderWord.ClearedPages]) this.extendClearedPages(next + extra);
    if (leftover > 0) this.makeFreeRun(next + extra, leftover);
    this.takeRunPages(page, next, extra, Kind.LargeTail, false);
    this.setDescriptor(page, DescriptorWord.Run, pages);
    return true;
  }
}
