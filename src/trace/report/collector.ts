/**
 * The report's one pass over an access stream: ops by kind and width, references per page
 * and per line, page heat by time bucket, and exact reuse distances at page and line
 * granularity. Everything it keeps grows with the footprint (distinct pages and lines), not
 * with the trace's length. Counts and heat of disjoint op ranges merge (`mergePart`), and so
 * do reuse distances of consecutive parts measured as parts (their first touches resolved
 * against what came before).
 */
import type { AccessSink } from "../cache/access-stream.js";
import { ReuseDistance, type ReusePartState } from "../cache/reuse-distance.js";
import { BlockCounter, type BlockCounterState } from "./block-counter.js";
import { PageHeat, type PageHeatState } from "./page-heat.js";

/** The kinds of access, in the order of `ReportCollector.kindWidthOps`. */
export const ACCESS_KINDS = ["fetch", "read", "write"] as const;
/** An access kind. */
export type AccessKind = (typeof ACCESS_KINDS)[number];
/** The width columns: the trace format's widths, then every other size (lackey logs have some). */
export const WIDTH_COLUMNS = ["1", "2", "4", "8", "other"] as const;
/** A width column. */
export type WidthColumn = (typeof WIDTH_COLUMNS)[number];

const FETCH = 0;
const READ = 1;
const WRITE = 2;
const OTHER_WIDTH = 4;

/** The column of an access of `sizeBytes`: 1, 2, 4, 8 bytes or other. */
function widthColumn(sizeBytes: number): number {
  return sizeBytes === 1 ? 0 : sizeBytes === 2 ? 1 : sizeBytes === 4 ? 2 : sizeBytes === 8 ? 3 : OTHER_WIDTH;
}

/** What counts a reference to a block. */
interface BlockSink {
  touch(blockLo: number, blockHi: number): void;
}

/** Touches every block of 2^`bits` bytes that `sizeBytes` bytes at (lo, hi) span, in address order. */
function touchSpannedBlocks(sink: BlockSink, bits: number, lo: number, hi: number, sizeBytes: number): void {
  let blockLo = (hi << (32 - bits)) | (lo >>> bits);
  let blockHi = hi >>> bits;
  const offset = (lo >>> 0) & ((1 << bits) - 1);
  const spanned = ((offset + sizeBytes - 1) >>> bits) + 1;
  for (let index = 0; index < spanned; index++) {
    sink.touch(blockLo, blockHi);
    blockLo = (blockLo + 1) | 0;
    if (blockLo === 0) blockHi++;
  }
}

/** Options of a ReportCollector. */
export interface ReportCollectorOptions {
  /** Page size in bytes, a power of two. */
  pageSizeBytes: number;
  /** Cache line size in bytes, a power of two. */
  lineSizeBytes: number;
  /** Time buckets of the heat map and working set (even, at least 2). */
  timeBuckets: number;
  /** The index of the stream's first op in the whole trace (a chunk's offset); default 0. */
  firstOp?: number;
  /** Whether to measure reuse distances (they need the whole stream in order); default true. */
  reuseDistances?: boolean;
  /** The stream is a part of a trace (a range of chunks) whose reuse distances `mergePart` completes; default false. */
  part?: boolean;
}

/** What a collector of a part of a trace hands to `mergePart` (structured-clonable: a worker posts it). */
export interface ReportPartState {
  pageSizeBytes: number;
  lineSizeBytes: number;
  kindWidthOps: Float64Array;
  ops: number;
  heat: PageHeatState;
  lines: BlockCounterState;
  /** The part's reuse distances, when it measured them as a part. */
  pageReuse: ReusePartState | null;
  lineReuse: ReusePartState | null;
}

/** An AccessSink that gathers every figure of the trace report. */
export class ReportCollector implements AccessSink {
  readonly pageSizeBytes: number;
  readonly lineSizeBytes: number;
  /** Ops of each kind and width: index kind * WIDTH_COLUMNS.length + width column. */
  readonly kindWidthOps = new Float64Array(ACCESS_KINDS.length * WIDTH_COLUMNS.length);
  /** Page references by time bucket (and in all). */
  readonly heat: PageHeat;
  /** References per cache line. */
  readonly lines: BlockCounter;
  /** Exact reuse distances of pages and lines, or null when not measured. */
  readonly pageReuse: ReuseDistance | null;
  readonly lineReuse: ReuseDistance | null;
  /** Ops seen (after a merge: of both). */
  ops = 0;
  private readonly firstOp: number;
  private readonly part: boolean;
  private readonly pageBits: number;
  private readonly lineBits: number;

  constructor(options: ReportCollectorOptions) {
    this.pageSizeBytes = options.pageSizeBytes;
    this.lineSizeBytes = options.lineSizeBytes;
    this.firstOp = options.firstOp ?? 0;
    this.heat = new PageHeat(options.pageSizeBytes, options.timeBuckets, this.firstOp);
    this.lines = new BlockCounter(options.lineSizeBytes);
    this.pageBits = this.heat.pages.blockBits;
    this.lineBits = this.lines.blockBits;
    const reuse = options.reuseDistances ?? true;
    this.part = options.part === true;
    this.pageReuse = reuse ? new ReuseDistance(options.pageSizeBytes, { part: this.part }) : null;
    this.lineReuse = reuse ? new ReuseDistance(options.lineSizeBytes, { part: this.part }) : null;
  }

  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.count(FETCH, lo, hi, sizeBytes);
  }
  read(lo: number, hi: number, sizeBytes: number): void {
    this.count(READ, lo, hi, sizeBytes);
  }
  write(lo: number, hi: number, sizeBytes: number): void {
    this.count(WRITE, lo, hi, sizeBytes);
  }
  /** A modify counts as what its seed conversion holds: a read, then a write. */
  modify(lo: number, hi: number, sizeBytes: number): void {
    this.count(READ, lo, hi, sizeBytes);
    this.count(WRITE, lo, hi, sizeBytes);
  }

  /** Ops of `kind` (all widths). */
  opsOfKind(kind: AccessKind): number {
    const row = ACCESS_KINDS.indexOf(kind) * WIDTH_COLUMNS.length;
    let sum = 0;
    for (let column = 0; column < WIDTH_COLUMNS.length; column++) sum += this.kindWidthOps[row + column];
    return sum;
  }

  /** This collector's figures as plain arrays, for `mergePart` (reuse distances only from a collector made as a part). */
  partState(): ReportPartState {
    return {
      pageSizeBytes: this.pageSizeBytes,
      lineSizeBytes: this.lineSizeBytes,
      kindWidthOps: this.kindWidthOps.slice(),
      ops: this.ops,
      heat: this.heat.state(),
      lines: this.lines.state(),
      pageReuse: this.part ? (this.pageReuse?.partState() ?? null) : null,
      lineReuse: this.part ? (this.lineReuse?.partState() ?? null) : null,
    };
  }

  /**
   * Adds the figures of a part: counts and heat of any disjoint range of ops of the same
   * trace (same options), in any order; its reuse distances, when it has them, only from the
   * part that follows everything merged so far (reuse-distance.ts, `mergePart`).
   */
  mergePart(other: ReportPartState): void {
    if (other.pageSizeBytes !== this.pageSizeBytes || other.lineSizeBytes !== this.lineSizeBytes) throw new RangeError("cannot merge report collectors of different page or line sizes");
    for (let index = 0; index < this.kindWidthOps.length; index++) this.kindWidthOps[index] += other.kindWidthOps[index];
    this.heat.merge(other.heat);
    this.lines.merge(other.lines);
    this.ops += other.ops;
    if (other.pageReuse !== null) this.pageReuse?.mergePart(other.pageReuse);
    if (other.lineReuse !== null) this.lineReuse?.mergePart(other.lineReuse);
  }

  /** Adds the counts and heat of `other`, which saw a disjoint range of ops of the same trace with the same options. */
  merge(other: ReportCollector): void {
    this.mergePart(other.partState());
  }

  private count(kind: number, lo: number, hi: number, sizeBytes: number): void {
    this.kindWidthOps[kind * WIDTH_COLUMNS.length + widthColumn(sizeBytes)]++;
    this.heat.startOp(this.firstOp + this.ops++);
    touchSpannedBlocks(this.heat, this.pageBits, lo, hi, sizeBytes);
    touchSpannedBlocks(this.lines, this.lineBits, lo, hi, sizeBytes);
    this.pageReuse?.access(lo, hi, sizeBytes);
    this.lineReuse?.access(lo, hi, sizeBytes);
  }
}
