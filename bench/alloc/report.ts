/** bench alloc's table, notes and chart. */
import { writeFileAtomic } from "../../src/util/output-file.js";
import { dash, report, reportTable } from "../harness/output.js";
import { formatRoundRatios } from "../harness/rounds.js";
import { allocChartSvg } from "./chart.js";
import { LATENCY_BATCH_OPS } from "./latency.js";
import type { AllocMeasurements } from "./run.js";
import type { AllocBenchRecord } from "./record.js";

export function reportAllocTable({ records, ratios }: AllocMeasurements): void {
  const rows = records.map((r) => {
    if (r.failure !== undefined) return [r.workload, r.allocator, r.failure, "-", "-", "-", "-", "-", "-", "-", "-"];
    const perRound = ratios.get(`${r.workload}/${r.allocator}`);
    const ratio = perRound === undefined ? "-" : formatRoundRatios(perRound);
    const nsPerOp = (1e9 / r.opsPerSec).toFixed(1);
    const net = r.netNsPerOp === undefined ? "-" : r.netNsPerOp.toFixed(1);
    const latency = [dash(r.p50Ns?.toFixed(1)), dash(r.p99Ns?.toFixed(1))];
    if (r.peakFootprintBytes === null) {
      const cut = r.completedOps === undefined ? "" : ` (first ${r.completedOps.toLocaleString("en-US")} ops)`;
      return [r.workload, r.allocator, `${r.opsPerSec.toLocaleString("en-US")}${cut}`, ratio, nsPerOp, net, ...latency, "-", "-", "-"];
    }
    const accounted = r.accountedFootprintBytes === undefined ? "-" : (r.accountedFootprintBytes / r.peakLiveBytes).toFixed(2);
    return [r.workload, r.allocator, r.opsPerSec, ratio, nsPerOp, net, ...latency, (r.peakFootprintBytes / 2 ** 20).toFixed(1), (r.peakFootprintBytes / r.peakLiveBytes).toFixed(2), accounted];
  });
  reportTable(["workload", "allocator", "ops/s", "memspace/this", "ns/op", "net ns/op", "p50 ns", "p99 ns", "peak footprint MiB", "footprint/live", "accounted/live"], rows);
  report.write("(loop-js, loop-c: each replay loop with an allocator that does nothing; net ns/op: an allocator's ns/op less its loop's, what it adds)\n");
  report.write("(floor-js: per-class free lists with no checks, no statistics, no workers, memory never given back: the least a JS allocator does on this loop)\n");
  report.write(`(p50, p99 ns: per-op latency percentiles, loop included, from a separate run timed in batches of ${LATENCY_BATCH_OPS} ops, each batch's time over its ops; --json adds p99.9, max, minor faults per run and peak RSS)\n`);
  report.write(`(footprint: resident bytes as the kernel counts them, for every allocator; a workload writes the first byte of each block, and vm every page of its blocks, so untouched parts of large blocks are not resident; accounted: the JS allocator's own count; first N ops: a run stopped at its time budget, its live set still growing, which flatters it)\n`);
  report.write("(memspace/this > 1: memspace is faster; the median over rounds of each round's ratio, their range in brackets (thi.ng: round 1's). Targets: >= 10x thi.ng on larson and alloc-test; >= glibc on tiny-churn and larson; footprint/live <= 1.25 on alloc-test and larson)\n");
}

/** The chart, written as every output is: whole or not at all (writeFileAtomic). */
export async function writeChartAtomic(records: AllocBenchRecord[], path: string): Promise<void> {
  writeFileAtomic(path, await allocChartSvg(records));
  report.write(`wrote ${path}\n`);
}
