/**
 * The allocator benchmark's chart: ops/s and p99 per-op latency (both log scale) side by side,
 * and peak footprint / peak live bytes below, per workload and allocator, as one SVG (rendered
 * as the trace report renders its charts).
 */
import type * as VegaLite from "vega-lite";
import { renderVegaLiteSvg } from "../../src/trace/report/charts.js";
import type { AllocBenchRecord } from "./record.js";

/** The chart of `records` as an SVG document. */
export async function allocChartSvg(records: AllocBenchRecord[]): Promise<string> {
  const values = records
    .filter((r) => r.failure === undefined && r.opsPerSec > 0)
    .map((r) => ({ workload: r.workload, allocator: r.allocator, opsPerSec: r.opsPerSec, p99Ns: r.p99Ns ?? null, footprintPerLive: r.peakFootprintBytes === null ? null : r.peakFootprintBytes / r.peakLiveBytes }));
  const bars = (field: string, title: string, log: boolean) => ({
    mark: "bar" as const,
    width: 90,
    height: 180,
    encoding: {
      column: { field: "workload", type: "nominal" as const, title: null },
      x: { field: "allocator", type: "nominal" as const, title: null },
      y: { field, type: "quantitative" as const, title, scale: log ? { type: "log" as const } : {} },
      color: { field: "allocator", type: "nominal" as const },
    },
  });
  const spec: VegaLite.TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "memspace bench alloc",
    data: { values },
    vconcat: [{ hconcat: [bars("opsPerSec", "ops/s (log)", true), bars("p99Ns", "p99 ns per op (log)", true)] }, bars("footprintPerLive", "peak footprint / peak live", false)],
  };
  return renderVegaLiteSvg(spec);
}
