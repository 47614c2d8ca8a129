/**
 * The region cache: freed large blocks kept whole, for reuse by a request of about their
 * size, in slots in the header. Eviction (by slot count, bytes or age in large-block
 * operations) returns a run to the free pages and counts it decommitted: its pages are zeroed
 * lazily, only if a calloc gets them (the MADV_FREE analogue). The caller holds the lock.
 */
import type { BlockMemory } from "./block-memory.js";
import { CacheSlotWord, DescriptorWord, Geometry, HeaderWord, Kind, PageTable, Stat } from "./heap-layout.js";
import { DEFAULT_CACHE_AGE_OPS, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_SLOTS, type HeapOptions } from "./heap-options.js";
import { PageRuns } from "./page-runs.js";

/** A cached run serves a request of n pages if it has at most n * FIT_SLACK_NUMERATOR / FIT_SLACK_DENOMINATOR (1.25 n). */
const FIT_SLACK_NUMERATOR = 5;
const FIT_SLACK_DENOMINATOR = 4;

/** The fourth layer of a heap core: the region cache of freed large runs. */
export abstract class RegionCache extends PageRuns {
  /** Runs the cache holds at most. */
  protected readonly cacheSlots: number;
  /** Bytes it holds at most. */
  protected readonly cacheBytes: number;
  /** Large-block operations a run waits for reuse before it is evicted. */
  protected readonly cacheAgeOps: number;

  /** The cache limits of `options` (defaults: heap-options.ts). */
  constructor(memory: BlockMemory, options: HeapOptions) {
    super(memory);
    this.cacheSlots = Math.min(PageTable.MaxCacheSlots, options.cacheSlots ?? DEFAULT_CACHE_SLOTS);
    this.cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.cacheAgeOps = options.cacheAgeOps ?? DEFAULT_CACHE_AGE_OPS;
  }

  /** Runs in the cache now. */
  protected cachedCount(): number {
    return this.words[HeaderWord.CacheSlots];
  }

  /** One more large-block operation: the clock of the cache's age limit. */
  protected tick(): void {
    this.words[HeaderWord.Operations]++;
  }

  /** Caches the freed large run at `page` if it fits the limits (evicting older runs); false if it does not. */
  protected cacheRun(page: number, run: number): boolean {
    if (run * Geometry.PageBytes > this.cacheBytes || this.cacheSlots === 0) return false;
    while (this.cachedCount() >= this.cacheSlots || (this.floats[HeaderWord.Stats + Stat.CachedPages] + run) * Geometry.PageBytes > this.cacheBytes) this.evictCached(0);
    this.setDescriptor(page, DescriptorWord.Kind, Kind.Cached);
    const slot = this.slotWord(this.cachedCount());
    this.words[slot + CacheSlotWord.Page] = page;
    this.words[slot + CacheSlotWord.Run] = run;
    this.words[slot + CacheSlotWord.CachedAt] = this.words[HeaderWord.Operations];
    this.words[HeaderWord.CacheSlots]++;
    this.floats[HeaderWord.Stats + Stat.CachedPages] += run;
    return true;
  }

  /** Best fit among cached runs of n to 1.25 n pages (out of the cache); evicts runs past their age first. 0 if none. */
  protected takeCached(pages: number): number {
    const now = this.words[HeaderWord.Operations];
    for (let i = 0; i < this.cachedCount(); ) {
      if (now - this.words[this.slotWord(i) + CacheSlotWord.CachedAt] > this.cacheAgeOps) this.evictCached(i);
      else i++;
    }
    let best = -1;
    for (let i = 0; i < this.cachedCount(); i++) {
      const run = this.words[this.slotWord(i) + CacheSlotWord.Run];
      if (run >= pages && run * FIT_SLACK_DENOMINATOR <= pages * FIT_SLACK_NUMERATOR && (best < 0 || run < this.words[this.slotWord(best) + CacheSlotWord.Run])) best = i;
    }
    if (best < 0) return 0;
    const page = this.words[this.slotWord(best) + CacheSlotWord.Page];
    this.removeCacheSlot(best);
    return page;
  }

  /** Decommits a cached run: back to the free pages, zeroed lazily if a calloc gets it. */
  protected evictCached(index: number): void {
    const page = this.words[this.slotWord(index) + CacheSlotWord.Page];
    const run = this.words[this.slotWord(index) + CacheSlotWord.Run];
    this.removeCacheSlot(index);
    this.floats[HeaderWord.Stats + Stat.CachedPages] -= run;
    this.floats[HeaderWord.Stats + Stat.CacheEvictions]++;
    this.floats[HeaderWord.Stats + Stat.DecommittedBytes] += run * Geometry.PageBytes;
    this.releasePages(page, run);
  }

  /** Decommits every cached run. */
  protected evictAllCached(): void {
    while (this.cachedCount() > 0) this.evictCached(0);
  }

  /** The last slot moves into slot `index`. */
  protected removeCacheSlot(index: number): void {
    const last = this.cachedCount() - 1;
    for (let w = 0; w < PageTable.CacheSlotWords; w++) this.words[this.slotWord(index) + w] = this.words[this.slotWord(last) + w];
    this.words[HeaderWord.CacheSlots] = last;
  }

  /** The first word of slot `index`. */
  protected slotWord(index: number): number {
    return HeaderWord.Cache + index * PageTable.CacheSlotWords;
  }
}
