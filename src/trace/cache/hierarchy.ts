/**
 * The cache hierarchy as Cachegrind models it: split first-level I1 and D1 caches backed by
 * one unified last-level cache (LL), looked up only on a first-level miss, plus optional
 * instruction and data TLBs looked up on every access.
 */
import type { AccessSink } from "./access-stream.js";
import { CacheLevel, type ReplacementPolicy, type TagState } from "./cache-level.js";
import { CACHEGRIND_DEFAULT_GEOMETRY, cacheGeometryProblem, type CacheGeometry, type TlbGeometry } from "./geometry.js";

/** The shape of a hierarchy; absent caches take Cachegrind's defaults, absent TLBs are not simulated. */
export interface CacheHierarchyOptions {
  /** First-level instruction cache. */
  I1?: CacheGeometry;
  /** First-level data cache. */
  D1?: CacheGeometry;
  /** Unified last-level cache. */
  LL?: CacheGeometry;
  /** Instruction TLB. */
  itlb?: TlbGeometry;
  /** Data TLB. */
  dtlb?: TlbGeometry;
  /** Replacement policy of every level (default "lru", Cachegrind's). */
  policy?: ReplacementPolicy;
  /** Seed of the random policy (default 1). */
  seed?: number;
}

/** References and misses of one level. */
export interface LevelFigures {
  /** Lookups. */
  refs: number;
  /** Lookups that missed. */
  misses: number;
}

/** References and misses of a level that serves reads and writes, with the split. */
export interface SplitLevelFigures extends LevelFigures {
  /** The reads among them. */
  reads: LevelFigures;
  /** The writes among them. */
  writes: LevelFigures;
}

/** Figures of a simulation, named as Cachegrind's summary names them. */
export interface CacheSummary {
  /** The shape simulated. */
  geometry: { I1: CacheGeometry; D1: CacheGeometry; LL: CacheGeometry; itlb: TlbGeometry | null; dtlb: TlbGeometry | null };
  /** The replacement policy of every level. */
  policy: ReplacementPolicy;
  /** Instruction fetches (Cachegrind's `I refs`) and their I1 misses. */
  I1: LevelFigures;
  /** Data reads and writes, and their D1 misses. */
  D1: SplitLevelFigures;
  /**
   * LL: its refs are the first-level misses. As in Cachegrind's `LL refs` line, `reads` counts
   * instruction and data reads together; `fetchMisses` and `dataMisses` are `LLi` and `LLd`.
   */
  LL: SplitLevelFigures & { fetchMisses: number; dataMisses: number };
  /** Instruction TLB lookups (one per fetch) and misses; null when not simulated. */
  itlb: LevelFigures | null;
  /** Data TLB lookups (one per read or write) and misses; null when not simulated. */
  dtlb: LevelFigures | null;
}

/** Every level's blocks and the counts (`CacheHierarchy.state`). */
export interface HierarchyState {
  counts: Float64Array;
  i1: TagState;
  d1: TagState;
  ll: TagState;
  itlb: TagState | null;
  dtlb: TagState | null;
}

/** Slots of the counter array: each kind's references, then its first-level and LL misses. */
export const enum Count {
  Ir = 0,
  I1mr = 1,
  ILmr = 2,
  Dr = 3,
  D1mr = 4,
  DLmr = 5,
  Dw = 6,
  D1mw = 7,
  DLmw = 8,
  ItlbMisses = 9,
  DtlbMisses = 10,
  Slots = 11,
}

/**
 * I1, D1 and LL (and TLBs) fed by an access stream. An I1 or D1 miss looks the same access up
 * in LL (both of its lines when it straddles two), as Cachegrind does; a straddling access is
 * one reference and at most one miss per level. Accesses longer than the smallest line are
 * cut to it, as Cachegrind cuts its large ones, so that none spans more than two lines.
 */
export class CacheHierarchy implements AccessSink {
  /** The first-level instruction cache. */
  readonly i1: CacheLevel;
  /** The first-level data cache. */
  readonly d1: CacheLevel;
  /** The unified last-level cache. */
  readonly ll: CacheLevel;
  /** The instruction TLB, or null when not simulated. */
  readonly itlb: CacheLevel | null;
  /** The data TLB, or null when not simulated. */
  readonly dtlb: CacheLevel | null;
  private readonly geometry: CacheSummary["geometry"];
  private readonly policy: ReplacementPolicy;
  private readonly counts = new Float64Array(Count.Slots);
  /** The longest access looked up whole: the smallest line of the three caches. */
  private readonly maxAccessBytes: number;
  private readonly itlbPageBytes: number;
  private readonly dtlbPageBytes: number;

  /** A hierarchy of empty caches; a geometry Cachegrind would refuse is a RangeError. */
  constructor(options: CacheHierarchyOptions = {}) {
    const I1 = options.I1 ?? CACHEGRIND_DEFAULT_GEOMETRY.I1;
    const D1 = options.D1 ?? CACHEGRIND_DEFAULT_GEOMETRY.D1;
    const LL = options.LL ?? CACHEGRIND_DEFAULT_GEOMETRY.LL;
    for (const [name, geometry] of [["I1", I1], ["D1", D1], ["LL", LL]] as const) {
      const problem = cacheGeometryProblem(geometry);
      if (problem !== null) throw new RangeError(`${name}: ${problem}`);
    }
    this.policy = options.policy ?? "lru";
    const seed = options.seed ?? 1;
    this.i1 = CacheLevel.fromGeometry(I1, this.policy, seed);
    this.d1 = CacheLevel.fromGeometry(D1, this.policy, seed + 1);
    this.ll = CacheLevel.fromGeometry(LL, this.policy, seed + 2);
    this.itlb = options.itlb === undefined ? null : tlbLevel(options.itlb, this.policy, seed + 3);
    this.dtlb = options.dtlb === undefined ? null : tlbLevel(options.dtlb, this.policy, seed + 4);
    this.itlbPageBytes = options.itlb?.pageSizeBytes ?? 0;
    this.dtlbPageBytes = options.dtlb?.pageSizeBytes ?? 0;
    this.maxAccessBytes = Math.min(I1.lineSizeBytes, D1.lineSizeBytes, LL.lineSizeBytes);
    this.geometry = { I1: { ...I1 }, D1: { ...D1 }, LL: { ...LL }, itlb: options.itlb ?? null, dtlb: options.dtlb ?? null };
  }

  /** An instruction fetch: I1, then LL on an I1 miss (and the instruction TLB). */
  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.i1, Count.Ir, this.itlb, this.itlbPageBytes, Count.ItlbMisses, lo, hi, sizeBytes);
  }

  /** A data read: D1, then LL on a D1 miss (and the data TLB). */
  read(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.d1, Count.Dr, this.dtlb, this.dtlbPageBytes, Count.DtlbMisses, lo, hi, sizeBytes);
  }

  /** A data write, looked up as a read is (write-allocate), counted apart. */
  write(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.d1, Count.Dw, this.dtlb, this.dtlbPageBytes, Count.DtlbMisses, lo, hi, sizeBytes);
  }
  /** A modify, as Cachegrind counts it: one data read (its write cannot miss: the read has just brought the line in). */
  modify(lo: number, hi: number, sizeBytes: number): void {
    this.read(lo, hi, sizeBytes);
  }

  /**
   * One access: `first` (I1 or D1), LL on its miss, and the TLB if any. `refSlot` counts the
   * reference; the two slots after it count the first-level and LL misses.
   */
  private lookUp(first: CacheLevel, refSlot: number, tlb: CacheLevel | null, pageBytes: number, tlbMissSlot: number, lo: number, hi: number, sizeBytes: number): void {
    const counts = this.counts;
    const size = sizeBytes > this.maxAccessBytes ? this.maxAccessBytes : sizeBytes;
    counts[refSlot]++;
    if (first.accessIsMiss(lo, hi, size)) {
      counts[refSlot + 1]++;
      if (this.ll.accessIsMiss(lo, hi, size)) counts[refSlot + 2]++;
    }
    if (tlb !== null && tlb.accessIsMiss(lo, hi, size > pageBytes ? pageBytes : size)) counts[tlbMissSlot]++;
  }

  /** The longest access looked up whole: the smallest line of the three caches. */
  get maxAccessSizeBytes(): number {
    return this.maxAccessBytes;
  }

  /** Adds counts, slot by slot (`Count`): a part's, merged in order (cache-parts.ts). */
  addCounts(counts: Float64Array): void {
    for (let slot = 0; slot < Count.Slots; slot++) this.counts[slot] += counts[slot];
  }

  /** The counts and every level's blocks: all that a simulation so far leaves (to post from a worker). */
  state(): HierarchyState {
    return {
      counts: this.counts.slice(),
      i1: this.i1.tagState(),
      d1: this.d1.tagState(),
      ll: this.ll.tagState(),
      itlb: this.itlb === null ? null : this.itlb.tagState(),
      dtlb: this.dtlb === null ? null : this.dtlb.tagState(),
    };
  }

  /** Takes on a state from `state()` of a hierarchy of the same shape; this one must not have simulated anything yet. */
  loadState(state: HierarchyState): void {
    if (this.counts.some((count) => count !== 0)) throw new Error("a hierarchy takes on a state only before it simulates anything");
    this.counts.set(state.counts);
    this.i1.loadTagState(state.i1);
    this.d1.loadTagState(state.d1);
    this.ll.loadTagState(state.ll);
    if (this.itlb !== null && state.itlb !== null) this.itlb.loadTagState(state.itlb);
    if (this.dtlb !== null && state.dtlb !== null) this.dtlb.loadTagState(state.dtlb);
  }

  /** The figures so far. */
  summary(): CacheSummary {
    const c = this.counts;
    const figures = (refs: number, misses: number): LevelFigures => ({ refs, misses });
    return {
      geometry: this.geometry,
      policy: this.policy,
      I1: figures(c[Count.Ir], c[Count.I1mr]),
      D1: {
        ...figures(c[Count.Dr] + c[Count.Dw], c[Count.D1mr] + c[Count.D1mw]),
        reads: figures(c[Count.Dr], c[Count.D1mr]),
        writes: figures(c[Count.Dw], c[Count.D1mw]),
      },
      LL: {
        ...figures(c[Count.I1mr] + c[Count.D1mr] + c[Count.D1mw], c[Count.ILmr] + c[Count.DLmr] + c[Count.DLmw]),
        reads: figures(c[Count.I1mr] + c[Count.D1mr], c[Count.ILmr] + c[Count.DLmr]),
        writes: figures(c[Count.D1mw], c[Count.DLmw]),
        fetchMisses: c[Count.ILmr],
        dataMisses: c[Count.DLmr] + c[Count.DLmw],
      },
      itlb: this.itlb === null ? null : figures(c[Count.Ir], c[Count.ItlbMisses]),
      dtlb: this.dtlb === null ? null : figures(c[Count.Dr] + c[Count.Dw], c[Count.DtlbMisses]),
    };
  }
}

function tlbLevel(geometry: TlbGeometry, policy: ReplacementPolicy, seed: number): CacheLevel {
  return new CacheLevel(geometry.entries / geometry.assoc, geometry.assoc, geometry.pageSizeBytes, policy, seed);
}
