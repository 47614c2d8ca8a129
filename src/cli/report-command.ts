/** `memspace trace report`: one pass over a trace, then a self-contained HTML report (and the same figures as JSON). */
import { refuseAliasedOutput, writeFileAtomic } from "../util/output-file.js";
import type { AccessInputFormat } from "../trace/cache/access-stream.js";
import { isPowerOfTwo } from "../trace/cache/geometry.js";
import { inputName } from "../trace/reader.js";
import { ReportCollector } from "../trace/report/collector.js";
import { reportFigures } from "../trace/report/figures.js";
import { renderChartSvgs } from "../trace/report/charts.js";
import { renderReportHtml } from "../trace/report/html.js";
import { UsageError } from "./exit-codes.js";
import { humanOutput, JSON_TO_STDOUT, writeJsonReport } from "./report.js";
import { formatNumber } from "./table.js";
import { feedWithProgress } from "./trace-commands.js";

/** Block sizes a block number's two words can shift by (see BlockCounter). */
const MAX_BLOCK_SIZE_BYTES = 2 ** 30;

/** `trace report`'s options as commander parses them. */
export interface TraceReportOptions {
  output: string;
  format: AccessInputFormat;
  top: number;
  timeBuckets: number;
  pageSize: number;
  lineSize: number;
  /** v2 traces: decode workers (default: the cores but one). */
  workers?: number;
  json?: string;
}

function checkBlockSize(option: string, sizeBytes: number): void {
  if (!isPowerOfTwo(sizeBytes) || sizeBytes < 2 || sizeBytes > MAX_BLOCK_SIZE_BYTES) throw new UsageError(`${option} ${sizeBytes}: not a power of two from 2 to ${MAX_BLOCK_SIZE_BYTES}`);
}

function checkOptions(options: TraceReportOptions): void {
  checkBlockSize("--page-size", options.pageSize);
  checkBlockSize("--line-size", options.lineSize);
  if (options.top < 1) throw new UsageError("--top must be at least 1");
  if (options.timeBuckets < 2 || options.timeBuckets % 2 !== 0) throw new UsageError(`--time-buckets ${options.timeBuckets}: not an even number of at least 2`);
}

export async function runTraceReport(file: string, options: TraceReportOptions): Promise<void> {
  checkOptions(options);
  // Refused before the pass over the trace, which may take minutes.
  refuseAliasedOutput(options.output, [file]);
  if (options.json !== undefined && options.json !== JSON_TO_STDOUT) refuseAliasedOutput(options.json, [file, options.output]);
  const collector = new ReportCollector({ pageSizeBytes: options.pageSize, lineSizeBytes: options.lineSize, timeBuckets: options.timeBuckets });
  feedWithProgress("report", file, options.format, collector, options.workers);
  const figures = reportFigures(collector, { trace: inputName(file), format: options.format }, options.top);
  const html = renderReportHtml(figures, await renderChartSvgs(figures));
  writeFileAtomic(options.output, html, [file]);
  if (options.json !== undefined) writeJsonReport(options.json, figures, [file, options.output]);
  const { ops, distinctPages, distinctLines } = figures.headline;
  humanOutput(options.json).write(`wrote ${options.output}: ${formatNumber(ops)} ops, ${formatNumber(distinctPages)} pages, ${formatNumber(distinctLines)} lines\n`);
}
