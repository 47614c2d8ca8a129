/**
 * The heap's checks: validate() turns a pointer from a caller into the first page of its live
 * block, or a HeapError naming what is wrong with it (checked paths of free, realloc,
 * usableSize); checkLocked() verifies every invariant of the whole heap (Heap.check(), and
 * debug-only postconditions). Neither is on a fast path.
 */
import { HeapError } from "./heap-error.js";
import { DescriptorWord, Geometry, HeaderWord, Kind, KindWord, NO_OWNER, PageTable, SpanBits, Stat, WORKER_WORDS, WorkerWord } from "./heap-layout.js";
import { HeapCensus } from "./heap-stats.js";
import { binOf } from "./page-runs.js";
import { CLASS_COUNT, CLASS_SIZES } from "./size-classes.js";

/** The layer of a heap core above its census: pointer validation and the whole-heap check. */
export class HeapChecks extends HeapCensus {
  /** The first page of the live block at `address` (its span's or its large run's), or a HeapError naming what is wrong. */
  protected validate(address: number, what: string): number {
    if (!Number.isInteger(address) || address < 0 || address >= this.memory.maxByteLength) throw new HeapError(`${what}(${this.hexOrValue(address)}): not an address in this heap (${this.startAddress === 0 ? "0" : this.hex(0)} .. ${this.hex(this.memory.maxByteLength)})`);
    if (address >= this.bytes.length) this.refreshIfGrown();
    if (address >= this.bytes.length) throw new HeapError(`${what}(${this.hex(address)}): past the end of this heap (${this.hex(this.bytes.length)})`);
    const page = address >>> Geometry.PageShift;
    if (page < this.words[HeaderWord.MetaPages]) throw new HeapError(`${what}(${this.hex(address)}): inside the heap's own metadata, never returned by malloc`);
    if (page >= this.clearedPages()) throw new HeapError(`${what}(${this.hex(address)}): not allocated (a page this heap has never used)`);
    // Another worker cleared more pages since this one's fast paths took their limits.
    if (address >= this.fastAddressEnd) this.views();
    // A live block's page always has a true descriptor (a span writes all its tails; a large
    // block's live bit is on its first page). Other pages may hold stale ones (inside free
    // runs and large blocks), which can only lead to an error below, never to a block.
    const kind = this.kindOf(page);
    if (kind === Kind.Large && address === page * Geometry.PageBytes && this.isLive(address)) return page;
    const large = this.liveLargeCovering(page);
    if (large !== 0) throw new HeapError(`${what}(${this.hex(address)}): an interior pointer into the large block at ${this.hex(large * Geometry.PageBytes)}`);
    if (kind === Kind.Span || kind === Kind.SpanTail) {
      const head = kind === Kind.Span ? page : this.descriptor(page, DescriptorWord.Run);
      if (this.kindOf(head) === Kind.Span && page < head + this.descriptor(head, DescriptorWord.Run)) {
        const size = this.descriptor(head, DescriptorWord.Size);
        const offset = address - head * Geometry.PageBytes;
        if (offset % size !== 0 || address >= this.descriptor(head, DescriptorWord.Bump)) {
          throw new HeapError(`${what}(${this.hex(address)}): an interior pointer into the ${size}-byte block at ${this.hex(address - (offset % size))}`);
        }
        if (this.isLive(address)) return head;
        throw new HeapError(`${what}(${this.hex(address)}): not allocated (a double free?)`);
      }
    }
    throw new HeapError(`${what}(${this.hex(address)}): not allocated (a double free, or a pointer this heap never returned)`);
  }

  /**
   * The first page of the live large block holding `page`, else 0. Its first page, its last
   * and its tails at multiples of PageTable.LargeTailStride are true, so one of the
   * LargeTailStride + 1 pages from `page` down names it; a stale one names a block that fails
   * the test (live and covering `page`), since live blocks never overlap.
   */
  private liveLargeCovering(page: number): number {
    const lowest = Math.max(this.words[HeaderWord.MetaPages], page - PageTable.LargeTailStride);
    for (let at = page; at >= lowest; at--) {
      const kind = this.kindOf(at);
      const head = kind === Kind.Large ? at : kind === Kind.LargeTail ? this.descriptor(at, DescriptorWord.Run) : 0;
      if (head === 0 || head > at || head < this.words[HeaderWord.MetaPages]) continue;
      if (this.kindOf(head) === Kind.Large && this.isLive(head * Geometry.PageBytes) && page < head + this.descriptor(head, DescriptorWord.Run)) return head;
    }
    return 0;
  }

  /**
   * Verifies every invariant (pages tile the heap in runs, free runs in the right bins, span
   * lists, owners, counts and free lists agree with the allocation bitmap and the inboxes,
   * statistics add up); throws naming the first violation. The caller holds the lock.
   */
  protected checkLocked(): void {
    const fail = (message: string): never => {
      throw this.corrupt(message);
    };
    const binned = new Set<number>();
    for (let bin = 0; bin < PageTable.BinCount; bin++) {
      const marked = (this.words[HeaderWord.BinMask] & (1 << bin)) !== 0;
      if (marked !== (this.words[HeaderWord.Bins + bin] !== 0)) fail(`bin ${bin} is ${marked ? "" : "not "}marked as holding runs, and holds ${marked ? "none" : "some"}`);
      for (let page = this.words[HeaderWord.Bins + bin], previous = 0; page !== 0; previous = page, page = this.descriptor(page, DescriptorWord.Next)) {
        if (this.kindOf(page) !== Kind.FreeRun) fail(`bin ${bin} holds page ${page}, which is not a free run`);
        if (binOf(this.descriptor(page, DescriptorWord.Run)) !== bin) fail(`free run at page ${page} (${this.descriptor(page, DescriptorWord.Run)} pages) is in bin ${bin}`);
        if (this.descriptor(page, DescriptorWord.Prev) !== previous) fail(`free run at page ${page}: back link ${this.descriptor(page, DescriptorWord.Prev)}, expected ${previous}`);
        if (bin >= PageTable.OrderedFromBin && previous !== 0 && page < previous) fail(`free run at page ${page} follows page ${previous} in bin ${bin}, which is kept in address order`);
        if (binned.has(page)) fail(`free run at page ${page} is binned twice`);
        binned.add(page);
      }
    }
    // Span lists: each worker's per class, and the abandoned ones.
    const listed = new Map<number, number>(); // span -> owner of the list it is in
    const checkList = (headWord: number, sizeClass: number, owner: number): void => {
      let empty = 0;
      for (let span = this.words[headWord], previous = 0; span !== 0; previous = span, span = this.descriptor(span, DescriptorWord.Next)) {
        const where = owner === NO_OWNER ? `the abandoned list of class ${CLASS_SIZES[sizeClass]} B` : `worker ${owner}'s list of class ${CLASS_SIZES[sizeClass]} B`;
        if (this.kindOf(span) !== Kind.Span || this.classOfSpan(span) !== sizeClass) fail(`${where} holds page ${span}, not a span of that class`);
        if (this.ownerOf(span) !== owner) fail(`${where} holds the span at page ${span}, owned by ${this.ownerOf(span)}`);
        if ((this.descriptor(span, DescriptorWord.Kind) & SpanBits.Linked) === 0) fail(`${where} holds the span at page ${span}, not marked linked`);
        if (this.descriptor(span, DescriptorWord.Prev) !== previous) fail(`${where}: back link of page ${span} is ${this.descriptor(span, DescriptorWord.Prev)}, expected ${previous}`);
        if (listed.has(span)) fail(`the span at page ${span} is listed twice`);
        listed.set(span, owner);
        if (this.descriptor(span, DescriptorWord.Used) === 0) empty++;
      }
      if (owner === NO_OWNER) return;
      const spare = this.words[HeaderWord.Workers + owner * WORKER_WORDS + WorkerWord.SpareSpans + sizeClass];
      if (spare !== 0 && (this.kindOf(spare) !== Kind.Span || this.ownerOf(spare) !== owner || this.classOfSpan(spare) !== sizeClass)) fail(`worker ${owner}'s spare span of class ${CLASS_SIZES[sizeClass]} B is page ${spare}, not one of its spans of that class`);
      if (empty > 1 || (empty === 1 && (spare === 0 || this.descriptor(spare, DescriptorWord.Used) !== 0))) fail(`worker ${owner}'s class ${CLASS_SIZES[sizeClass]} B has ${empty} empty spans besides its spare`);
    };
    const claimed = new Set<number>();
    for (let worker = 0; worker < this.words[HeaderWord.WorkerSlotsUsed]; worker++) {
      const record = HeaderWord.Workers + worker * WORKER_WORDS;
      if (this.words[record + WorkerWord.Claimed] !== 0) claimed.add(worker);
      for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) checkList(record + WorkerWord.ClassHeads + sizeClass, sizeClass, worker);
    }
    for (let sizeClass = 0; sizeClass < CLASS_COUNT; sizeClass++) checkList(HeaderWord.Abandoned + sizeClass, sizeClass, NO_OWNER);
    // Blocks freed but still counted used by their spans: in inboxes and free-block caches.
    const pendingBySpan = new Map<number, number>();
    const inboxBlocks = this.pendingBlocks(true);
    for (const address of inboxBlocks) if (this.isLive(address)) fail(`inbox holds live block ${this.hex(address)}`);
    for (const address of [...inboxBlocks, ...this.cachedBlocks(true)]) {
      const span = this.blockHead(address);
      pendingBySpan.set(span, (pendingBySpan.get(span) ?? 0) + 1);
    }
    let liveBlocks = 0;
    const cleared = this.clearedPages();
    if (cleared < this.words[HeaderWord.MetaPages] || cleared > this.pageCount) fail(`${cleared} pages cleared, outside the metadata's ${this.words[HeaderWord.MetaPages]} and the heap's ${this.pageCount} pages`);
    let usedPages = this.words[HeaderWord.MetaPages];
    let cachedPages = 0;
    for (let page = this.words[HeaderWord.MetaPages]; page < this.pageCount; ) {
      const kind = this.kindOf(page);
      const run = this.runOf(page, kind);
      if (run < 1 || page + run > this.pageCount) fail(`page ${page} (kind ${kind}) claims ${run} pages`);
      const reachesEnd = kind === Kind.FreeRun && page + run === this.pageCount;
      if (reachesEnd ? page > cleared : page + run > cleared) fail(`run at page ${page} (kind ${kind}, ${run} pages) lies past the ${cleared} pages whose metadata is cleared`);
      if (kind === Kind.FreeRun) {
        if (!binned.delete(page)) fail(`free run at page ${page} is in no bin`);
        if (run > 1 && (this.kindOf(page + run - 1) !== Kind.FreeLast || this.descriptor(page + run - 1, DescriptorWord.Run) !== page)) fail(`free run at page ${page}: its last page does not point back`);
      } else if (kind === Kind.Span) {
        usedPages += run;
        const size = this.descriptor(page, DescriptorWord.Size);
        const start = page * Geometry.PageBytes;
        const bump = this.descriptor(page, DescriptorWord.Bump);
        const owner = this.ownerOf(page);
        if (size !== CLASS_SIZES[this.classOfSpan(page)]) fail(`span at page ${page}: block size ${size}, its class's is ${CLASS_SIZES[this.classOfSpan(page)]}`);
        if (owner !== NO_OWNER && !claimed.has(owner)) fail(`span at page ${page} is owned by worker ${owner}, which is not attached`);
        if (((this.descriptor(page, DescriptorWord.Kind) & SpanBits.Linked) !== 0) !== listed.has(page)) fail(`span at page ${page}: linked bit ${(this.descriptor(page, DescriptorWord.Kind) & SpanBits.Linked) !== 0} but ${listed.has(page) ? "" : "not "}in a list`);
        if (bump < start || bump > this.descriptor(page, DescriptorWord.Limit) + size || (bump - start) % size !== 0) fail(`span at page ${page}: bump address ${this.hex(bump)} outside its blocks`);
        let live = 0;
        for (let address = start; address < bump; address += size) if (this.isLive(address)) live++;
        const pending = pendingBySpan.get(page) ?? 0;
        if (live + pending !== this.descriptor(page, DescriptorWord.Used)) fail(`span at page ${page} (class ${size} B): used count ${this.descriptor(page, DescriptorWord.Used)}, live blocks ${live}, in inboxes and caches ${pending}`);
        let free = 0;
        for (let block = this.descriptor(page, DescriptorWord.Free); block !== Geometry.Null; block = this.link(block)) {
          if (block < start || block >= bump || (block - start) % size !== 0) fail(`span at page ${page}: free list holds ${this.hex(block)}, not one of its blocks`);
          if (this.isLive(block)) fail(`span at page ${page}: free list holds live block ${this.hex(block)}`);
          if (++free > (bump - start) / size) fail(`span at page ${page}: free list loops`);
        }
        if (free + live + pending !== (bump - start) / size) fail(`span at page ${page}: ${free} free + ${live} live + ${pending} in inboxes and caches != ${(bump - start) / size} carved blocks`);
        liveBlocks += live;
        const tailWord = (this.descriptor(page, DescriptorWord.Kind) & ~SpanBits.Linked) | KindWord.TailBit;
        if (this.descriptor(page, DescriptorWord.SpanHead) !== page) fail(`span at page ${page}: its head is page ${this.descriptor(page, DescriptorWord.SpanHead)}`);
        for (let tail = page + 1; tail < page + run; tail++) {
          const tailOk = this.descriptor(tail, DescriptorWord.Kind) === tailWord && this.descriptor(tail, DescriptorWord.Run) === page && this.descriptor(tail, DescriptorWord.SpanHead) === page;
          if (!tailOk) fail(`span at page ${page}: page ${tail} is not its tail with its owner and class`);
        }
      } else if (kind === Kind.Large) {
        usedPages += run;
        if (!this.isLive(page * Geometry.PageBytes)) fail(`large block at page ${page} is not marked live`);
        liveBlocks++;
      } else if (kind === Kind.Cached) {
        usedPages += run;
        cachedPages += run;
      } else {
        fail(`page ${page} has kind ${kind} where a run should start`);
      }
      page += run;
    }
    if (binned.size > 0) fail(`bins hold pages that start no run: ${[...binned].join(", ")}`);
    for (const span of listed.keys()) if (this.kindOf(span) !== Kind.Span) fail(`a list holds page ${span}, which starts no span`);
    const f = this.floats;
    if (f[HeaderWord.Stats + Stat.UsedPages] !== usedPages) fail(`statistics: ${f[HeaderWord.Stats + Stat.UsedPages]} pages in use, counted ${usedPages}`);
    if (f[HeaderWord.Stats + Stat.CachedPages] !== cachedPages) fail(`statistics: ${f[HeaderWord.Stats + Stat.CachedPages]} cached pages, counted ${cachedPages}`);
    const counted = this.statsLocked().liveBlocks;
    if (counted !== liveBlocks) fail(`statistics: ${counted} live blocks, ${liveBlocks} in the bitmap`);
  }

  /** An address for an error message: hex if it is one, else the value as given. */
  protected hexOrValue(value: number): string {
    return Number.isInteger(value) && value + this.startAddress >= 0 ? this.hex(value) : String(value);
  }
}
