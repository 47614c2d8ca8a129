/**
 * The report page: one self-contained HTML file. The charts are inline SVG, drawn when the
 * report is written; the page has no script and its Content-Security-Policy forbids every
 * fetch, so it opens offline, from a file, in any browser, and shows the same figures as
 * `--json`.
 */
import type { ChartName } from "./charts.js";
import type { HotBlock, ReportFigures, ReportHeadline } from "./figures.js";

/** The headline's figures, in the order shown, with their labels. */
const HEADLINE_LABELS: ReadonlyArray<[keyof ReportHeadline, string]> = [
  ["ops", "ops"],
  ["reads", "reads"],
  ["writes", "writes"],
  ["fetches", "fetches"],
  ["distinctPages", "distinct pages"],
  ["distinctLines", "distinct lines"],
  ["footprintBytes", "footprint (bytes)"],
];

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; }
h2 { font-size: 1.15em; margin-top: 2em; border-bottom: 1px solid #ddd; }
.source { color: #555; margin-top: 0; }
.headline { display: flex; flex-wrap: wrap; gap: 0.5em 2em; margin: 1.5em 0; }
.headline div { min-width: 9em; }
.headline dt { color: #555; font-size: 0.85em; }
.headline dd { margin: 0; font-size: 1.4em; font-variant-numeric: tabular-nums; }
figure.chart { margin: 0.5em 0; overflow-x: auto; }
.tables { display: flex; flex-wrap: wrap; gap: 2em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 0.15em 0.8em; text-align: right; }
th { border-bottom: 1px solid #aaa; }
td:first-child, th:first-child { text-align: left; font-family: ui-monospace, monospace; }
`;

const NUMBER = new Intl.NumberFormat("en-US");

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}

function percent(share: number): string {
  return `${(share * 100).toFixed(2)}%`;
}

function chart(name: ChartName, svgs: Record<ChartName, string>): string {
  return `<figure class="chart" data-chart="${name}">${svgs[name]}</figure>`;
}

function hotTable(name: string, caption: string, rows: HotBlock[]): string {
  const body = rows.map((row) => `<tr><td>${row.address}</td><td>${NUMBER.format(row.references)}</td><td>${percent(row.share)}</td></tr>`).join("\n");
  return `<table data-table="${name}"><caption>${caption}</caption>\n<thead><tr><th>address</th><th>references</th><th>share</th></tr></thead>\n<tbody>\n${body}\n</tbody></table>`;
}

/** The report page of `figures`, with the charts `svgs` (renderChartSvgs) inline. */
export function renderReportHtml(figures: ReportFigures, svgs: Record<ChartName, string>): string {
  const name = escapeHtml(figures.trace);
  const headline = HEADLINE_LABELS.map(([key, label]) => `<div><dt>${label}</dt><dd data-figure="${key}">${NUMBER.format(figures.headline[key])}</dd></div>`).join("\n");
  const { page, line } = figures.reuse;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>memspace trace report: ${name}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>Trace report: ${name}</h1>
<p class="source">${escapeHtml(figures.format)} input; ${figures.pageSizeBytes}-byte pages, ${figures.lineSizeBytes}-byte lines; ${NUMBER.format(figures.opsPerBucket)} ops per time bucket. Written by memspace trace report.</p>
<dl class="headline">
${headline}
</dl>
<section id="heat-map">
<h2>Page heat map</h2>
<p>References to the ${figures.heatMap.pages.length} hottest pages (in address order) per time bucket; colour on a log scale, blank where none.</p>
${chart("heat-map", svgs)}
</section>
<section id="working-set">
<h2>Working set over time</h2>
<p>Distinct pages touched in each window of ${NUMBER.format(figures.opsPerBucket)} ops.</p>
${chart("working-set", svgs)}
</section>
<section id="mix">
<h2>Access kinds and widths</h2>
${chart("mix", svgs)}
</section>
<section id="reuse">
<h2>Reuse distance</h2>
<p>Exact LRU stack distances: ${NUMBER.format(page.references)} page references to ${NUMBER.format(page.footprintBlocks)} pages, ${NUMBER.format(line.references)} line references to ${NUMBER.format(line.footprintBlocks)} lines.</p>
${chart("reuse-histogram", svgs)}
<h2>Miss-ratio curve</h2>
<p>Misses (first touches included) of a fully associative LRU cache of each size.</p>
${chart("miss-ratio", svgs)}
</section>
<section id="hottest">
<h2>Hottest pages and lines</h2>
<div class="tables">
${hotTable("hottest-pages", `hottest ${figures.pageSizeBytes}-byte pages`, figures.hottestPages)}
${hotTable("hottest-lines", `hottest ${figures.lineSizeBytes}-byte lines`, figures.hottestLines)}
</div>
</section>
</body>
</html>
`;
}
