/**
 * The report's charts: vega-lite specs built from the figures, compiled and rendered to SVG
 * here, at generation time, by vega's headless renderer (docs/design/trace-report.md says
 * why). vega and vega-lite load on the first chart only, so nothing else in memspace pays for
 * loading them.
 */
import { createRequire } from "node:module";
import type * as Vega from "vega";
import type * as VegaLite from "vega-lite";
import { WIDTH_COLUMNS } from "./collector.js";
import type { ReportFigures } from "./figures.js";
import type { ReuseReport } from "../cache/reuse-distance.js";

/** The charts of the report, by the name the page gives each. */
export const CHART_NAMES = ["heat-map", "working-set", "mix", "reuse-histogram", "miss-ratio"] as const;
/** A chart's name. */
export type ChartName = (typeof CHART_NAMES)[number];

/** Plot width in pixels: wide enough for the time axis of the heat map. */
const PLOT_WIDTH = 640;
const PLOT_HEIGHT = 220;
/** Pixels per page row of the heat map. */
const HEAT_ROW_PIXELS = 12;

interface ChartPackages {
  vega: typeof Vega;
  vegaLite: typeof VegaLite;
}

let packages: ChartPackages | undefined;

/** vega and vega-lite, loaded on first use. */
function loadChartPackages(): ChartPackages {
  if (packages === undefined) {
    const require = createRequire(import.meta.url);
    try {
      packages = { vega: require("vega") as typeof Vega, vegaLite: require("vega-lite") as typeof VegaLite };
    } catch (error) {
      throw new Error(`the report's charts need vega and vega-lite (dependencies of memspace), which cannot be loaded: ${(error as Error).message}`);
    }
  }
  return packages;
}

type Spec = VegaLite.TopLevelSpec;

const BASE = {
  $schema: "https://vega.github.io/schema/vega-lite/v5.json",
  background: "white",
  config: { font: "sans-serif", view: { stroke: null } },
} as const;

/** Distance labels of a reuse report's histogram, first touches last. */
function reuseRows(granularity: string, report: ReuseReport): Array<{ granularity: string; distance: string; order: number; references: number }> {
  const rows = report.histogram.map((bucket, order) => ({
    granularity,
    distance: bucket.from === bucket.to ? String(bucket.from) : `${bucket.from}-${bucket.to}`,
    order,
    references: bucket.count,
  }));
  rows.push({ granularity, distance: "first touch", order: rows.length, references: report.coldMisses });
  return rows;
}

/** The vega-lite spec of each chart. */
export function chartSpecs(figures: ReportFigures): Record<ChartName, Spec> {
  const page = `page (${figures.pageSizeBytes} B)`;
  const line = `line (${figures.lineSizeBytes} B)`;
  const histogram = [...reuseRows(page, figures.reuse.page), ...reuseRows(line, figures.reuse.line)];
  // One sort key per label across both granularities: the longer histogram's order.
  const labelOrder = new Map<string, number>();
  for (const row of histogram) labelOrder.set(row.distance, Math.max(labelOrder.get(row.distance) ?? 0, row.distance === "first touch" ? Number.MAX_SAFE_INTEGER : row.order));
  const curve = [
    ...figures.reuse.page.missRatioCurve.map((point) => ({ granularity: page, sizeBytes: point.sizeBytes, missRatio: point.missRatio })),
    ...figures.reuse.line.missRatioCurve.map((point) => ({ granularity: line, sizeBytes: point.sizeBytes, missRatio: point.missRatio })),
  ];
  return {
    "heat-map": {
      ...BASE,
      data: { values: figures.heatMap.cells },
      width: PLOT_WIDTH,
      height: Math.max(1, figures.heatMap.pages.length) * HEAT_ROW_PIXELS,
      mark: "rect",
      encoding: {
        x: { field: "fromOp", type: "quantitative", title: "op", scale: { domainMin: 0 } },
        x2: { field: "toOp" },
        y: { field: "page", type: "ordinal", title: "page", sort: figures.heatMap.pages },
        color: { field: "references", type: "quantitative", title: "references", scale: { type: "log", scheme: "inferno" } },
      },
    },
    "working-set": {
      ...BASE,
      data: { values: figures.timeline },
      width: PLOT_WIDTH,
      height: PLOT_HEIGHT,
      mark: { type: "line", point: true, interpolate: "step-after" },
      encoding: {
        x: { field: "fromOp", type: "quantitative", title: "op" },
        y: { field: "distinctPages", type: "quantitative", title: "distinct pages in the window" },
      },
    },
    mix: {
      ...BASE,
      data: { values: figures.mix },
      width: { step: 36 },
      height: PLOT_HEIGHT,
      mark: "bar",
      encoding: {
        x: { field: "width", type: "nominal", title: "bytes per access", sort: [...WIDTH_COLUMNS] },
        xOffset: { field: "kind", type: "nominal" },
        y: { field: "ops", type: "quantitative", title: "ops" },
        color: { field: "kind", type: "nominal", title: "kind", sort: ["fetch", "read", "write"] },
      },
    },
    "reuse-histogram": {
      ...BASE,
      data: { values: histogram.map((row) => ({ ...row, order: labelOrder.get(row.distance)! })) },
      height: PLOT_HEIGHT,
      mark: "bar",
      encoding: {
        x: { field: "distance", type: "ordinal", title: "LRU stack distance (blocks)", sort: { field: "order", op: "min" } },
        xOffset: { field: "granularity", type: "nominal" },
        y: { field: "references", type: "quantitative", title: "references" },
        color: { field: "granularity", type: "nominal", title: "block" },
      },
    },
    "miss-ratio": {
      ...BASE,
      data: { values: curve },
      width: PLOT_WIDTH,
      height: PLOT_HEIGHT,
      mark: { type: "line", point: true },
      encoding: {
        x: { field: "sizeBytes", type: "quantitative", title: "fully associative LRU cache size (bytes)", scale: { type: "log", base: 2 } },
        y: { field: "missRatio", type: "quantitative", title: "miss ratio", scale: { domain: [0, 1] } },
        color: { field: "granularity", type: "nominal", title: "block" },
      },
    },
  };
}

/** Each chart as an SVG document (without an XML declaration, for inlining in HTML). */
export async function renderChartSvgs(figures: ReportFigures): Promise<Record<ChartName, string>> {
  const specs = chartSpecs(figures);
  const svgs = {} as Record<ChartName, string>;
  for (const name of CHART_NAMES) svgs[name] = await renderVegaLiteSvg(specs[name]);
  return svgs;
}

/** A vega-lite spec compiled and rendered to an SVG document by vega's headless renderer. */
export async function renderVegaLiteSvg(spec: Spec): Promise<string> {
  const { vega, vegaLite } = loadChartPackages();
  const view = new vega.View(vega.parse(vegaLite.compile(spec).spec), { renderer: "none" });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}
