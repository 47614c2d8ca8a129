/** `memspace trace report`: a pass over a trace (in parts, for a v2 file), then a self-contained HTML report (and the same figures as JSON). */
import { availableParallelism } from "node:os";
import { refuseAliasedOutput, writeFileAtomic } from "../util/output-file.js";
import type { AccessInputFormat } from "../trace/cache/access-stream.js";
import { isPowerOfTwo } from "../trace/cache/geometry.js";
import { inputName } from "../trace/reader.js";
import { ReportCollector, type ReportCollectorOptions } from "../trace/report/collector.js";
import { collectReportInParts } from "../trace/report/report-parts.js";
import { reportFigures } from "../trace/report/figures.js";
import { renderChartSvgs } from "../trace/report/charts.js";
import { renderReportHtml } from "../trace/report/html.js";
import { UsageError } from "./exit-codes.js";
import { humanOutput, JSON_TO_STDOUT, writeJsonReport } from "./report.js";
import { formatNumber } from "./table.js";
import { collectAccesses } from "./trace-commands.js";

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
  /** v2 files: threads over ranges of chunks (default: the cores); 1: one pass with a decode worker; 0: one pass here. */
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

/**
 * The report's figures: on `--workers` threads over ranges of chunks (default: the cores) for
 * a v2 file read at any offset, else in one pass (`--workers` 1: a decode worker beside it).
 */
function collectReport(file: string, options: TraceReportOptions, collectorOptions: ReportCollectorOptions): ReportCollector {
  const workers = options.workers ?? availableParallelism();
  return collectAccesses("report", file, options.format, workers, (onProgress) => collectReportInParts(file, workers, collectorOptions, onProgress), () => new ReportCollector(collectorOptions));
}

export async function runTraceReport(file: string, options: TraceReportOptions): Promise<void> {
  checkOptions(options);
  // Refused before the pass over the trace, which may take minutes.
  refuseAliasedOutput(options.output, [file]);
  if (options.json !== undefined && options.json !== JSON_TO_STDOUT) refuseAliasedOutput(options.json, [file, options.output]);
  const collectorOptions = { pageSizeBytes: options.pageSize, lineSizeBytes: options.lineSize, timeBuckets: options.timeBuckets };
  const collector = collectReport(file, options, collectorOptions);
  const figures = reportFigures(collector, { trace: inputName(file), format: options.format }, options.top);
  const html = renderReportHtml(figures, await renderChartSvgs(figures));
  writeFileAtomic(options.output, html, [file]);
  if (options.json !== undefined) writeJsonReport(options.json, figures, [file, options.output]);
  const { ops, distinctPages, distinctLines } = figures.headline;
  humanOutput(options.json).write(`wrote ${options.output}: ${formatNumber(ops)} ops, ${formatNumber(distinctPages)} pages, ${formatNumber(distinctLines)} lines\n`);
}
