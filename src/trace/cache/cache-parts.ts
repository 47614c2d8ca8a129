/**
 * Cache simulation in parts, exact: a v2 file's chunks cut into ranges, each simulated on its
 * own thread, then merged in order into what one pass gives (LRU only).
 *
 * Why it can be exact: under LRU every lookup puts its block on top of its set, hit or miss.
 * So a part's own lookups decide every outcome but those of a block's first lookup in a set
 * the part has not yet filled: that one hits if the block was cached at the cut and the
 * part's blocks above it have not pushed it out. The part leaves those lookups pending, in
 * order, and the merge decides them against the state the earlier parts left, then takes the
 * part's blocks on top of that state as the set's new state.
 *
 * A part first warms I1, D1 and the TLBs on the chunk before its range: their sets then
 * hold the blocks most recently used before the cut, which are the top of the true state
 * whatever came earlier, so a set the warm-up filled has no pending lookups at all, and the
 * merge needs nothing from the warm-up.
 *
 * LL is looked up only on a first-level miss, so LL's stream is exact only while every
 * first-level outcome is. A part simulates LL itself (from empty, with its own pending
 * lookups) until its first pending first-level access; from there it records the LL stream
 * instead (every access that missed in I1 or D1 or may have), and the merge replays that on
 * the one LL once the first level is decided. The TLBs are decided as the first level is;
 * nothing depends on them. The first part starts where the trace does: it simulates the
 * whole hierarchy.
 */
import { PartGaveUp, runParts } from "../parts.js";
import type { AccessSink } from "./access-stream.js";
import { EMPTY_TAG_HI, type CacheLevel, type TagState } from "./cache-level.js";
import { CacheHierarchy, Count, type CacheHierarchyOptions, type HierarchyState } from "./hierarchy.js";

/** A lookup's outcome in a part. */
const enum Outcome {
  Hit = 0,
  Miss = 1,
  /** Decided by the state at the cut: the merge decides it. */
  Pending = 2,
}

/** An LL stream entry's third word: size | the kind's first count slot (Count.Ir, Dr or Dw) << 16. */
const enum LlEntry {
  SlotShift = 16,
  SizeMask = 0xffff,
}

/** Words of an LL stream entry: address low and high, size and kind, and the access it waits on (-1: a known miss). */
const LL_ENTRY_WORDS = 4;
/** Words of a pending lookup: block low and high, and its access (-1: the access missed anyway). */
const PENDING_WORDS = 3;

/** One level's side of a part: its pending lookups in order, and its sets as the part left them. */
export interface LevelPartState extends TagState {
  pending: Int32Array;
}

/** What a part posts for the merge (`mergeCachePart`). */
export interface CachePartState {
  /** What the part decided itself, in CacheHierarchy's count slots (`Count`). */
  counts: Float64Array;
  /** Accesses whose first-level outcome waits on the merge (the LL stream's entries name them). */
  pendingAccesses: number;
  i1: LevelPartState;
  d1: LevelPartState;
  /** TLBs, where simulated, with the number of their accesses that wait on the merge. */
  itlb: (LevelPartState & { pendingAccesses: number }) | null;
  dtlb: (LevelPartState & { pendingAccesses: number }) | null;
  /**
   * LL as the part simulated it, up to its first pending first-level access; `accessSlots`
   * gives the count slot of each LL access that waits on the merge.
   */
  ll: LevelPartState & { accessSlots: Int32Array };
  /** From that access on, the LL stream (LL_ENTRY_WORDS an entry). */
  llStream: Int32Array;
}

/** Whether a hierarchy of these options can be simulated in parts (LRU only: other policies' state depends on every outcome). */
export function simulatesInParts(options: CacheHierarchyOptions): boolean {
  return (options.policy ?? "lru") === "lru";
}

/**
 * The most words a part's LL stream holds (256 MiB): 16 million first-level misses. A part
 * holds its LL stream until the merge, so past this it gives up and the trace is simulated
 * in one pass instead (a part's memory must not grow with the trace).
 */
export const LL_STREAM_LIMIT_WORDS = 64 << 20;

/** A growable run of int32 words, up to `limitWords`: past that, PartGaveUp. */
class Words {
  words = new Int32Array(1 << 12);
  length = 0;

  constructor(private readonly limitWords = Number.POSITIVE_INFINITY) {}

  push1(a: number): void {
    if (this.length + 1 > this.words.length) this.grow();
    this.words[this.length++] = a;
  }

  push3(a: number, b: number, c: number): void {
    if (this.length + 3 > this.words.length) this.grow();
    const words = this.words;
    words[this.length] = a;
    words[this.length + 1] = b;
    words[this.length + 2] = c;
    this.length += 3;
  }

  push4(a: number, b: number, c: number, d: number): void {
    if (this.length + 4 > this.words.length) this.grow();
    const words = this.words;
    words[this.length] = a;
    words[this.length + 1] = b;
    words[this.length + 2] = c;
    words[this.length + 3] = d;
    this.length += 4;
  }

  /** The words pushed, as their own array. */
  take(): Int32Array {
    return this.words.slice(0, this.length);
  }

  private grow(): void {
    if (this.words.length * 2 > this.limitWords) throw new PartGaveUp(`more than ${this.limitWords} words to hold`);
    const bigger = new Int32Array(this.words.length * 2);
    bigger.set(this.words);
    this.words = bigger;
  }
}

/**
 * One part's simulation: I1, D1 and the TLBs from their warm-up (or empty), with first lookups
 * into unfilled sets left pending; LL simulated alike until the first pending first-level
 * access, and its stream recorded from there.
 */
export class CachePart implements AccessSink {
  private readonly i1: CacheLevel;
  private readonly d1: CacheLevel;
  private readonly ll: CacheLevel;
  private readonly itlb: CacheLevel | null;
  private readonly dtlb: CacheLevel | null;
  private readonly maxAccessBytes: number;
  private readonly counts = new Float64Array(Count.Slots);
  private readonly llStream: Words;
  private readonly pendingI1 = new Words();
  private readonly pendingD1 = new Words();
  private readonly pendingItlb = new Words();
  private readonly pendingDtlb = new Words();
  private readonly pendingLl = new Words();
  private readonly llAccessSlots = new Words();
  private pendingAccesses = 0;
  private pendingItlbAccesses = 0;
  private pendingDtlbAccesses = 0;
  /** Whether lookups only warm the first level and the TLBs (before `startRange`). */
  private warming = false;
  /** LL's sets when the part stopped simulating LL (its first pending first-level access); null while it simulates. */
  private llAtSwitch: TagState | null = null;
  /** The outcomes of an access's one or two block lookups. */
  private firstOutcome = Outcome.Hit;
  private secondOutcome = Outcome.Hit;

  /** `llStreamLimitWords`: the LL stream's limit (LL_STREAM_LIMIT_WORDS; a test sets it lower). */
  constructor(options: CacheHierarchyOptions, llStreamLimitWords = LL_STREAM_LIMIT_WORDS) {
    if (!simulatesInParts(options)) throw new RangeError(`the ${options.policy} policy cannot be simulated in parts`);
    this.llStream = new Words(llStreamLimitWords);
    const shape = new CacheHierarchy(options);
    this.i1 = shape.i1;
    this.d1 = shape.d1;
    this.ll = shape.ll;
    this.itlb = shape.itlb;
    this.dtlb = shape.dtlb;
    this.maxAccessBytes = shape.maxAccessSizeBytes;
  }

  /** From here until `startRange`, accesses (those just before the part's range) only warm the first level and the TLBs. */
  startWarmUp(): void {
    if (this.counts.some((count) => count !== 0)) throw new Error("a part warms up before its range");
    this.warming = true;
  }

  /** The part's range starts: what the warm-up left in a set is the top of the set's state at the cut. */
  startRange(): void {
    this.warming = false;
  }

  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.i1, this.pendingI1, Count.Ir, lo, hi, sizeBytes);
    if (this.itlb !== null) this.pendingItlbAccesses = this.lookUpTlb(this.itlb, this.pendingItlb, Count.ItlbMisses, this.pendingItlbAccesses, lo, hi, sizeBytes);
  }

  read(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.d1, this.pendingD1, Count.Dr, lo, hi, sizeBytes);
    if (this.dtlb !== null) this.pendingDtlbAccesses = this.lookUpTlb(this.dtlb, this.pendingDtlb, Count.DtlbMisses, this.pendingDtlbAccesses, lo, hi, sizeBytes);
  }

  write(lo: number, hi: number, sizeBytes: number): void {
    this.lookUp(this.d1, this.pendingD1, Count.Dw, lo, hi, sizeBytes);
    if (this.dtlb !== null) this.pendingDtlbAccesses = this.lookUpTlb(this.dtlb, this.pendingDtlb, Count.DtlbMisses, this.pendingDtlbAccesses, lo, hi, sizeBytes);
  }

  /** One data read, as CacheHierarchy counts a modify. */
  modify(lo: number, hi: number, sizeBytes: number): void {
    this.read(lo, hi, sizeBytes);
  }

  /** The part's state for the merge. */
  partState(): CachePartState {
    const level = (cache: CacheLevel, pending: Words): LevelPartState => ({ pending: pending.take(), ...cache.tagState() });
    return {
      counts: this.counts.slice(),
      pendingAccesses: this.pendingAccesses,
      i1: level(this.i1, this.pendingI1),
      d1: level(this.d1, this.pendingD1),
      itlb: this.itlb === null ? null : { ...level(this.itlb, this.pendingItlb), pendingAccesses: this.pendingItlbAccesses },
      dtlb: this.dtlb === null ? null : { ...level(this.dtlb, this.pendingDtlb), pendingAccesses: this.pendingDtlbAccesses },
      ll: { pending: this.pendingLl.take(), ...(this.llAtSwitch ?? this.ll.tagState()), accessSlots: this.llAccessSlots.take() },
      llStream: this.llStream.take(),
    };
  }

  /**
   * A first-level lookup (`slot`: the kind's reference count slot). A known miss goes to LL
   * while the part simulates it, else to the LL stream; a pending one ends LL's simulation
   * and goes to the stream, naming the access it waits on.
   */
  private lookUp(level: CacheLevel, pending: Words, slot: number, lo: number, hi: number, sizeBytes: number): void {
    const size = sizeBytes > this.maxAccessBytes ? this.maxAccessBytes : sizeBytes;
    this.lookUpBlocks(level, lo, hi, size);
    if (this.warming) return;
    this.counts[slot]++;
    const first = this.firstOutcome;
    const second = this.secondOutcome;
    if (first === Outcome.Hit && second === Outcome.Hit) return;
    const known = first === Outcome.Miss || second === Outcome.Miss;
    const access = known ? -1 : this.pendingAccesses++;
    this.recordPending(level, pending, lo, hi, size, access);
    if (!known && this.llAtSwitch === null) this.llAtSwitch = this.ll.tagState();
    if (this.llAtSwitch !== null) {
      this.llStream.push4(lo, hi, size | (slot << LlEntry.SlotShift), access);
      return;
    }
    this.counts[slot + 1]++;
    this.lookUpLl(slot, lo, hi, size);
  }

  /** An LL lookup while the part simulates LL: counts a known miss, records pending lookups. */
  private lookUpLl(slot: number, lo: number, hi: number, size: number): void {
    this.lookUpBlocks(this.ll, lo, hi, size);
    const first = this.firstOutcome;
    const second = this.secondOutcome;
    if (first === Outcome.Hit && second === Outcome.Hit) return;
    let access = -1;
    if (first === Outcome.Miss || second === Outcome.Miss) this.counts[slot + 2]++;
    else {
      access = this.llAccessSlots.length;
      this.llAccessSlots.push1(slot);
    }
    this.recordPending(this.ll, this.pendingLl, lo, hi, size, access);
  }

  /** A TLB lookup: counts a known miss, records pending lookups; returns the TLB's pending-access count. */
  private lookUpTlb(tlb: CacheLevel, pending: Words, missSlot: number, pendingAccesses: number, lo: number, hi: number, sizeBytes: number): number {
    // Cut as CacheHierarchy cuts it: to the smallest line, then to the page.
    const lineCut = sizeBytes > this.maxAccessBytes ? this.maxAccessBytes : sizeBytes;
    const size = lineCut > tlb.lineSizeBytes ? tlb.lineSizeBytes : lineCut;
    this.lookUpBlocks(tlb, lo, hi, size);
    if (this.warming) return pendingAccesses;
    const first = this.firstOutcome;
    const second = this.secondOutcome;
    if (first === Outcome.Hit && second === Outcome.Hit) return pendingAccesses;
    let access = -1;
    if (first === Outcome.Miss || second === Outcome.Miss) this.counts[missSlot]++;
    else access = pendingAccesses++;
    this.recordPending(tlb, pending, lo, hi, size, access);
    return pendingAccesses;
  }
  /** Looks up the access's block, and the next when it straddles two, into firstOutcome and secondOutcome. */
  private lookUpBlocks(level: CacheLevel, lo: number, hi: number, size: number): void {
    const bits = level.lineBits;
    const blockLo = (hi << (32 - bits)) | (lo >>> bits);
    const blockHi = hi >>> bits;
    this.firstOutcome = outcomeOf(level, blockLo, blockHi);
    if ((lo & (level.lineSizeBytes - 1)) + size <= level.lineSizeBytes) {
      this.secondOutcome = Outcome.Hit;
      return;
    }
    const nextLo = (blockLo + 1) | 0;
    this.secondOutcome = outcomeOf(level, nextLo, nextLo === 0 ? blockHi + 1 : blockHi);
  }

  /** Records the access's pending block lookups, in lookup order; `access` -1 when its outcome is known. */
  private recordPending(level: CacheLevel, pending: Words, lo: number, hi: number, size: number, access: number): void {
    const bits = level.lineBits;
    const blockLo = (hi << (32 - bits)) | (lo >>> bits);
    const blockHi = hi >>> bits;
    if (this.firstOutcome === Outcome.Pending) pending.push3(blockLo, blockHi, access);
    if (this.secondOutcome === Outcome.Pending) {
      const nextLo = (blockLo + 1) | 0;
      pending.push3(nextLo, nextLo === 0 ? blockHi + 1 : blockHi, access);
    }
  }
}

function outcomeOf(level: CacheLevel, blockLo: number, blockHi: number): Outcome {
  if (!level.blockIsMiss(blockLo, blockHi)) return Outcome.Hit;
  return level.lastMissWasCold ? Outcome.Pending : Outcome.Miss;
}

/**
 * What a part worker posts: the first part starts where the trace does, so it simulates the
 * whole hierarchy and posts its state (no pending lookups, no LL stream to replay); the
 * others post a CachePart's state.
 */
export type CachePartResult = { whole: HierarchyState } | { part: CachePartState };

/** Merges a part worker's result, in trace order (a whole state first). */
export function mergeCachePartResult(hierarchy: CacheHierarchy, result: CachePartResult): void {
  if ("whole" in result) hierarchy.loadState(result.whole);
  else mergeCachePart(hierarchy, result.part);
}

/**
 * Merges the next part, in trace order, into `hierarchy`: decides its pending lookups against
 * the hierarchy's state and takes its sets' blocks on top, level by level, then replays its
 * LL stream on LL.
 */
export function mergeCachePart(hierarchy: CacheHierarchy, part: CachePartState): void {
  const counts = part.counts.slice();
  const missed = new Uint8Array(part.pendingAccesses);
  mergeLevel(hierarchy.i1, part.i1, missed);
  mergeLevel(hierarchy.d1, part.d1, missed);
  if (hierarchy.itlb !== null && part.itlb !== null) counts[Count.ItlbMisses] += mergeTlb(hierarchy.itlb, part.itlb);
  if (hierarchy.dtlb !== null && part.dtlb !== null) counts[Count.DtlbMisses] += mergeTlb(hierarchy.dtlb, part.dtlb);
  const slots = part.ll.accessSlots;
  const llMissed = new Uint8Array(slots.length);
  mergeLevel(hierarchy.ll, part.ll, llMissed);
  for (let access = 0; access < slots.length; access++) if (llMissed[access] !== 0) counts[slots[access] + 2]++;
  const stream = part.llStream;
  const ll = hierarchy.ll;
  for (let at = 0; at < stream.length; at += LL_ENTRY_WORDS) {
    const access = stream[at + 3];
    if (access >= 0 && missed[access] === 0) continue;
    const slot = stream[at + 2] >>> LlEntry.SlotShift;
    counts[slot + 1]++;
    if (ll.accessIsMiss(stream[at], stream[at + 1], stream[at + 2] & LlEntry.SizeMask)) counts[slot + 2]++;
  }
  hierarchy.addCounts(counts);
}

/** Decides a TLB's pending lookups and merges its sets; returns how many pending accesses missed. */
function mergeTlb(tlb: CacheLevel, part: LevelPartState & { pendingAccesses: number }): number {
  const missed = new Uint8Array(part.pendingAccesses);
  mergeLevel(tlb, part, missed);
  let misses = 0;
  for (let access = 0; access < missed.length; access++) misses += missed[access];
  return misses;
}

/**
 * Decides a level's pending lookups (marking their accesses in `missed`) against the level's
 * state at the cut, then makes each set the part's blocks, most recent first, over the blocks
 * it held that the part did not touch.
 */
function mergeLevel(level: CacheLevel, part: LevelPartState, missed: Uint8Array): void {
  const assoc = level.assoc;
  const setMask = level.sets - 1;
  // A set's pending lookups are the part's first lookups of its blocks there, while it held
  // fewer than `assoc`: the part's blocks above a pending one are the set's earlier pending
  // ones, and those a warm-up left there, which are the top of the state at the cut and so
  // are counted as its blocks are.
  const aboveCount = new Int32Array(level.sets);
  const aboveLo = new Int32Array(level.sets * assoc);
  const aboveHi = new Int32Array(level.sets * assoc);
  const priorLo = new Int32Array(assoc);
  const priorHi = new Int32Array(assoc);
  const pending = part.pending;
  for (let at = 0; at < pending.length; at += PENDING_WORDS) {
    const blockLo = pending[at];
    const blockHi = pending[at + 1];
    const access = pending[at + 2];
    const set = blockLo & setMask;
    const above = aboveCount[set];
    if (above >= assoc) throw new Error(`set ${set}: more pending lookups than ways`);
    if (access >= 0 && missed[access] === 0) {
      const priorWays = level.readSet(set, priorLo, priorHi);
      // The block's depth: the part's blocks above it, then the prior blocks above it that the part has not touched.
      let depth = above;
      let hit = false;
      for (let way = 0; way < priorWays && depth < assoc; way++) {
        if (priorLo[way] === blockLo && priorHi[way] === blockHi) {
          hit = true;
          break;
        }
        if (!contains(aboveLo, aboveHi, set * assoc, above, priorLo[way], priorHi[way])) depth++;
      }
      if (!hit) missed[access] = 1;
    }
    aboveLo[set * assoc + above] = blockLo;
    aboveHi[set * assoc + above] = blockHi;
    aboveCount[set] = above + 1;
  }
  const mergedLo = new Int32Array(assoc);
  const mergedHi = new Int32Array(assoc);
  for (let set = 0; set < level.sets; set++) {
    const base = set * assoc;
    let ways = 0;
    while (ways < assoc && part.tagHi[base + ways] !== EMPTY_TAG_HI) {
      mergedLo[ways] = part.tagLo[base + ways];
      mergedHi[ways] = part.tagHi[base + ways];
      ways++;
    }
    if (ways === assoc) {
      level.writeSet(set, mergedLo, mergedHi, ways);
      continue;
    }
    const partWays = ways;
    const priorWays = level.readSet(set, priorLo, priorHi);
    for (let way = 0; way < priorWays && ways < assoc; way++) {
      if (contains(mergedLo, mergedHi, 0, partWays, priorLo[way], priorHi[way])) continue;
      mergedLo[ways] = priorLo[way];
      mergedHi[ways] = priorHi[way];
      ways++;
    }
    level.writeSet(set, mergedLo, mergedHi, ways);
  }
}

function contains(lo: Int32Array, hi: Int32Array, start: number, count: number, blockLo: number, blockHi: number): boolean {
  for (let at = start; at < start + count; at++) if (lo[at] === blockLo && hi[at] === blockHi) return true;
  return false;
}

/** What a cache part worker is given. */
export interface CachePartOptions {
  shape: CacheHierarchyOptions;
  llStreamLimitWords: number;
}

/**
 * Simulates `options`' hierarchy over a v2 file on `workers` threads, each over a range of
 * chunks, merged in order into what one pass gives. Null when the trace is not a v2 regular
 * file with an intact index, the policy is not LRU, or a part's LL stream outgrew
 * `llStreamLimitWords`: the caller simulates in one pass.
 */
export function simulateCacheInParts(path: string, workers: number, options: CacheHierarchyOptions, onProgress?: (bytesDone: number, bytesTotal: number) => void, llStreamLimitWords = LL_STREAM_LIMIT_WORDS): CacheHierarchy | null {
  if (!simulatesInParts(options)) return null;
  const hierarchy = new CacheHierarchy(options);
  const partOptions: CachePartOptions = { shape: options, llStreamLimitWords };
  const results = runParts<CachePartResult>(path, workers, new URL("./cache-worker.js", import.meta.url), partOptions, onProgress);
  if (results === null) return null;
  for (const result of results) mergeCachePartResult(hierarchy, result);
  return hierarchy;
}
