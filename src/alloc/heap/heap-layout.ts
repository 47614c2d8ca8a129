/**
 * Where a Heap keeps its state inside its backing store (Int32 word indices), so that every
 * worker attached to a SharedArrayBuffer heap sees the same allocator.
 *
 *   words 0-63      header (geometry, the page-layer mutex, the orphan inbox)
 *   words 64-95     bins of free page runs (by power of two)
 *   words 96-287    region cache slots
 *   words 288-399   abandoned spans, one list per size class (spans of detached workers)
 *   words 400-431   statistics (float64 index 200 on)
 *   words 512-8703  worker records: per worker, its span list, spare span and free-block
 *                   cache per size class, and its inbox (the first shares the header's
 *                   4 KiB, so a heap of one worker starts with one page of state)
 *   words 8704-     page descriptors (16 words each), then the allocation bitmap
 */
/**
 * The numbers the fast paths shift and compare by, as a const enum: TypeScript inlines its
 * members, where an imported const is a module binding TurboFan re-loads and hole-checks at
 * every use (in the malloc/free fast paths that was most of their cost).
 */
export const enum Geometry {
  /** Heap pages are 4 KiB, the OS page: a span of small blocks (up to 64 B) is one page, so a class in use costs at most one partly filled page. */
  PageShift = 12,
  /** A page's descriptor starts DescriptorWord words after the previous page's: page << DescriptorShift. */
  DescriptorShift = 4,
  /** Blocks are 8-byte aligned, in 8-byte granules (size classes, the allocation bitmap). */
  GranuleShift = 3,
  GranuleBytes = 1 << GranuleShift,
  /** Bytes of one heap page. */
  PageBytes = 1 << PageShift,
  /** The null address. */
  Null = 0,
}

/** The header's first word on a formatted heap: "MSHP". */
export const HEAP_MAGIC = 0x4d534850;
/**
 * 7: runs of 16 pages or more taken in 16-page granules, granule-aligned, and bins of such
 * runs kept in address order; since 6, 4 KiB pages, spans of one to four pages for small
 * classes, span tails tagged with their span's owner and class; since 5, per-worker span lists, free-block caches and
 * inboxes, 16-word descriptors, metadata cleared up to HeaderWord.ClearedPages, the region
 * cache's policy in the header.
 */
export const HEAP_LAYOUT_VERSION = 7;

/** Word indices of the heap's header (and of the areas after it). */
export const enum HeaderWord {
  Magic = 0,
  Version = 1,
  PageCount = 2,
  MaxPages = 3,
  MetaPages = 4,
  DescriptorsWord = 5,
  BitmapWord = 6,
  /** Large-block operations so far: the clock of the region cache's age limit. */
  Operations = 7,
  CacheSlots = 8,
  /** 1: debug mode (canaries and poisoning), fixed when the heap is created. */
  Debug = 9,
  /** The page layer's mutex (futex-mutex.ts): page runs, large blocks, the cache, abandoned spans. */
  Lock = 10,
  /** Blocks freed into spans that no worker owns (an atomic list, drained under the lock). */
  OrphanInbox = 11,
  /** 1 + the highest worker slot ever claimed: the worker records written so far (and counted in the footprint). */
  WorkerSlotsUsed = 12,
  /** 1: freed small blocks wait in their worker's free-block cache (HeapOptions.blockCache), fixed when the heap is created. */
  BlockCache = 13,
  /**
   * Pages whose descriptors and bitmap words have been cleared: the pages below it; every
   * page at or above it is in the one free run that reaches the heap's end, never used.
   * Metadata is cleared as the heap first uses pages (page-runs.ts), not when it is
   * formatted: a heap of up to 4 GiB has 80 MiB of metadata, and touching it all up front
   * made it resident (read or written) for a heap that may use a few pages.
   */
  ClearedPages = 14,
  /** The region cache's policy (CachePolicyCode), fixed when the heap is created. */
  CachePolicy = 15,
  /** The region cache's limits now: runs it keeps, and large-block operations a run waits before it is decommitted. */
  CacheSlotLimit = 16,
  CacheAgeLimit = 17,
  /** The adaptive policy's window so far (PolicyWindowWord), from here. */
  PolicyWindow = 18,
  /** The adaptive policy's ghosts: runs it let go recently (GhostWord), a ring of PageTable.GhostSlots from here; the next to write at GhostNext. */
  GhostNext = 26,
  /** Ghosts remembered now (a miss scans them only if there are any). */
  GhostCount = 27,
  /**
   * 1 + the highest page ever taken for a span or a large block: pages at or above it were
   * never written through the heap and read as zero, as do pages flagged PageFlag.Unmapped.
   */
  TakenPagesEnd = 28,
  /** Pages flagged PageFlag.Unmapped now (0 for a memory that never unmaps: no flag to keep). */
  UnmappedPages = 29,
  /** Bit k set: bin k holds a free run (a run search visits only those bins). */
  BinMask = 30,
  Ghosts = 32,
  Bins = 64,
  Cache = 96,
  Abandoned = 288,
  /** Float64 index of the statistics (word 400). */
  Stats = 200,
  Workers = 512,
  DescriptorsStart = 8704,
}
/**
 * Counts of the page layer's tables. A const enum, as every number the heap's layers share:
 * an imported `const` is read from its module's cell at each use, which cost the large-block
 * path 8% more instructions once the layers lived in files of their own.
 */
export const enum PageTable {
  /** Bins of free page runs: bin k holds runs of 2^k to 2^(k+1) - 1 pages (the last, all longer ones). */
  BinCount = 32,
  /** Region cache slots the header has room for (HeapOptions.cacheSlots is capped at this). */
  MaxCacheSlots = 64,
  /** Words of one region cache slot (CacheSlotWord). */
  CacheSlotWords = 3,
  /** Runs the adaptive policy remembers after letting them go. */
  GhostSlots = 16,
  /** A large block's tails at multiples of this many pages (and its last page) point back to its first: a power of two. */
  LargeTailStride = 16,
  /**
   * Runs of this many pages (64 KiB) or more are taken in whole granules of it, granule
   * aligned (mimalloc's slices): a freed run fits later requests of about its size, and blocks
   * start on pages that earlier blocks used (docs/design/heap.md). A power of two.
   */
  RunGranulePages = 16,
  /** Bins from this one on (runs of RunGranulePages or more) keep their runs in address order: lowest fit first. */
  OrderedFromBin = 4,
}

/** HeaderWord.CachePolicy. */
export const enum CachePolicyCode {
  Fixed = 0,
  Adaptive = 1,
}

/**
 * The adaptive policy's current window, from HeaderWord.PolicyWindow: where the heap's own
 * counts stood when it began (so the large-block paths count nothing twice), and counts of
 * what only the policy reads.
 */
export const enum PolicyWindowWord {
  /** HeaderWord.Operations when the window began. */
  StartOperations = 0,
  /** Stat.CacheHits when it began, as int32 (the window's differences fit). */
  StartHits = 1,
  /** Large mallocs the cache missed that a run it let go would have served, and those of them it let go for age. */
  GhostHits = 2,
  AgeGhostHits = 3,
  /** Cached runs decommitted unused. */
  Evictions = 4,
  /** Stat.CacheHits + Stat.CacheMisses (large mallocs) when it began, as int32. */
  StartRequests = 5,
  /** Large blocks that could not grow in place (realloc moved them). */
  Moves = 6,
  Words = 7,
}

/** A ghost: the run's length in pages, and GhostWord.ForAge if the cache let it go for its age. */
export const enum GhostWord {
  ForAge = 0x40000000,
  RunMask = 0x3fffffff,
}
/** A region cache slot: a cached run of pages and when it was cached. */
export const enum CacheSlotWord {
  /** The run's first page. */
  Page = 0,
  /** Its length in pages. */
  Run = 1,
  /** HeaderWord.Operations when it was cached: its age is counted from there. */
  CachedAt = 2,
}

/** Workers that can attach to one heap at once. */
export const MAX_HEAP_WORKERS = 16;
/** Words of one worker record (WorkerWord). */
export const WORKER_WORDS = 512;
/** Word offsets in a worker record: its span list heads, spare spans and free-block caches (one per size class), its inbox, whether it is claimed. */
export const enum WorkerWord {
  ClassHeads = 0,
  /**
   * The span the worker keeps when it empties rather than give its pages back (one per
   * class; it may have been used again since): a class whose live count hovers at a span
   * boundary would otherwise give back and take a span per op. Another span that empties
   * while the spare is still empty goes back to the pages.
   */
  SpareSpans = 112,
  /** Blocks of this worker's spans freed by other workers (an atomic intrusive list). */
  Inbox = 224,
  /** 1 while a worker holds the slot. */
  Claimed = 225,
  /**
   * The free-block cache (glibc's tcache, in the allocator's own memory): per small class a
   * LIFO list of blocks this worker freed, handed out again by the next malloc of the class
   * without touching their span (under random churn, larson, a third of the ops used to take
   * a full span out of its list or link it back). A cached block is free to the caller (its
   * bitmap bit is clear, so a double free still fails) but still counted used by its span.
   */
  CacheHeads = 256,
  /** Per class, how many more blocks the cache takes (0 for medium classes: not cached). */
  CacheRoom = 368,
}

/** The owner of a span whose worker detached (kept as 0 in the kind word): only the lock holder touches it. */
export const NO_OWNER = -1;

/** Float64 offsets of the statistics from HeaderWord.Stats. */
export const enum Stat {
  UsedPages = 0,
  PeakUsedPages = 1,
  CacheHits = 2,
  CacheMisses = 3,
  CacheEvictions = 4,
  DecommittedBytes = 5,
  CachedPages = 6,
}

/** Page descriptor: 16 words (one 64-byte cache line) per page. */
export const DESCRIPTOR_WORDS = 1 << Geometry.DescriptorShift;
/** Word offsets in a page descriptor. */
export const enum DescriptorWord {
  /**
   * Kind in bits 0-7; a span's owner + 1 in bits 8-15 (0: no owner), its size class in bits
   * 16-23 and SpanBits.Linked (KindWord). The free fast path tests kind and owner with one
   * compare and reads the linked bit from the same load.
   */
  Kind = 0,
  /** Span: its free list (block addresses, the next pointer in each block's first word). */
  Free = 1,
  /** Span: blocks handed out and not yet back in its free list (live or in an inbox). */
  Used = 2,
  /** Span: the address of the next never-used block. */
  Bump = 3,
  /** Span: the address of its last block (bump allocation stops past it). */
  Limit = 4,
  /** The next span (or free run) in its list. */
  Next = 5,
  /** The previous one (0: the list's head). */
  Prev = 6,
  /** Run length of a run's first page; the first page, in a run's other pages. */
  Run = 7,
  /** Page flags (DIRTY). */
  Flags = 8,
  /** Span: its block size in bytes. */
  Size = 9,
  /** Every page of a span: the span's first page. */
  SpanHead = 10,
}
/**
 * What a page is (the low byte of its kind word): the first page of a run, or one of its
 * others. Span and SpanTail differ in KindWord.TailBit alone: a span's tail pages carry its
 * owner and class too, so free's fast path takes a block in any page of a span with one
 * masked compare.
 */
export const enum Kind {
  Unset = 0,
  FreeRun = 1,
  FreeLast = 2,
  Cached = 3,
  Span = 4,
  SpanTail = 5,
  Large = 6,
  LargeTail = 7,
}
/** The fields of a descriptor's kind word (DescriptorWord.Kind). */
export const enum KindWord {
  /** The page's Kind. */
  KindMask = 0xff,
  /** The bit that tells SpanTail from Span (and nothing else from Span). */
  TailBit = 1,
  /** Kind and owner with TailBit masked off: what the free fast path compares with the worker's own span tag. */
  SpanOwnerMask = 0xfffe,
  /** A span's owner + 1 (0: no owner, so that a fresh descriptor is owned by nobody). */
  OwnerShift = 8,
  OwnerMask = 0xff00,
  OwnerBias = 1,
}
/** Span fields of the kind word: the size class, and whether it is in its owner's (or the abandoned) list for its class. */
export const enum SpanBits {
  Linked = 1 << 24,
  ClassShift = 16,
  ClassMask = 0xff,
}
/**
 * The allocation bitmap: a bit per 8-byte granule, 32 granules (256 bytes) per word. The
 * fast paths index it by shifts of the address.
 */
export const enum Bitmap {
  /** address >>> WordShift: the word of the bitmap that holds the address's bit. */
  WordShift = 8,
  /** (address >>> GranuleShift) & 31: the bit in that word (a shift count is taken mod 32). */
  GranuleShift = Geometry.GranuleShift,
  /** Bytes of heap one bitmap word describes. */
  BytesPerWord = 1 << WordShift,
  /** Bytes of heap one bitmap byte describes. */
  BytesPerByte = 64,
  /** Bitmap words of one heap page (page << log2 of this is its first word). */
  WordsPerPage = 1 << (Geometry.PageShift - WordShift),
}
/** Page flags. */
export const enum PageFlag {
  /** Unmapped since it was last taken (BlockMemory.unmapPages): it reads as zero, so calloc need not clear it. */
  Unmapped = 1,
}
