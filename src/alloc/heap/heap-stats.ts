/**
 * What a heap reports about itself: statistics (live blocks and bytes per class, footprint,
 * the region cache's counters), the blocks waiting in inboxes and free-block caches, and a
 * walk over the live blocks. Readers of the core's state, off every allocation path (the
 * caller holds the lock).
 */
import { HEAP_PAGE_BYTES } from "./block-memory.js";
import { Bitmap, DESCRIPTOR_WORDS, DescriptorWord, Geometry, HeaderWord, Kind, MAX_HEAP_WORKERS, Stat, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import type { HeapCore } from "./heap-core.js";
import { CLASS_COUNT, CLASS_SIZES, SMALL_CLASS_COUNT } from "./size-classes.js";

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
  /** The region cache of freed large blocks: reuses, misses, evictions and what it holds. */
  regionCache: { hits: number; misses: number; evictions: number; cachedBytes: number };
  /** Bytes of cached large blocks given back to the free pages (to be zeroed if a calloc gets them). */
  decommittedBytes: number;
  /** Blocks freed by other workers, waiting in their owners' inboxes. */
  pendingRemoteFrees: number;
  /** Workers attached to the heap now. */
  attachedWorkers: number;
}

/** The heap's statistics (the caller holds the lock). */
export function statsLocked(core: HeapCore): HeapStats {
  const classes = Array.from({ length: CLASS_COUNT }, (_, i) => ({ sizeBytes: CLASS_SIZES[i], liveBlocks: 0, spans: 0 }));
  let liveBlocks = 0;
  let liveBytes = 0;
  for (let page = core.words[HeaderWord.MetaPages]; page < core.pageCount; ) {
    const kind = core.kindOf(page);
    const run = core.runOf(page, kind);
    if (kind === Kind.Span) {
      const sizeClass = core.classOfSpan(page);
      const used = core.descriptor(page, DescriptorWord.Used);
      classes[sizeClass].spans++;
      classes[sizeClass].liveBlocks += used;
      liveBlocks += used;
      liveBytes += used * CLASS_SIZES[sizeClass];
    } else if (kind === Kind.Large) {
      liveBlocks++;
      liveBytes += run * HEAP_PAGE_BYTES;
    }
    page += run;
  }
  const pending = pendingBlocks(core, false);
  for (const address of [...pending, ...cachedBlocks(core, false)]) {
    const sizeClass = core.classOfSpan(core.blockHead(address));
    classes[sizeClass].liveBlocks--;
    liveBlocks--;
    liveBytes -= CLASS_SIZES[sizeClass];
  }
  const f = core.floats;
  let attachedWorkers = 0;
  for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) if (core.words[HeaderWord.Workers + worker * WORKER_WORDS + WorkerWord.Claimed] !== 0) attachedWorkers++;
  return {
    liveBytes,
    liveBlocks,
    footprintBytes: footprintOf(core, f[HeaderWord.Stats + Stat.UsedPages]),
    peakFootprintBytes: footprintOf(core, f[HeaderWord.Stats + Stat.PeakUsedPages]),
    heapBytes: core.bytes.length,
    classes: classes.filter((c) => c.spans > 0),
    regionCache: {
      hits: f[HeaderWord.Stats + Stat.CacheHits],
      misses: f[HeaderWord.Stats + Stat.CacheMisses],
      evictions: f[HeaderWord.Stats + Stat.CacheEvictions],
      cachedBytes: f[HeaderWord.Stats + Stat.CachedPages] * HEAP_PAGE_BYTES,
    },
    decommittedBytes: f[HeaderWord.Stats + Stat.DecommittedBytes],
    pendingRemoteFrees: pending.length,
    attachedWorkers,
  };
}

/** Visits every live block: its address and usable size (the caller holds the lock). */
export function walkLocked(core: HeapCore, visit: (address: number, usableBytes: number) => void): void {
  for (let page = core.words[HeaderWord.MetaPages]; page < core.pageCount; ) {
    const kind = core.kindOf(page);
    const run = core.runOf(page, kind);
    if (kind === Kind.Large) visit(page * HEAP_PAGE_BYTES, run * HEAP_PAGE_BYTES);
    else if (kind === Kind.Span) {
      const size = core.descriptor(page, DescriptorWord.Size);
      for (let address = page * HEAP_PAGE_BYTES; address < core.descriptor(page, DescriptorWord.Bump); address += size) if (core.isLive(address)) visit(address, size);
    }
    page += run;
  }
}

/**
 * Blocks in every worker's free-block cache. `strict` (check): each list holds as many
 * blocks as its room says, each a free block of one of the worker's spans of the class.
 */
export function cachedBlocks(core: HeapCore, strict: boolean): number[] {
  const cached: number[] = [];
  // Slots never claimed have no cache (their records are never written).
  for (let worker = 0; worker < core.words[HeaderWord.WorkerSlotsUsed]; worker++) {
    const record = HeaderWord.Workers + worker * WORKER_WORDS;
    for (let sizeClass = 0; sizeClass < SMALL_CLASS_COUNT; sizeClass++) {
      const count = core.cacheBlocks(sizeClass) - core.words[record + WorkerWord.CacheRoom + sizeClass];
      const where = `worker ${worker}'s cache of class ${CLASS_SIZES[sizeClass]} B`;
      if (strict && (count < 0 || count > core.cacheBlocks(sizeClass))) throw core.corrupt(`${where} counts ${count} blocks`);
      let address = core.words[record + WorkerWord.CacheHeads + sizeClass];
      for (let held = 0; held < count; held++, address = core.link(address)) {
        const page = isBlockAddress(core, address) ? address >>> Geometry.PageShift : 0;
        const block = page !== 0 && core.kindOf(page) === Kind.Span && core.classOfSpan(page) === sizeClass && core.ownerOf(page) === worker;
        if (!block || (address - page * HEAP_PAGE_BYTES) % CLASS_SIZES[sizeClass] !== 0) {
          if (!strict) break;
          throw core.corrupt(`${where} holds ${core.hex(address)} as block ${held + 1} of ${count}, not a block of its spans of that class`);
        }
        if (strict && core.isLive(address)) throw core.corrupt(`${where} holds live block ${core.hex(address)}`);
        cached.push(address);
      }
      // The list ends where the count does: a longer one means a link was overwritten.
      if (strict && address !== Geometry.Null) throw core.corrupt(`${where} runs on past its ${count} blocks to ${core.hex(address)}`);
    }
  }
  return cached;
}

/** Blocks in every inbox (bounded: with other workers at work, the lists move under the walk). */
export function pendingBlocks(core: HeapCore, strict: boolean): number[] {
  const pending: number[] = [];
  if (!core.shared) return pending;
  const lists = [HeaderWord.OrphanInbox];
  for (let worker = 0; worker < MAX_HEAP_WORKERS; worker++) lists.push(HeaderWord.Workers + worker * WORKER_WORDS + WorkerWord.Inbox);
  for (const listWord of lists) {
    for (let address = Atomics.load(core.words, listWord), steps = 0; address !== Geometry.Null; address = core.link(address), steps++) {
      const kind = isBlockAddress(core, address) ? core.kindOf(address >>> Geometry.PageShift) : Kind.Unset;
      if (steps > MAX_LIST_STEPS || (kind !== Kind.Span && kind !== Kind.SpanTail)) {
        if (strict) throw core.corrupt(`inbox at word ${listWord} holds ${core.hex(address)}, not a block of a span (or loops)`);
        break;
      }
      pending.push(address);
    }
  }
  return pending;
}

/** An 8-aligned address inside the heap (a list link worth following). */
function isBlockAddress(core: HeapCore, address: number): boolean {
  return address > 0 && address < core.bytes.length && address % Geometry.GranuleBytes === 0;
}

/**
 * Bytes in use for `usedPages` pages: the pages themselves, plus the header, the records
 * of the worker slots ever claimed, and the share of metadata that describes the pages
 * (descriptor and allocation bitmap). Metadata for pages never used, like the records of
 * slots never claimed, is never touched, so (like untouched pages) it costs no memory.
 */
export function footprintOf(core: HeapCore, usedPages: number): number {
  const metadataPerPage = DESCRIPTOR_WORDS * Int32Array.BYTES_PER_ELEMENT + HEAP_PAGE_BYTES / Bitmap.BytesPerByte;
  const headerBytes = (HeaderWord.Workers + core.words[HeaderWord.WorkerSlotsUsed] * WORKER_WORDS) * Int32Array.BYTES_PER_ELEMENT;
  return (usedPages - core.words[HeaderWord.MetaPages]) * (HEAP_PAGE_BYTES + metadataPerPage) + headerBytes;
}
