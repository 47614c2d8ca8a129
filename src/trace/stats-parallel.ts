import type { StatsPartState, TraceStatsReport } from "./stats.js";
import { mergeStatsParts } from "./stats-parts.js";
import { runParts } from "./parts.js";

/**
 * `trace stats` of a v2 file on `workers` threads, each over a range of chunks of about equal
 * records, merged into exactly what one pass gives (stats-parts.ts). Null when the trace is
 * not a v2 regular file with an intact index (a pipe, seed, a damaged end): the caller reads
 * it in one pass, which names any fault.
 */
export function collectStatsInParts(path: string, workers: number, onProgress?: (bytesDone: number, bytesTotal: number) => void): TraceStatsReport | null {
  const states = runParts<StatsPartState>(path, workers, new URL("./stats-worker.js", import.meta.url), null, onProgress);
  return states === null ? null : mergeStatsParts(states);
}
