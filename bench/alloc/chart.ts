/**
 * The allocator benchmark's chart: ops/s and p99 per-op latency (both log scale) side by side,
 * and peak footprint / peak live bytes below, per workload and allocator, as one SVG (vega-lite compiled to vega, rendered headless).
 */
import { writeFileSync } from "node:fs";
import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";
import type { AllocBenchRecord } from "./record.js";
import { importOptional } from "../harness/optional-package.js";

/** vega and vega-lite: devDependencies, so an installed memspace draws no chart until they are installed. */
export interface ChartPackages {
  vega: typeof Vega;
  vegaLite: typeof VegaLite;
}

/** What the chart needs, or null when either package is not installed. */
export async function loadChartPackages(): Promise<ChartPackages | null> {
  const [vega, vegaLite] = await Promise.all([importOptional<typeof Vega>("vega"), importOptional<typeof VegaLite>("vega-lite")]);
  return vega === null || vegaLite === null ? null : { vega, vegaLite };
}

export async function writeAllocChart({ vega, vegaLite }: ChartPackages, records: AllocBenchRecord[], path: string): Promise<void> {
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
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  writeFileSync(path, await view.toSVG());
}
