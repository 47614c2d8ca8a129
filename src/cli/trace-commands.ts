import { statSync } from "node:fs";
import { refuseAliasedOutput } from "../util/output-file.js";
import { generateTrace, type TraceShape } from "../trace/generators.js";
import { importLackey } from "../trace/lackey.js";
import { inputName } from "../trace/reader.js";
import { replayFile } from "../trace/replay.js";
import { REUSE_BUCKETS, TraceStats, type TraceStatsReport } from "../trace/stats.js";
import { startProgress } from "./progress.js";
import { humanOutput, writeJsonReport } from "./report.js";
import { formatNumber, formatPercent, renderTable } from "./table.js";

/** Replays `file` onto a TraceStats sink, with a progress bar, and returns its report. */
export function collectTraceStats(file: string): TraceStatsReport {
  const stats = new TraceStats();
  const progress = startProgress("stats", "bytes");
  try {
    replayFile(file, stats, { onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  return stats.report();
}

/** `memspace trace stats FILE`: prints the statistics, and writes them to `jsonTarget` if given. */
export function runTraceStats(file: string, jsonTarget: string | undefined): void {
  const report = collectTraceStats(file);
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

/** `memspace trace gen`: writes `ops` records of `shape` to `output` and says what it wrote. */
export function runTraceGen(shape: TraceShape, ops: number, output: string, seed: number, jsonTarget: string | undefined): void {
  if (jsonTarget !== undefined && jsonTarget !== "-") refuseAliasedOutput(jsonTarget, [output]);
  const progress = startProgress(`gen ${shape}`, "ops");
  try {
    generateTrace(shape, ops, output, { seed, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  const sizeBytes = statSync(output).size;
  humanOutput(jsonTarget).write(`wrote ${formatNumber(ops)} ops (${formatNumber(sizeBytes)} bytes) to ${output}\n`);
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { output, shape, seed, ops, sizeBytes }, [output]);
}

/** `memspace trace import-lackey`: converts `input` into `output` and says what it read and wrote. */
export function runImportLackey(input: string, output: string, jsonTarget: string | undefined): void {
  if (jsonTarget !== undefined && jsonTarget !== "-") refuseAliasedOutput(jsonTarget, [input, output]);
  const result = importLackey(input, output);
  const sizeBytes = statSync(output).size;
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { input, output, ...result, sizeBytes }, [input, output]);
  humanOutput(jsonTarget).write(
    `converted ${formatNumber(result.lines)} lines (${formatNumber(result.instructionFetches)} I, ` +
      `${formatNumber(result.loads)} L, ${formatNumber(result.stores)} S, ${formatNumber(result.modifies)} M) ` +
      `into ${formatNumber(result.ops)} ops -> ${output}\n`,
  );
}
