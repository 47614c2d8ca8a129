import { statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { refuseAliasedOutput } from "../util/output-file.js";
import { convertTrace } from "../trace/convert.js";
import { generateTrace, type TraceShape } from "../trace/generators.js";
import { importLackey } from "../trace/lackey.js";
import type { TraceFileFormat } from "../trace/output.js";
import { inputName } from "../trace/reader.js";
import { replayFile } from "../trace/replay.js";
import { REUSE_BUCKETS, TraceStats, type TraceStatsReport } from "../trace/stats.js";
import { collectStatsInParts } from "../trace/stats-parallel.js";
import type { AccessInputFormat, AccessSink } from "../trace/cache/access-stream.js";
import { CacheHierarchy, type CacheHierarchyOptions } from "../trace/cache/hierarchy.js";
import { feedAccesses } from "../trace/cache/inputs.js";
import { ReuseDistance, type ReuseReport } from "../trace/cache/reuse-distance.js";
import { collectReuseInParts } from "../trace/cache/reuse-parts.js";
import { simulateCacheInParts } from "../trace/cache/cache-parts.js";
import { formatCachegrindSummary } from "../trace/cache/summary.js";
import { startProgress } from "./progress.js";
import { humanOutput, writeJsonReport } from "./report.js";
import { formatNumber, formatPercent, renderTable } from "./table.js";

/**
 * The statistics of `file`, with a progress bar: on `workers` threads over ranges of chunks
 * (merged exactly) for a v2 file read at any offset, else in one pass (`workers` 1: one
 * decode worker beside it; 0: all on this thread). Default: the cores.
 */
export function collectTraceStats(file: string, workers = availableParallelism()): TraceStatsReport {
  const progress = startProgress("stats", "bytes");
  try {
    const onProgress = (done: number, total: number): void => progress.update(done, total);
    const parts = workers >= 2 ? collectStatsInParts(file, workers, onProgress) : null;
    if (parts !== null) return parts;
    const stats = new TraceStats();
    replayFile(file, stats, { decodeWorkers: Math.min(workers, 1), onProgress });
    return stats.report();
  } finally {
    progress.stop();
  }
}

/** `memspace trace stats FILE`: prints the statistics, and writes them to `jsonTarget` if given. */
export function runTraceStats(file: string, jsonTarget: string | undefined, workers?: number): void {
  const report = collectTraceStats(file, workers);
  humanOutput(jsonTarget).write(formatTraceStats(inputName(file), report) + "\n");
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { trace: file, ...report }, [file]);
}

/** The human-readable statistics report: summary, widths and page reuse distance. */
export function formatTraceStats(file: string, report: TraceStatsReport): string {
  const widthRows = ["1", "2", "4", "8"].map((width) => [
    `${width}-byte`,
    report.readsByWidth[width],
    formatPercent(report.readsByWidth[width], report.reads),
    report.writesByWidth[width],
    formatPercent(report.writesByWidth[width], report.writes),
  ]);
  const summary = renderTable(
    ["figure", "value", "share of ops"],
    [
      ["ops", report.ops, ""],
      ["reads", report.reads, formatPercent(report.reads, report.ops)],
      ["writes", report.writes, formatPercent(report.writes, report.ops)],
      ["distinct pages", report.distinctPages, ""],
      ["page transitions", report.pageTransitions, formatPercent(report.pageTransitions, report.ops)],
      ["page-crossing accesses", report.pageCrossings, formatPercent(report.pageCrossings, report.ops)],
    ],
  );
  let cumulative = 0;
  const reuseRows = REUSE_BUCKETS.map((bucket) => {
    const count = report.reuseDistance[bucket];
    cumulative += bucket === "first touch" ? 0 : count;
    return [bucket, count, formatPercent(count, report.ops), bucket === "first touch" ? "" : formatPercent(cumulative, report.ops)];
  });
  return [
    `trace ${file}`,
    "",
    summary,
    "",
    renderTable(["width", "reads", "of reads", "writes", "of writes"], widthRows),
    "",
    "page reuse distance (1 = same page as the previous op)",
    renderTable(["distance", "ops", "share", "cumulative"], reuseRows),
  ].join("\n");
}

/** `memspace trace gen`: writes `ops` records of `shape` to `output` in `format` and says what it wrote. */
export function runTraceGen(shape: TraceShape, ops: number, output: string, options: { seed: number; format: TraceFileFormat }, jsonTarget: string | undefined): void {
  const { seed, format } = options;
  if (jsonTarget !== undefined && jsonTarget !== "-") refuseAliasedOutput(jsonTarget, [output]);
  const progress = startProgress(`gen ${shape}`, "ops");
  try {
    generateTrace(shape, ops, output, { seed, format, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  const sizeBytes = statSync(output).size;
  humanOutput(jsonTarget).write(`wrote ${formatNumber(ops)} ops (${formatNumber(sizeBytes)} bytes, ${format}) to ${output}\n`);
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { output, shape, seed, format, ops, sizeBytes }, [output]);
}

/** `memspace trace import-lackey`: converts `input` into `output` in `format` and says what it read and wrote. */
export function runImportLackey(input: string, output: string, format: TraceFileFormat, jsonTarget: string | undefined): void {
  if (jsonTarget !== undefined && jsonTarget !== "-") refuseAliasedOutput(jsonTarget, [input, output]);
  const result = importLackey(input, output, format);
  const sizeBytes = statSync(output).size;
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { input, output, format, ...result, sizeBytes }, [input, output]);
  humanOutput(jsonTarget).write(
    `converted ${formatNumber(result.lines)} lines (${formatNumber(result.instructionFetches)} I, ` +
      `${formatNumber(result.loads)} L, ${formatNumber(result.stores)} S, ${formatNumber(result.modifies)} M) ` +
      `into ${formatNumber(result.records)} records (${formatNumber(sizeBytes)} bytes, ${format}) -> ${output}\n`,
  );
}

/** `memspace trace convert`: converts `input` (seed or v2) into `output` in `format` and says what it converted. */
export function runTraceConvert(input: string, output: string, format: TraceFileFormat, jsonTarget: string | undefined): void {
  if (jsonTarget !== undefined && jsonTarget !== "-") refuseAliasedOutput(jsonTarget, [input, output]);
  const progress = startProgress(`convert to ${format}`, "bytes");
  let result: ReturnType<typeof convertTrace>;
  try {
    result = convertTrace(input, output, format, { onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  const ratio = result.sizeBytes === 0 ? 0 : result.inputBytes / result.sizeBytes;
  if (jsonTarget !== undefined) {
    const { from, to, fetches, reads, writes, modifies, inputBytes, ops, sizeBytes } = result;
    writeJsonReport(jsonTarget, { input, output, from, to, fetches, reads, writes, modifies, outputRecords: ops, inputBytes, outputBytes: sizeBytes, ratio }, [input, output]);
  }
  humanOutput(jsonTarget).write(
    `converted ${inputName(input)} (${result.from}) -> ${output} (${result.to})\n` +
      renderTable(
        ["figure", "value"],
        [
          ["fetches", result.fetches],
          ["reads", result.reads],
          ["modifies", result.modifies],
          ["writes", result.writes],
          [`records in ${result.to}`, result.ops],
          ["bytes in", result.inputBytes],
          ["bytes out", result.sizeBytes],
          ["ratio", formatRatio(result.inputBytes, result.sizeBytes)],
        ],
      ) +
      "\n",
  );
}

/** A size ratio as "5.32 : 1" when `inBytes` is the larger, "1 : 5.32" when `outBytes` is. */
function formatRatio(inBytes: number, outBytes: number): string {
  if (inBytes === 0 || outBytes === 0) return "-";
  return inBytes >= outBytes ? `${(inBytes / outBytes).toFixed(2)} : 1` : `1 : ${(outBytes / inBytes).toFixed(2)}`;
}

/** `trace cache`'s options as commander parses them (geometry options already checked). */
export interface TraceCacheOptions extends CacheHierarchyOptions {
  format: AccessInputFormat;
  /** v2 traces: threads over ranges of chunks, as for `trace stats` (default: defaultCacheWorkers()). */
  workers?: number;
  json?: string;
}

/**
 * Parts pay for the simulator only beyond two cores: decoding a v2 chunk costs about what
 * simulating it does, so one pass with a decode worker already keeps two cores busy, and
 * parts add their merge (docs/design/cache-simulator.md).
 */
export function defaultCacheWorkers(): number {
  const cores = availableParallelism();
  return cores > 2 ? cores : 1;
}

export function runTraceCache(file: string, options: TraceCacheOptions): void {
  const { format, json, workers = defaultCacheWorkers(), ...shape } = options;
  const hierarchy = collectAccesses("cache", file, format, workers, (onProgress) => simulateCacheInParts(file, workers, shape, onProgress), () => new CacheHierarchy(shape));
  const summary = hierarchy.summary();
  humanOutput(json).write(formatCachegrindSummary(summary) + "\n");
  if (json !== undefined) writeJsonReport(json, { trace: file, format, ...summary }, [file]);
}

export function runTraceReuse(file: string, format: AccessInputFormat, blockSizeBytes: number, jsonTarget: string | undefined, workers = availableParallelism()): void {
  const report = collectReuse(file, format, blockSizeBytes, workers).report();
  humanOutput(jsonTarget).write(formatReuseReport(inputName(file), report) + "\n");
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { trace: file, format, ...report }, [file]);
}

/** Reuse distances: on `workers` threads over ranges of chunks for a v2 file read at any offset, else in one pass. */
function collectReuse(file: string, format: AccessInputFormat, blockSizeBytes: number, workers: number): ReuseDistance {
  return collectAccesses("reuse", file, format, workers, (onProgress) => collectReuseInParts(file, workers, blockSizeBytes, onProgress), () => new ReuseDistance(blockSizeBytes));
}

/**
 * An analysis of the accesses of `file`, with a progress bar: `inParts` on `workers` threads
 * over ranges of chunks (it returns null for a trace it cannot split: seed, a pipe, a damaged
 * end), else one pass into `fresh()` (`workers` 1: a decode worker beside it; 0: none).
 */
export function collectAccesses<Sink extends AccessSink>(what: string, file: string, format: AccessInputFormat, workers: number, inParts: (onProgress: (done: number, total: number) => void) => Sink | null, fresh: () => Sink): Sink {
  if (format === "trace" && workers >= 2) {
    const progress = startProgress(what, "bytes");
    try {
      const sink = inParts((done, total) => progress.update(done, total));
      if (sink !== null) return sink;
    } finally {
      progress.stop();
    }
  }
  const sink = fresh();
  feedWithProgress(what, file, format, sink, Math.min(workers, 1));
  return sink;
}

/** Feeds `file` to `sink` with a progress bar on a terminal. */
export function feedWithProgress(what: string, file: string, format: AccessInputFormat, sink: AccessSink, workers?: number): void {
  const progress = startProgress(what, "bytes");
  try {
    feedAccesses(file, format, sink, { decodeWorkers: workers, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
}

export function formatReuseReport(file: string, report: ReuseReport): string {
  const histogram = report.histogram.map((bucket) => [
    bucket.from === bucket.to ? String(bucket.from) : `${bucket.from}-${bucket.to}`,
    bucket.count,
    formatPercent(bucket.count, report.references),
  ]);
  histogram.push(["first touch", report.coldMisses, formatPercent(report.coldMisses, report.references)]);
  const curve = report.missRatioCurve.map((point) => [point.blocks, point.sizeBytes, point.misses, formatPercent(point.misses, report.references)]);
  return [
    `trace ${file}: ${formatNumber(report.references)} references to ${formatNumber(report.footprintBlocks)} distinct ${report.blockSizeBytes}-byte blocks`,
    "",
    "LRU stack distance (1 = the block referenced last)",
    renderTable(["distance", "references", "share"], histogram),
    "",
    "misses of a fully associative LRU cache",
    renderTable(["blocks", "bytes", "misses", "miss ratio"], curve),
  ].join("\n");
}
