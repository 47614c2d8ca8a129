/**
 * The allocator benchmark's chart: ops/s (log scale) and peak footprint / peak live bytes,
 * per workload and allocator, as one SVG (vega-lite compiled to vega, rendered headless).
 */
import { writeFileSync } from "node:fs";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { AllocBenchRecord } from "./alloc.js";

export async function writeAllocChart(records: AllocBenchRecord[], path: string): Promise<void> {
  const values = records
    .filter((r) => r.failure === undefined && r.opsPerSec > 0)
    .map((r) => ({ workload: r.workload, allocator: r.allocator, opsPerSec: r.opsPerSec, footprintPerLive: r.peakFootprintBytes === null ? null : r.peakFootprintBytes / r.peakLiveBytes }));
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
  const spec: TopLevelSpec = {
    $schema: "https://vega.github.io/schema/vega-lite/v5.json",
    title: "memspace bench alloc",
    data: { values },
    vconcat: [bars("opsPerSec", "ops/s (log)", true), bars("footprintPerLive", "peak footprint / peak live", false)],
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  writeFileSync(path, await view.toSVG());
}
