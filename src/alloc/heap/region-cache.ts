/**
 * The region cache: freed large blocks kept whole, for reuse by a request of about their
 * size, in slots in the header. Eviction (by slot count, bytes or age in large-block
 * operations) returns a run to the free pages and counts it decommitted: its pages are zeroed
 * lazily, only if a calloc gets them (the MADV_FREE analogue). The caller holds the lock.
 *
 * Its limits live in the header, so every worker of a shared heap uses the same. With the
 * adaptive policy they move, once every POLICY_WINDOW_OPS large-block operations, with what
 * the cache did in that window (docs/design/heap.md has the reasons and figures):
 * - a miss that a run the cache let go would have served (a "ghost", remembered by its
 *   length) says the cache was too small or too quick: the slot limit doubles, up to
 *   `cacheSlots`, and, if that run went for its age, the age limit doubles, up to
 *   AGE_RANGE times `cacheAgeOps`;
 * - a window where most large mallocs move a block that could not grow in place (realloc
 *   of growing blocks) says the cache hurts: a cached run that fits a block exactly makes
 *   it move again at its next growth, where coalesced free pages let it grow in place. The
 *   slot limit halves, down to 0;
 * - a window of evictions without a single hit says the cache only holds memory back from
 *   the free pages (each size used once): the slot limit halves, down to 0, and the age
 *   limit halves, down to `cacheAgeOps` / AGE_RANGE.
 * At a slot limit of 0 freed runs go straight back to the free pages, still remembered as
 * ghosts, so a pattern that returns opens the cache again.
 * The footprint stays bounded by `cacheSlots` and `cacheBytes` either way.
 */
import type { BlockMemory } from "./block-memory.js";
import { CachePolicyCode, CacheSlotWord, DescriptorWord, Geometry, GhostWord, HeaderWord, Kind, PageTable, PolicyWindowWord, Stat } from "./heap-layout.js";
import { DEFAULT_CACHE_AGE_OPS, DEFAULT_CACHE_BYTES, DEFAULT_CACHE_POLICY, DEFAULT_CACHE_SLOTS, type HeapOptions } from "./heap-options.js";
import { PageRuns } from "./page-runs.js";

/** A cached run serves a request of n pages if it has at most n * FIT_SLACK_NUMERATOR / FIT_SLACK_DENOMINATOR (1.25 n). */
const FIT_SLACK_NUMERATOR = 5;
const FIT_SLACK_DENOMINATOR = 4;

/** Large-block operations between two choices of the adaptive policy. */
const POLICY_WINDOW_OPS = 64;
/** The adaptive age limit stays within cacheAgeOps / AGE_RANGE and cacheAgeOps * AGE_RANGE. */
const AGE_RANGE = 16;

/** The fourth layer of a heap core: the region cache of freed large runs. */
export abstract class RegionCache extends PageRuns {
  /** Runs the cache holds at most (the adaptive policy's ceiling). */
  protected readonly cacheSlots: number;
  /** Bytes it holds at most. */
  protected readonly cacheBytes: number;
  /** Large-block operations a run waits for reuse before it is evicted (the adaptive policy's middle). */
  protected readonly cacheAgeOps: number;
  private readonly cachePolicy: CachePolicyCode;

  /** The cache limits of `options` (defaults: heap-options.ts). */
  constructor(memory: BlockMemory, options: HeapOptions) {
    super(memory);
    this.cacheSlots = Math.min(PageTable.MaxCacheSlots, options.cacheSlots ?? DEFAULT_CACHE_SLOTS);
    this.cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
    this.cacheAgeOps = options.cacheAgeOps ?? DEFAULT_CACHE_AGE_OPS;
    this.cachePolicy = (options.cachePolicy ?? DEFAULT_CACHE_POLICY) === "adaptive" ? CachePolicyCode.Adaptive : CachePolicyCode.Fixed;
  }

  /** Writes the cache's policy and first limits into a heap being formatted. */
  protected formatRegionCache(): void {
    this.words[HeaderWord.CachePolicy] = this.cachePolicy;
    this.words[HeaderWord.CacheSlotLimit] = this.cacheSlots;
    this.words[HeaderWord.CacheAgeLimit] = this.cacheAgeOps;
  }

  /** Runs in the cache now. */
  protected cachedCount(): number {
    return this.words[HeaderWord.CacheSlots];
  }

  private adaptive(): boolean {
    return this.words[HeaderWord.CachePolicy] === CachePolicyCode.Adaptive;
  }

  /** One more large-block operation: the clock of the cache's age limit, and of the adaptive policy's window. */
  protected tick(): void {
    const operations = ++this.words[HeaderWord.Operations];
    if (this.adaptive() && ((operations - this.words[HeaderWord.PolicyWindow + PolicyWindowWord.StartOperations]) | 0) >= POLICY_WINDOW_OPS) this.chooseLimits();
  }

  /** Caches the freed large run at `page` if it fits the limits (evicting older runs); false if it does not. */
  protected cacheRun(page: number, run: number): boolean {
    const slotLimit = this.words[HeaderWord.CacheSlotLimit];
    if (run * Geometry.PageBytes > this.cacheBytes || slotLimit === 0) {
      // Let go at once: remembered, so that a miss of its size can reopen the cache.
      if (this.adaptive() && run * Geometry.PageBytes <= this.cacheBytes) this.rememberGhost(run, false);
      return false;
    }
    while (this.cachedCount() >= slotLimit || (this.floats[HeaderWord.Stats + Stat.CachedPages] + run) * Geometry.PageBytes > this.cacheBytes) this.evictCached(0);
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
    const ageLimit = this.words[HeaderWord.CacheAgeLimit];
    for (let i = 0; i < this.cachedCount(); ) {
      if (now - this.words[this.slotWord(i) + CacheSlotWord.CachedAt] > ageLimit) this.evictCached(i, true);
      else i++;
    }
    let best = -1;
    for (let i = 0; i < this.cachedCount(); i++) {
      const run = this.words[this.slotWord(i) + CacheSlotWord.Run];
      if (fits(run, pages) && (best < 0 || run < this.words[this.slotWord(best) + CacheSlotWord.Run])) best = i;
    }
    if (best < 0) {
      if (this.adaptive()) this.countGhostHit(pages);
      return 0;
    }
    const page = this.words[this.slotWord(best) + CacheSlotWord.Page];
    this.removeCacheSlot(best);
    return page;
  }

  /** Decommits a cached run (`forAge`: it waited past the age limit): back to the free pages, zeroed lazily if a calloc gets it. */
  protected evictCached(index: number, forAge = false): void {
    const page = this.words[this.slotWord(index) + CacheSlotWord.Page];
    const run = this.words[this.slotWord(index) + CacheSlotWord.Run];
    this.removeCacheSlot(index);
    this.floats[HeaderWord.Stats + Stat.CachedPages] -= run;
    this.floats[HeaderWord.Stats + Stat.CacheEvictions]++;
    this.floats[HeaderWord.Stats + Stat.DecommittedBytes] += run * Geometry.PageBytes;
    if (this.adaptive()) {
      this.words[HeaderWord.PolicyWindow + PolicyWindowWord.Evictions]++;
      // A ghost hit can only raise a limit below its ceiling: at the slot ceiling, a run
      // pushed out by others is not remembered (a miss then scans nothing).
      if (forAge || this.words[HeaderWord.CacheSlotLimit] < this.cacheSlots) this.rememberGhost(run, forAge);
    }
    this.releasePages(page, run);
  }

  /** Decommits the cached run that starts at `page`. */
  protected evictCachedAt(page: number): void {
    for (let i = 0; i < this.cachedCount(); i++) {
      if (this.words[this.slotWord(i) + CacheSlotWord.Page] === page) return this.evictCached(i);
    }
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

  /** A large block could not grow in place: realloc moves it. */
  protected countMove(): void {
    if (this.adaptive()) this.words[HeaderWord.PolicyWindow + PolicyWindowWord.Moves]++;
  }

  private rememberGhost(run: number, forAge: boolean): void {
    const next = this.words[HeaderWord.GhostNext];
    if (this.words[HeaderWord.Ghosts + next] === 0) this.words[HeaderWord.GhostCount]++;
    this.words[HeaderWord.Ghosts + next] = (run & GhostWord.RunMask) | (forAge ? GhostWord.ForAge : 0);
    this.words[HeaderWord.GhostNext] = (next + 1) % PageTable.GhostSlots;
  }

  /** A miss of `pages` pages: counted as a ghost hit if a run the cache let go would have served it (that ghost is then forgotten). */
  private countGhostHit(pages: number): void {
    if (this.words[HeaderWord.GhostCount] === 0) return;
    for (let i = 0; i < PageTable.GhostSlots; i++) {
      const ghost = this.words[HeaderWord.Ghosts + i];
      if (ghost === 0 || !fits(ghost & GhostWord.RunMask, pages)) continue;
      this.words[HeaderWord.Ghosts + i] = 0;
      this.words[HeaderWord.GhostCount]--;
      this.words[HeaderWord.PolicyWindow + PolicyWindowWord.GhostHits]++;
      if ((ghost & GhostWord.ForAge) !== 0) this.words[HeaderWord.PolicyWindow + PolicyWindowWord.AgeGhostHits]++;
      return;
    }
  }

  /** The adaptive policy's choice at the end of a window (the rules at the top of this file); then a new window. */
  private chooseLimits(): void {
    const window = HeaderWord.PolicyWindow;
    const slotLimit = this.words[HeaderWord.CacheSlotLimit];
    const ageLimit = this.words[HeaderWord.CacheAgeLimit];
    const hitsNow = this.floats[HeaderWord.Stats + Stat.CacheHits] | 0;
    const requestsNow = (this.floats[HeaderWord.Stats + Stat.CacheHits] + this.floats[HeaderWord.Stats + Stat.CacheMisses]) | 0;
    const hits = (hitsNow - this.words[window + PolicyWindowWord.StartHits]) | 0;
    const requests = (requestsNow - this.words[window + PolicyWindowWord.StartRequests]) | 0;
    const moves = this.words[window + PolicyWindowWord.Moves];
    if (moves > 0 && moves * 2 >= requests) {
      // Most large mallocs move a growing block: a cached run that fits one exactly makes
      // it move again at its next growth, where free pages would let it grow in place.
      this.words[HeaderWord.CacheSlotLimit] = slotLimit >>> 1;
    } else if (this.words[window + PolicyWindowWord.GhostHits] > 0) {
      this.words[HeaderWord.CacheSlotLimit] = Math.min(this.cacheSlots, Math.max(1, slotLimit * 2));
      if (this.words[window + PolicyWindowWord.AgeGhostHits] > 0) this.words[HeaderWord.CacheAgeLimit] = Math.min(this.cacheAgeOps * AGE_RANGE, ageLimit * 2);
    } else if (hits === 0 && this.words[window + PolicyWindowWord.Evictions] > 0) {
      this.words[HeaderWord.CacheSlotLimit] = slotLimit >>> 1;
      this.words[HeaderWord.CacheAgeLimit] = Math.max(Math.ceil(this.cacheAgeOps / AGE_RANGE), ageLimit >>> 1);
    }
    // A lower slot limit takes effect now, the oldest runs first (counted in the window just closed).
    while (this.cachedCount() > this.words[HeaderWord.CacheSlotLimit]) this.evictCached(0);
    for (let w = 0; w < PolicyWindowWord.Words; w++) this.words[window + w] = 0;
    this.words[window + PolicyWindowWord.StartOperations] = this.words[HeaderWord.Operations];
    this.words[window + PolicyWindowWord.StartHits] = hitsNow;
    this.words[window + PolicyWindowWord.StartRequests] = requestsNow;
  }
}

/** Whether a run of `run` pages serves a request of `pages`: at least that, at most 1.25 times. */
function fits(run: number, pages: number): boolean {
  return run >= pages && run * FIT_SLACK_DENOMINATOR <= pages * FIT_SLACK_NUMERATOR;
}
