/**
 * What a heap reports about itself: statistics (live blocks and bytes per class, footprint,
 * the region cache's counters), the blocks waiting in inboxes and free-block caches, and a
 * walk over the live blocks. Readers of the core's state, off every allocation path (the
 * caller holds the lock).
 */
import { Bitmap, DESCRIPTOR_WORDS, DescriptorWord, Geometry, HeaderWord, Kind, Stat, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import { CLASS_COUNT, CLASS_SIZES, SMALL_CLASS_COUNT } from "./size-classes.js";
import { WorkerSlots } from "./worker-slots.js";

/** Bound on walks of atomic lists (they never hold more blocks than the heap has granules). */
const MAX_LIST_STEPS = 1 << 28;

/** A heap's statistics (Heap.stats()). */
export interface HeapStats {
  /** Usable bytes of live blocks (class sizes, whole pages for large blocks). */
  liveBytes: number;
  /** Blocks allocated and not freed. */
  liveBlocks: number;
  /** Pages in use (spans, large blocks, cached regions) and their share of the metadata. */
  footprintBytes: number;
  /** The most footprintBytes has been. */
  peakFootprintBytes: number;
  /** Bytes of the store the heap spans now. */
  heapBytes: number;
  /** Per size class in use: its block size, live blocks and spans. */
  classes: Array<{ sizeBytes: number; liveBlocks: number; spans: number }>;
  /** The region cache of freed large blocks: its hits, misses and evictions so far, the bytes it holds, and its limits now (which the adaptive policy moves). */
  regionCache: { hits: number; misses: number; evictions: number; cachedBytes: number; slotLimit: number; ageLimitOps: number };
  /** Bytes of cached large blocks given back to the free pages (to be zeroed if a calloc gets them). */
  decommittedBytes: number;
  /** Blocks freed by other workers, waiting in their owners' inboxes. */
  pendingRemoteFrees: number;
  /** Workers attached to the heap now. */
  attachedWorkers: number;
}

/** The layer of a heap core above its worker slots: what the heap reports about itself. */
export class HeapCensus extends WorkerSlots {
  /** The heap's statistics (the caller holds the lock). */
  protected statsLocked(): HeapStats {
    const classes = Array.from({ length: CLASS_COUNT }, (_, i) => ({ sizeBytes: CLASS_SIZES[i], liveBlocks: 0, spans: 0 }));
    let liveBlocks = 0;
    let liveBytes = 0;
    for (let page = this.words[HeaderWord.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (kind === Kind.Span) {
        const sizeClass = this.classOfSpan(page);
        const used = this.descriptor(page, DescriptorWord.Used);
        classes[sizeClass].spans++;
        classes[sizeClass].liveBlocks += used;
        liveBlocks += used;
        liveBytes += used * CLASS_SIZES[sizeClass];
      } else if (kind === Kind.Large) {
        liveBlocks++;
        liveBytes += run * Geometry.PageBytes;
      }
      page += run;
    }
    const pending = this.pendingBlocks(false);
    for (const address of [...pending, ...this.cachedBlocks(false)]) {
      const sizeClass = this.classOfSpan(this.blockHead(address));
      classes[sizeClass].liveBlocks--;
      liveBlocks--;
      liveBytes -= CLASS_SIZES[sizeClass];
    }
    const f = this.floats;
    let attachedWorkers = 0;
    for (let worker = 0; worker < this.words[HeaderWord.WorkerSlotsUsed]; worker++) if (this.words[HeaderWord.Workers + worker * WORKER_WORDS + WorkerWord.Claimed] !== 0) attachedWorkers++;
    return {
      liveBytes,
      liveBlocks,
      footprintBytes: this.footprintOf(f[HeaderWord.Stats + Stat.UsedPages]),
      peakFootprintBytes: this.footprintOf(f[HeaderWord.Stats + Stat.PeakUsedPages]),
      heapBytes: this.bytes.length,
      classes: classes.filter((c) => c.spans > 0),
      regionCache: {
        hits: f[HeaderWord.Stats + Stat.CacheHits],
        misses: f[HeaderWord.Stats + Stat.CacheMisses],
        evictions: f[HeaderWord.Stats + Stat.CacheEvictions],
        cachedBytes: f[HeaderWord.Stats + Stat.CachedPages] * Geometry.PageBytes,
        slotLimit: this.words[HeaderWord.CacheSlotLimit],
        ageLimitOps: this.words[HeaderWord.CacheAgeLimit],
      },
      decommittedBytes: f[HeaderWord.Stats + Stat.DecommittedBytes],
      pendingRemoteFrees: pending.length,
      attachedWorkers,
    };
  }

  /** Visits every live block: its address and usable size (the caller holds the lock). */
  protected walkLocked(visit: (address: number, usableBytes: number) => void): void {
    for (let page = this.words[HeaderWord.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (kind === Kind.Large) visit(page * Geometry.PageBytes, run * Geometry.PageBytes);
      else if (kind === Kind.Span) {
        const size = this.descriptor(page, DescriptorWord.Size);
        for (let address = page * Geometry.PageBytes; address < this.descriptor(page, DescriptorWord.Bump); address += size) if (this.isLive(address)) visit(address, size);
      }
      page += run;
    }
  }

  /**
   * Blocks in every worker's free-block cache. `strict` (check): each list holds as many
   * blocks as its room says, each a free block of one of the worker's spans of the class.
   */
  protected cachedBlocks(strict: boolean): number[] {
    const cached: number[] = [];
    // Slots never claimed have no cache (their records are never written).
    for (let worker = 0; worker < this.words[HeaderWord.WorkerSlotsUsed]; worker++) {
      const record = HeaderWord.Workers + worker * WORKER_WORDS;
      for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) {
        const count = this.cacheBlocks(sizeClass) - this.words[record + WorkerWord.CacheRoom + sizeClass];
        const where = `worker ${worker}'s cache of class ${CLASS_SIZES[sizeClass]} B`;
        if (strict && (count < 0 || count > this.cacheBlocks(sizeClass))) throw this.corrupt(`${where} counts ${count} blocks`);
        let address = this.words[record + WorkerWord.CacheHeads + sizeClass];
        for (let held = 0; held < count; held++, address = this.link(address)) {
          const page = this.isBlockAddress(address) ? this.blockHead(address) : 0;
          const block = page !== 0 && this.kindOf(page) === Kind.Span && this.classOfSpan(page) === sizeClass && this.ownerOf(page) === worker;
          if (!block || (address - page * Geometry.PageBytes) % CLASS_SIZES[sizeClass] !== 0) {
            if (!strict) break;
            throw this.corrupt(`${where} holds ${this.hex(address)} as block ${held + 1} of ${count}, not a block of its spans of that class`);
          }
          if (strict && this.isLive(address)) throw this.corrupt(`${where} holds live block ${this.hex(address)}`);
          cached.push(address);
        }
        // The list ends where the count does: a longer one means a link was overwritten.
        if (strict && address !== Geometry.Null) throw this.corrupt(`${where} runs on past its ${count} blocks to ${this.hex(address)}`);
      }
    }
    return cached;
  }

  /** Blocks in every inbox (bounded: with other workers at work, the lists move under the walk). */
  protected pendingBlocks(strict: boolean): number[] {
    const pending: number[] = [];
    if (!this.shared) return pending;
    const lists = [HeaderWord.OrphanInbox];
    for (let worker = 0; worker < this.words[HeaderWord.WorkerSlotsUsed]; worker++) lists.push(HeaderWord.Workers + worker * WORKER_WORDS + WorkerWord.Inbox);
    for (const listWord of lists) {
      for (let address = Atomics.load(this.words, listWord), steps = 0; address !== Geometry.Null; address = this.link(address), steps++) {
        const kind = this.isBlockAddress(address) ? this.kindOf(address >>> Geometry.PageShift) : Kind.Unset;
        if (steps > MAX_LIST_STEPS || (kind !== Kind.Span && kind !== Kind.SpanTail)) {
          if (strict) throw this.corrupt(`inbox at word ${listWord} holds ${this.hex(address)}, not a block of a span (or loops)`);
          break;
        }
        pending.push(address);
      }
    }
    return pending;
  }

  /** An 8-aligned address inside the heap (a list link worth following). */
  protected isBlockAddress(address: number): boolean {
    return address > 0 && address < this.bytes.length && address % Geometry.GranuleBytes === 0;
  }

  /**
   * Bytes in use for `usedPages` pages: the pages themselves, plus the header, the records
   * of the worker slots ever claimed, and the share of metadata that describes the pages
   * (descriptor and allocation bitmap). Metadata for pages never used, like the records of
   * slots never claimed, is never touched, so (like untouched pages) it costs no memory.
   */
  protected footprintOf(usedPages: number): number {
    const metadataPerPage = DESCRIPTOR_WORDS * Int32Array.BYTES_PER_ELEMENT + Geometry.PageBytes / Bitmap.BytesPerByte;
    const headerBytes = (HeaderWord.Workers + this.words[HeaderWord.WorkerSlotsUsed] * WORKER_WORDS) * Int32Array.BYTES_PER_ELEMENT;
    return (usedPages - this.words[HeaderWord.MetaPages]) * (Geometry.PageBytes + metadataPerPage) + headerBytes;
  }
}
