/**
 * A heap's core: the top of its layers (heap-state.ts up to worker-slots.ts, then heap-stats.ts,
 * heap-check.ts and debug-guard.ts). Construction
 * formats a fresh store (or checks the heap already in it) and claims this worker's slot.
 * The Heap extends it, so its fast paths read the state as fields of the object they run on.
 */
import type { BlockMemory } from "./block-memory.js";
import { HeapError } from "./heap-error.js";
import { Geometry, HeaderWord, HEAP_LAYOUT_VERSION, HEAP_MAGIC, Stat, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import type { HeapOptions } from "./heap-options.js";
import { DebugGuards } from "./debug-guard.js";
import { metadataLayout } from "./heap-state.js";

/**
 * A heap's core over `memory`, attached as one worker (the Heap's base class, not an API).
 * @internal
 */
export class HeapCore extends DebugGuards {
  /** Debug mode (canaries and poisoning), as the heap was created. */
  protected readonly debug: boolean;

  /** Formats `memory` unless it holds a heap already, then claims a worker slot. */
  constructor(memory: BlockMemory, options: HeapOptions) {
    super(memory, options);
    if (this.words[HeaderWord.Magic] !== HEAP_MAGIC) this.format(options.debug === true, options.blockCache !== false);
    this.debug = this.words[HeaderWord.Debug] === 1;
    // An ArrayBuffer heap has one worker (slot 0): every handle on it is that worker.
    if (!this.shared) this.words[HeaderWord.Workers + WorkerWord.Claimed] = 1;
    this.workerId = this.shared ? this.claimWorker() : 0;
    this.workerWord = HeaderWord.Workers + this.workerId * WORKER_WORDS;
    this.cacheHeadsWord = this.workerWord + WorkerWord.CacheHeads;
    this.ownSpanTag = this.spanTag(this.workerId);
    this.views();
  }

  /** Writes a fresh heap's header and metadata: all its pages one free run. */
  protected format(debug: boolean, blockCache: boolean): void {
    const maxBytes = this.memory.maxByteLength;
    const maxPages = maxBytes >>> Geometry.PageShift;
    const { metaPages } = metadataLayout(maxBytes);
    const startBytes = (metaPages + 1) * Geometry.PageBytes; // the metadata and one page of blocks
    if (metaPages >= maxPages) throw new HeapError(`a heap needs more than ${metaPages * Geometry.PageBytes} bytes (its metadata alone takes that much); got ${maxBytes}`);
    if (this.bytes.length < startBytes && !this.memory.grow(startBytes)) {
      throw new HeapError(`the backing store holds ${this.bytes.length} bytes; a heap of up to ${maxBytes} bytes needs ${startBytes} to start`);
    }
    this.arrayViews(); // the constructor sets the fast paths' limits when it is done
    // The header, bins and cache now; a worker record when its slot is first claimed
    // (openWorkerSlot); the descriptors and bitmap of a page when the heap first takes it
    // (extendClearedPages). Only words not zero already are written.
    const words = this.words;
    for (let word = 0; word < HeaderWord.Workers; word++) if (words[word] !== 0) words[word] = 0;
    const pageCount = this.bytes.length >>> Geometry.PageShift;
    words[HeaderWord.Version] = HEAP_LAYOUT_VERSION;
    words[HeaderWord.PageCount] = pageCount;
    words[HeaderWord.MaxPages] = maxPages;
    words[HeaderWord.MetaPages] = metaPages;
    words[HeaderWord.DescriptorsWord] = this.descriptorsWord;
    words[HeaderWord.BitmapWord] = this.bitmapWord;
    words[HeaderWord.Debug] = debug ? 1 : 0;
    words[HeaderWord.BlockCache] = blockCache ? 1 : 0;
    this.formatRegionCache();
    if (!this.shared) this.openWorkerSlot(0);
    this.floats[HeaderWord.Stats + Stat.UsedPages] = metaPages;
    this.floats[HeaderWord.Stats + Stat.PeakUsedPages] = metaPages;
    words[HeaderWord.ClearedPages] = metaPages;
    words[HeaderWord.TakenPagesEnd] = metaPages;
    words[HeaderWord.UnmappedPages] = 0;
    this.extendClearedPages(metaPages + 1); // the first free run's own descriptor
    this.makeFreeRun(metaPages, pageCount - metaPages);
    words[HeaderWord.Magic] = HEAP_MAGIC;
  }
}
