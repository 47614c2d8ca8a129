import { generateTrace, type TraceShape } from "../trace/generators.js";
import { importLackey } from "../trace/lackey.js";
import { replayFile } from "../trace/replay.js";
import { REUSE_BUCKETS, TraceStats, type TraceStatsReport } from "../trace/stats.js";
import { startProgress } from "./progress.js";
import { formatPercent, renderTable } from "./table.js";

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

export function runTraceStats(file: string, json: boolean): void {
  const report = collectTraceStats(file);
  if (json) {
    process.stdout.write(JSON.stringify(report, null, 2) + "\n");
    return;
  }
  process.stdout.write(formatTraceStats(file, report) + "\n");
}

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

export function runTraceGen(shape: TraceShape, ops: number, output: string, seed: number): void {
  const progress = startProgress(`gen ${shape}`, "ops");
  try {
    generateTrace(shape, ops, output, { seed, onProgress: (done, total) => progress.update(done, total) });
  } finally {
    progress.stop();
  }
  process.stdout.write(`wrote ${ops.toLocaleString("en-US")} ops to ${output}\n`);
}

export function runImportLackey(input: string, output: string): void {
  const result = importLackey(input, output);
  process.stdout.write(
    `converted ${result.lines.toLocaleString("en-US")} lines (${result.instructionFetches.toLocaleString("en-US")} I, ` +
      `${result.loads.toLocaleString("en-US")} L, ${result.stores.toLocaleString("en-US")} S, ${result.modifies.toLocaleString("en-US")} M) ` +
      `into ${result.ops.toLocaleString("en-US")} ops -> ${output}\n`,
  );
}
