import { PAGE_OFFSET_MASK, PAGE_SHIFT, PAGE_SIZE_BYTES } from "../space/address.js";
import { fetchByParcels, type MemoryAccess } from "../space/backend.js";
import { PageTable } from "../space/page-table.js";
import { BlockList, type BlockListState } from "./block-list.js";

/** Reuse-distance buckets: distance 1, 2, 3, 4-7, 8-31, 32+, and first touches. */
export const REUSE_BUCKETS = ["1", "2", "3", "4-7", "8-31", "32+", "first touch"] as const;
export const BUCKET_32_PLUS = 5;
export const BUCKET_FIRST_TOUCH = 6;
/** Pages tracked exactly by the LRU stack; deeper reuse lands in the 32+ bucket. */
export const LRU_DEPTH = 32;
const WIDTHS = [1, 2, 4, 8] as const;

/** What `TraceStats.report()` returns. */
export interface TraceStatsReport {
  /** Records seen: reads plus writes. */
  ops: number;
  /** Read records seen. */
  reads: number;
  /** Write records seen. */
  writes: number;
  /** Read records per width in bytes ("1", "2", "4", "8"). */
  readsByWidth: Record<string, number>;
  /** Write records per width in bytes ("1", "2", "4", "8"). */
  writesByWidth: Record<string, number>;
  /** Distinct 4 KiB pages touched, both pages of a crossing access included. */
  distinctPages: number;
  /** Ops whose page differs from the previous op's (the first op included). */
  pageTransitions: number;
  /** Accesses that cross a page boundary. */
  pageCrossings: number;
  /** Page reuse distance (LRU stack depth; 1 = same page as the previous op) per bucket. */
  reuseDistance: Record<string, number>;
}

/**
 * Trace statistics as a replay sink: replaying a trace onto it gathers the figures
 * `memspace trace stats` prints. Loads return 0 (a trace records no read values).
 */
export class TraceStats implements MemoryAccess {
  /** Always 0: loads return 0. */
  loadHigh = 0;
  private readonly readCounts = new Float64Array(9);
  private readonly writeCounts = new Float64Array(9);
  private readonly seenPages = new PageTable();
  private transitions = 0;
  private crossings = 0;
  private readonly reuseCounts = new Float64Array(REUSE_BUCKETS.length);
  /** Most recently used pages first, as (low, high) page-number words. */
  private readonly lruLo = new Int32Array(LRU_DEPTH).fill(-1);
  private readonly lruHi = new Int32Array(LRU_DEPTH).fill(-1);
  private lruSize = 0;
  /** For a part of a trace (stats-ranges.ts): the touches whose bucket depends on what came before it. */
  private readonly pending: BlockList | null;

  /**
   * `part`: these statistics cover a part of a trace that does not start at its beginning
   * (a range of chunks); `partState()` then gives what mergeStatsParts needs.
   */
  constructor(options: { part?: boolean } = {}) {
    this.pending = options.part === true ? new BlockList() : null;
  }

  /** Counts a 1-byte read; returns 0. */
  load8(lo: number, hi: number): number {
    this.readCounts[1]++;
    this.touch(lo, hi, 1);
    return 0;
  }
  /** Counts a 2-byte read; returns 0. */
  load16(lo: number, hi: number): number {
    this.readCounts[2]++;
    this.touch(lo, hi, 2);
    return 0;
  }
  /** Counts a 4-byte read; returns 0. */
  load32(lo: number, hi: number): number {
    this.readCounts[4]++;
    this.touch(lo, hi, 4);
    return 0;
  }
  /** Counts an 8-byte read; returns 0. */
  load64(lo: number, hi: number): number {
    this.readCounts[8]++;
    this.touch(lo, hi, 8);
    return 0;
  }
  /** Counts a 1-byte write. */
  store8(lo: number, hi: number, _value: number): void {
    this.writeCounts[1]++;
    this.touch(lo, hi, 1);
  }
  /** Counts a 2-byte write. */
  store16(lo: number, hi: number, _value: number): void {
    this.writeCounts[2]++;
    this.touch(lo, hi, 2);
  }
  /** Counts a 4-byte write. */
  store32(lo: number, hi: number, _value: number): void {
    this.writeCounts[4]++;
    this.touch(lo, hi, 4);
  }
  /** Counts an 8-byte write. */
  store64(lo: number, hi: number, _valueLo: number, _valueHi: number): void {
    this.writeCounts[8]++;
    this.touch(lo, hi, 8);
  }
  /** Counts a fetch as one or two 2-byte reads; returns 0. */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  /** Statistics count every access as it comes. */
  countAccesses(): void {}

  /** The figures gathered so far. */
  report(): TraceStatsReport {
    return statsReport(this.readCounts, this.writeCounts, this.reuseCounts, this.seenPages.size, this.transitions, this.crossings);
  }

  /** What a part's statistics hand to mergeStatsParts (constructed with `part`). */
  partState(): StatsPartState {
    if (this.pending === null) throw new Error("partState: these statistics were not made for a part");
    const seenPages = new Float64Array(this.seenPages.size);
    let index = 0;
    this.seenPages.forEach((pageNumber) => (seenPages[index++] = pageNumber));
    return {
      readCounts: this.readCounts.slice(),
      writeCounts: this.writeCounts.slice(),
      transitions: this.transitions,
      crossings: this.crossings,
      reuseCounts: this.reuseCounts.slice(),
      seenPages,
      lruLo: this.lruLo.slice(0, this.lruSize),
      lruHi: this.lruHi.slice(0, this.lruSize),
      pending: this.pending.take(),
    };
  }

  private touch(lo: number, hi: number, widthBytes: number): void {
    // Page number as two words: low 32 bits and high 20 bits.
    const pageLo = (hi << (32 - PAGE_SHIFT)) | (lo >>> PAGE_SHIFT);
    const pageHi = hi >>> PAGE_SHIFT;
    if ((lo & PAGE_OFFSET_MASK) + widthBytes > PAGE_SIZE_BYTES) {
      this.crossings++;
      // The access also touches the next page (no wrap: the replayer rejects the top).
      const nextLo = (pageLo + 1) | 0;
      this.seenPages.set(nextLo, nextLo === 0 ? pageHi + 1 : pageHi, 0);
    }
    if (this.lruSize > 0 && this.lruLo[0] === pageLo && this.lruHi[0] === pageHi) {
      this.reuseCounts[0]++;
      return;
    }
    this.transitions++;
    let depth = 1;
    while (depth < this.lruSize && (this.lruLo[depth] !== pageLo || this.lruHi[depth] !== pageHi)) depth++;
    if (depth < this.lruSize) {
      this.reuseCounts[bucketOf(depth + 1)]++;
    } else {
      const isNew = this.seenPages.get(pageLo, pageHi) < 0;
      if (isNew) this.seenPages.set(pageLo, pageHi, 0);
      // In a part, a page not in the part's own stack may be in the earlier parts' stack
      // (while this one holds fewer than LRU_DEPTH pages) or their pages: decided at merge.
      if (this.pending !== null && (isNew || this.lruSize < LRU_DEPTH)) this.pending.add(pageLo, pageHi, this.lruSize | (isNew ? 0 : PENDING_SEEN));
      else this.reuseCounts[isNew ? BUCKET_FIRST_TOUCH : BUCKET_32_PLUS]++;
      if (this.lruSize < LRU_DEPTH) this.lruSize++;
      depth = this.lruSize - 1;
    }
    // Move to front: shift the more recent pages down one place (a plain loop: copyWithin
    // is a builtin call, slower than moving a few words).
    const lruLo = this.lruLo;
    const lruHi = this.lruHi;
    for (let index = depth; index > 0; index--) {
      lruLo[index] = lruLo[index - 1];
      lruHi[index] = lruHi[index - 1];
    }
    lruLo[0] = pageLo;
    lruHi[0] = pageHi;
  }
}

/** The report of counts by width (index: bytes), reuse buckets and page figures. */
export function statsReport(readCounts: Float64Array, writeCounts: Float64Array, reuseCounts: Float64Array, distinctPages: number, pageTransitions: number, pageCrossings: number): TraceStatsReport {
  const readsByWidth: Record<string, number> = {};
  const writesByWidth: Record<string, number> = {};
  let reads = 0;
  let writes = 0;
  for (const width of WIDTHS) {
    readsByWidth[width] = readCounts[width];
    writesByWidth[width] = writeCounts[width];
    reads += readCounts[width];
    writes += writeCounts[width];
  }
  const reuseDistance: Record<string, number> = {};
  REUSE_BUCKETS.forEach((bucket, index) => (reuseDistance[bucket] = reuseCounts[index]));
  return { ops: reads + writes, reads, writes, readsByWidth, writesByWidth, distinctPages, pageTransitions, pageCrossings, reuseDistance };
}

/** What the statistics of one part of a trace hold for the merge (structured-clonable). */
export interface StatsPartState {
  /** Reads and writes by width (index: bytes). */
  readCounts: Float64Array;
  /** Writes by width (index: bytes). */
  writeCounts: Float64Array;
  /** Page transitions, counting the part's first access as one. */
  transitions: number;
  /** Accesses that cross a page boundary. */
  crossings: number;
  /** Buckets of the touches decided within the part. */
  reuseCounts: Float64Array;
  /** Page numbers the part touched (crossings' second pages too). */
  seenPages: Float64Array;
  /** The part's LRU stack at its end, most recent first: page numbers' low and high halves. */
  lruLo: Int32Array;
  /** High halves of lruLo's pages. */
  lruHi: Int32Array;
  /**
   * The touches left to the merge, in order: page halves, and `values`: the part's stack
   * depth before the touch (bits 0-7), plus PENDING_SEEN when the part had seen the page (a
   * crossing's second page).
   */
  pending: BlockListState;
}

/** The `info` bit of a pending touch whose page the part had seen before. */
export const PENDING_SEEN = 256;

export function bucketOf(distance: number): number {
  if (distance <= 3) return distance - 1;
  if (distance <= 7) return 3;
  if (distance <= 31) return 4;
  return BUCKET_32_PLUS;
}
