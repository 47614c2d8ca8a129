import { runParts } from "../parts.js";
import { ReportCollector, type ReportCollectorOptions, type ReportPartState } from "./collector.js";

/**
 * The report's figures of a v2 file gathered on `workers` threads, each over a range of
 * chunks, merged in order into exactly what one pass gives (reuse distances included). Null
 * when the trace is not a v2 regular file with an intact index: the caller reads it in one pass.
 */
export function collectReportInParts(path: string, workers: number, options: ReportCollectorOptions, onProgress?: (bytesDone: number, bytesTotal: number) => void): ReportCollector | null {
  const states = runParts<ReportPartState>(path, workers, new URL("./report-worker.js", import.meta.url), options, onProgress);
  if (states === null) return null;
  const collector = new ReportCollector(options);
  for (const state of states) collector.mergePart(state);
  return collector;
}
