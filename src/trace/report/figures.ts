/**
 * The report's figures: one JSON-ready object that both `--json` and the HTML page show, so
 * the two cannot disagree. Addresses are hexadecimal strings (64-bit values do not fit a
 * JSON number).
 */
import type { AccessInputFormat } from "../cache/access-stream.js";
import type { ReuseReport } from "../cache/reuse-distance.js";
import type { BlockCounter } from "./block-counter.js";
import { ACCESS_KINDS, WIDTH_COLUMNS, type AccessKind, type ReportCollector, type WidthColumn } from "./collector.js";

/** The totals at the top of the report. */
export interface ReportHeadline {
  /** Accesses (records of a trace; lines of a lackey log). */
  ops: number;
  /** Data reads. */
  reads: number;
  /** Data writes. */
  writes: number;
  /** Instruction fetches (a lackey log's; an interchange trace has none of its own). */
  fetches: number;
  /** Distinct pages touched. */
  distinctPages: number;
  /** Distinct cache lines touched. */
  distinctLines: number;
  /** Distinct pages times the page size: the memory the trace keeps resident. */
  footprintBytes: number;
}

/** Ops of one kind and width. */
export interface MixRow {
  kind: AccessKind;
  /** "1", "2", "4", "8" bytes, or "other". */
  width: WidthColumn;
  ops: number;
}

/** One time bucket: ops [fromOp, toOp). */
export interface TimeBucket {
  bucket: number;
  fromOp: number;
  toOp: number;
  /** Distinct pages the bucket's ops touch: the working set of the window. */
  distinctPages: number;
}

/** References of one hot page in one time bucket (buckets without any are left out). */
export interface HeatCell {
  page: string;
  fromOp: number;
  toOp: number;
  references: number;
}

/** A page or line of the hottest tables. */
export interface HotBlock {
  /** Its first byte's address, hexadecimal. */
  address: string;
  references: number;
  /** Its references over all references at this granularity. */
  share: number;
}

/** Everything the report shows. */
export interface ReportFigures {
  trace: string;
  format: AccessInputFormat;
  pageSizeBytes: number;
  lineSizeBytes: number;
  headline: ReportHeadline;
  /** Ops by kind and width (the "other" width only when some access has it). */
  mix: MixRow[];
  /** Ops per time bucket (a power of two; the last bucket may hold fewer). */
  opsPerBucket: number;
  /** The working set over time. */
  timeline: TimeBucket[];
  /** The heat map: the hottest pages, in address order, and their references by bucket. */
  heatMap: { pages: string[]; cells: HeatCell[] };
  /** Exact reuse distances at page and at line granularity. */
  reuse: { page: ReuseReport; line: ReuseReport };
  hottestPages: HotBlock[];
  hottestLines: HotBlock[];
}

/** Where the figures came from, for the report's title. */
export interface ReportSource {
  trace: string;
  format: AccessInputFormat;
}

/** A 64-bit address as the report writes it. */
function hex(address: bigint): string {
  return `0x${address.toString(16)}`;
}

function hottest(counter: BlockCounter, top: number): HotBlock[] {
  const total = counter.total();
  return counter.hottest(top).map((id) => ({ address: hex(counter.addressOf(id)), references: counter.countOf(id), share: total === 0 ? 0 : counter.countOf(id) / total }));
}

/** The figures of a collector that has seen a whole trace (reuse distances measured); `top` rows of each table and heat map. */
export function reportFigures(collector: ReportCollector, source: ReportSource, top: number): ReportFigures {
  if (collector.pageReuse === null || collector.lineReuse === null) throw new RangeError("report figures need the reuse distances of the whole trace");
  const { heat, lines } = collector;
  const pages = heat.pages;
  const mix: MixRow[] = [];
  ACCESS_KINDS.forEach((kind, kindIndex) =>
    WIDTH_COLUMNS.forEach((width, column) => mix.push({ kind, width, ops: collector.kindWidthOps[kindIndex * WIDTH_COLUMNS.length + column] })),
  );
  const hasOtherWidth = mix.some((row) => row.width === "other" && row.ops > 0);

  const used = heat.usedBuckets();
  const distinct = heat.distinctPagesByBucket();
  const bucketStart = (bucket: number): number => bucket * heat.opsPerBucket;
  const bucketEnd = (bucket: number): number => bucketStart(bucket) + heat.bucketOps[bucket];
  const timeline: TimeBucket[] = [];
  for (let bucket = 0; bucket < used; bucket++) timeline.push({ bucket, fromOp: bucketStart(bucket), toOp: bucketEnd(bucket), distinctPages: distinct[bucket] });

  const heatIds = pages.hottest(top).sort((a, b) => pages.compareAddress(a, b));
  const cells: HeatCell[] = [];
  for (const id of heatIds) {
    const page = hex(pages.addressOf(id));
    for (let bucket = 0; bucket < used; bucket++) {
      const references = heat.cell(id, bucket);
      if (references > 0) cells.push({ page, fromOp: bucketStart(bucket), toOp: bucketEnd(bucket), references });
    }
  }

  return {
    trace: source.trace,
    format: source.format,
    pageSizeBytes: collector.pageSizeBytes,
    lineSizeBytes: collector.lineSizeBytes,
    headline: {
      ops: collector.ops,
      reads: collector.opsOfKind("read"),
      writes: collector.opsOfKind("write"),
      fetches: collector.opsOfKind("fetch"),
      distinctPages: pages.size,
      distinctLines: lines.size,
      footprintBytes: pages.size * collector.pageSizeBytes,
    },
    mix: hasOtherWidth ? mix : mix.filter((row) => row.width !== "other"),
    opsPerBucket: heat.opsPerBucket,
    timeline,
    heatMap: { pages: heatIds.map((id) => hex(pages.addressOf(id))), cells },
    reuse: { page: collector.pageReuse.report(), line: collector.lineReuse.report() },
    hottestPages: hottest(pages, top),
    hottestLines: hottest(lines, top),
  };
}
