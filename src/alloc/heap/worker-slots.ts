/**
 * Worker slots and what each worker holds: claiming a slot (its record written on first
 * use, so slots never claimed cost no memory), its free-block cache (emptied into the spans
 * on trim and detach), abandoning its spans when it detaches, and reclaiming what the heap
 * can give back (trim, and before the store grows).
 */
import { DEBUG_CHECKS } from "../../util/debug.js";
import { HeapError } from "./heap-error.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, MAX_HEAP_WORKERS, NO_OWNER, SpanBits, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import { RemoteFrees } from "./remote-frees.js";
import { cacheCapacity, CLASS_COUNT, CLASS_SIZES, SMALL_CLASS_COUNT } from "./size-classes.js";

/** The eighth layer of a heap core: worker slots, free-block caches and reclaiming. */
export class WorkerSlots extends RemoteFrees {
  /** How many blocks of `sizeClass` a worker's free-block cache holds (0 with the cache off). */
  protected cacheBlocks(sizeClass: number): number {
    return this.words[HeaderWord.BlockCache] === 1 ? cacheCapacity(sizeClass) : 0;
  }

  /** Every block in this worker's free-block cache goes back into its span (trim, detach). */
  protected flushCache(): void {
    const words = this.words;
    for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) {
      const headWord = this.cacheHeadsWord + sizeClass;
      const roomWord = headWord + (WorkerWord.CacheRoom - WorkerWord.CacheHeads);
      for (let address = words[headWord]; address !== Geometry.Null; ) {
        const next = this.link(address);
        words[headWord] = next;
        words[roomWord]++;
        this.returnBlock(address, this.blockHead(address));
        address = next;
      }
      if (DEBUG_CHECKS && words[roomWord] !== this.cacheBlocks(sizeClass)) {
        throw this.corrupt(`worker ${this.workerId}'s cache of class ${CLASS_SIZES[sizeClass]} B emptied with room ${words[roomWord]}, expected ${this.cacheBlocks(sizeClass)}`);
      }
    }
  }

  /**
   * First use of a worker slot: its record cleared, its cache rooms, and the slot counts in
   * the footprint. A record is written only then, so slots never claimed cost no memory, and
   * no walk over the records reads past HeaderWord.WorkerSlotsUsed.
   */
  protected openWorkerSlot(worker: number): void {
    const record = HeaderWord.Workers + worker * WORKER_WORDS;
    this.words.fill(0, record, record + WORKER_WORDS);
    for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) this.words[record + WorkerWord.CacheRoom + sizeClass] = this.cacheBlocks(sizeClass);
    this.words[HeaderWord.WorkerSlotsUsed] = worker + 1;
  }

  /** Claims the first free worker slot (and the frees that reached it since its last worker left); its index. */
  protected claimWorker(): number {
    this.lock();
    try {
      for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) {
        const record = HeaderWord.Workers + worker * WORKER_WORDS;
        const opened = worker < this.words[HeaderWord.WorkerSlotsUsed];
        if (opened && this.words[record + WorkerWord.Claimed] !== 0) continue;
        if (!opened) this.openWorkerSlot(worker);
        this.words[record + WorkerWord.Claimed] = 1;
        this.drainLocked(record + WorkerWord.Inbox);
        return worker;
      }
    } finally {
      this.unlock();
    }
    throw new HeapError(`all ${MAX_HEAP_WORKERS} worker slots of this heap are taken: detach() the heaps of workers that are done`);
  }

  /** detach(): every span of this worker becomes unowned (the caller holds the lock). */
  protected abandonSpans(): void {
    const spans: number[] = [];
    for (let page = this.words[HeaderWord.MetaPages]; page < this.pageCount; page += this.runOf(page, this.kindOf(page))) {
      if (this.kindOf(page) === Kind.Span && this.ownerOf(page) === this.workerId) spans.push(page);
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) {
      this.words[this.workerWord + WorkerWord.ClassHeads + sizeClass] = 0;
      this.words[this.workerWord + WorkerWord.SpareSpans + sizeClass] = 0;
    }
    for (const span of spans) {
      this.setDescriptor(span, DescriptorWord.Kind, this.descriptor(span, DescriptorWord.Kind) & ~SpanBits.Linked);
      this.setOwner(span, NO_OWNER);
      if (this.hasRoom(span) || this.descriptor(span, DescriptorWord.Used) === 0) this.settleUnownedSpan(span, this.descriptorBase(span));
    }
    this.drainLocked(this.workerWord + WorkerWord.Inbox);
  }

  /**
   * Gives back what the heap can (the caller holds the lock): the region cache, the inboxes
   * nobody drains, and this worker's empty spans (its spares too).
   */
  protected reclaimLocked(): void {
    this.evictAllCached();
    if (this.shared) {
      this.drainOrphans();
      for (let worker = 0; worker < this.words[HeaderWord.WorkerSlotsUsed]; worker++) {
        const record = HeaderWord.Workers + worker * WORKER_WORDS;
        if (this.words[record + WorkerWord.Claimed] === 0 && Atomics.load(this.words, record + WorkerWord.Inbox) !== Geometry.Null) this.drainLocked(record + WorkerWord.Inbox);
      }
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) {
      const headWord = this.workerWord + WorkerWord.ClassHeads + sizeClass;
      this.words[this.workerWord + WorkerWord.SpareSpans + sizeClass] = 0;
      for (let span = this.words[headWord]; span !== 0; ) {
        const next = this.descriptor(span, DescriptorWord.Next);
        if (this.descriptor(span, DescriptorWord.Used) === 0) {
          this.unlinkSpan(span, headWord);
          this.releasePages(span, this.descriptor(span, DescriptorWord.Run));
        }
        span = next;
      }
    }
  }
}
