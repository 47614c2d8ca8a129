import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath, pathToFileURL } from "node:url";
import { CHART_NAMES } from "../../src/trace/report/charts.js";
import type { ReportFigures } from "../../src/trace/report/figures.js";
import { TraceWriter } from "../../src/trace/writer.js";
import { withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));
/** Debian's chromium: scripts/setup-guests.sh installs it, so CI always has it. */
const CHROMIUM = "/usr/bin/chromium";
const CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

function memspace(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A trace of `ops` reads and writes strided over `pages` pages. */
function writeTrace(path: string, ops: number, pages: number): void {
  const writer = new TraceWriter(path);
  for (let op = 0; op < ops; op++) {
    const address = 0x40000 + (op % pages) * 4096 + ((op * 72) % 4096);
    if (op % 3 === 0) writer.write(address, 0, 8, op, 0);
    else writer.read(address, 0, op % 2 === 0 ? 4 : 2);
  }
  writer.close();
}

describe("memspace trace report", () => {
  it("writes the HTML report and, with --json, the figures it shows", () => {
    withTempDir((folder) => {
      const trace = join(folder, "t.trace");
      writeTrace(trace, 3000, 5);
      const html = join(folder, "report.html");
      const json = join(folder, "report.json");
      const run = memspace("trace", "report", trace, "-o", html, "--json", json, "--top", "3", "--time-buckets", "8");
      assert.equal(run.status, 0, run.stderr);
      assert.match(run.stdout, /^wrote .*report\.html: 3,000 ops, 5 pages, /);
      const figures = JSON.parse(readFileSync(json, "utf8")) as ReportFigures;
      assert.deepEqual(figures.headline, { ops: 3000, reads: 2000, writes: 1000, fetches: 0, distinctPages: 5, distinctLines: figures.reuse.line.footprintBlocks, footprintBytes: 5 * 4096 });
      assert.equal(figures.hottestPages.length, 3);
      assert.equal(figures.opsPerBucket, 512);
      const page = readFileSync(html, "utf8");
      for (const name of CHART_NAMES) assert.match(page, new RegExp(`<figure class="chart" data-chart="${name}"><svg`));
      assert.doesNotMatch(page, /<script|https?:\/\/(?!www\.w3\.org|vega\.github\.io)/, "no script and no fetched resource");
      // --json - puts the figures on stdout, the summary line on stderr.
      const piped = memspace("trace", "report", trace, "-o", html, "--json", "-", "--top", "3", "--time-buckets", "8");
      assert.equal(piped.status, 0, piped.stderr);
      assert.deepEqual(JSON.parse(piped.stdout), figures);
      assert.match(piped.stderr, /^wrote /);
    });
  });

  it("refuses to overwrite its input, and names the file or option at fault", () => {
    withTempDir((folder) => {
      const trace = join(folder, "t.trace");
      writeTrace(trace, 100, 2);
      const sizeBytes = statSync(trace).size;
      const alias = memspace("trace", "report", trace, "-o", trace);
      assert.equal(alias.status, 1);
      assert.match(alias.stderr, /t\.trace: is the same file as the input .*t\.trace; refusing to overwrite an input/);
      const jsonAlias = memspace("trace", "report", trace, "-o", join(folder, "r.html"), "--json", trace);
      assert.equal(jsonAlias.status, 1);
      assert.equal(statSync(trace).size, sizeBytes);
      assert.ok(!existsSync(join(folder, "r.html")), "nothing written when refused");
      const missing = memspace("trace", "report", join(folder, "none.trace"), "-o", join(folder, "r.html"));
      assert.equal(missing.status, 1);
      assert.match(missing.stderr, /none\.trace/);
      const badPage = memspace("trace", "report", trace, "-o", join(folder, "r.html"), "--page-size", "3000");
      assert.equal(badPage.status, 2);
      assert.match(badPage.stderr, /--page-size 3000: not a power of two/);
      const badBuckets = memspace("trace", "report", trace, "-o", join(folder, "r.html"), "--time-buckets", "7");
      assert.equal(badBuckets.status, 2);
      assert.match(badBuckets.stderr, /--time-buckets 7/);
    });
  });

  it("opens offline in headless chromium: no console error, no request, every chart drawn, the headline as --json", async (t) => {
    if (!existsSync(CHROMIUM)) {
      // CI installs chromium (scripts/setup-guests.sh): there its absence is a failure.
      assert.ok(!process.env.CI, `${CHROMIUM} is missing; scripts/setup-guests.sh installs it`);
      t.skip(`${CHROMIUM} is not installed (scripts/setup-guests.sh installs it)`);
      return;
    }
    const { chromium } = await import("playwright-core");
    await withTempDirAsync(async (dir) => {
      const trace = join(dir, "t.trace");
      writeTrace(trace, 20_000, 40);
      const html = join(dir, "report.html");
      const json = join(dir, "report.json");
      const run = memspace("trace", "report", trace, "-o", html, "--json", json);
      assert.equal(run.status, 0, run.stderr);
      const figures = JSON.parse(readFileSync(json, "utf8")) as ReportFigures;

      const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
      try {
        const context = await browser.newContext({ offline: true });
        const requests: string[] = [];
        const problems: string[] = [];
        // Only the report itself may load; anything else is aborted and reported.
        await context.route("**/*", (route) => (route.request().url() === pathToFileURL(html).href ? route.continue() : route.abort()));
        const page = await context.newPage();
        page.on("request", (request) => requests.push(request.url()));
        page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
        page.on("console", (message) => {
          if (message.type() === "error" || message.type() === "warning") problems.push(`console ${message.type()}: ${message.text()}`);
        });
        page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
        await page.goto(pathToFileURL(html).href, { waitUntil: "load" });

        const charts = await page.evaluate(() =>
          [...document.querySelectorAll("figure.chart")].map((figure) => ({
            name: figure.getAttribute("data-chart"),
            marks: [...figure.querySelectorAll("svg g.role-mark path")].filter((path) => (path.getAttribute("d") ?? "") !== "").length,
            widthPixels: figure.querySelector("svg")?.getBoundingClientRect().width ?? 0,
          })),
        );
        assert.deepEqual(charts.map((chart) => chart.name), [...CHART_NAMES]);
        for (const chart of charts) {
          assert.ok(chart.marks > 0, `${chart.name} draws marks`);
          assert.ok(chart.widthPixels > 100, `${chart.name} is laid out (${chart.widthPixels} px wide)`);
        }
        // The heat map: one rect per non-empty cell of the hottest pages.
        assert.equal(charts[0].marks, figures.heatMap.cells.length);

        const shown = await page.evaluate(() => Object.fromEntries([...document.querySelectorAll("dd[data-figure]")].map((dd) => [dd.getAttribute("data-figure"), dd.textContent])));
        const headline = Object.fromEntries(Object.entries(shown).map(([key, text]) => [key, Number(String(text).replaceAll(",", ""))]));
        assert.deepEqual(headline, figures.headline);
        const hottest = await page.evaluate(() => [...document.querySelectorAll('table[data-table="hottest-pages"] tbody tr')].map((row) => [...row.children].map((cell) => cell.textContent)));
        assert.deepEqual(
          hottest.map(([address, references]) => [address, Number(String(references).replaceAll(",", ""))]),
          figures.hottestPages.map((block) => [block.address, block.references]),
        );
        assert.deepEqual(problems, []);
        assert.deepEqual(requests, [pathToFileURL(html).href]);
      } finally {
        await browser.close();
      }
    });
  });
});

/** withTempDir for an async body: the folder goes when the body has settled. */
async function withTempDirAsync(body: (folder: string) => Promise<void>): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), "memspace-test-"));
  try {
    await body(folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
