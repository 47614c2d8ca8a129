/**
 * Analyses in parts (`memspace bench parts`): `memspace trace stats`, `report`, `reuse` and
 * `cache` over an ExecBlock-shaped v2 trace of 200M ops (about 400 MB; 2.1 GB as seed), each
 * with `--workers` 0 (one pass on one thread), 1 (one pass with a decode worker) and 2 (two
 * parts merged), as whole processes: the time a user waits.
 *
 * Each run is a fresh process; contestants are interleaved within each round after a warm-up
 * round (which also reads the trace into the page cache). The table gives the median time and
 * each contestant's time over `--workers 1`'s and `--workers 0`'s of the same analysis, as the
 * median over rounds of each round's ratio. Every run's JSON output must equal that of
 * `--workers 0`: parts are exact, and the bench checks it.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { formatNumber } from "../src/cli/table.js";
import { generateTrace } from "../src/trace/generators.js";
import { benchCommand, countList, jsonOption, positiveIntegerOption, quickOption, benchMain, valueOption, namesOption } from "./harness/options.js";
import { report, reportTable, writeJsonDocument } from "./harness/output.js";
import { formatRoundRatios, median, ratioFigures, RoundSamples, roundRatios, roundSchedule, type RoundRatioFigures } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

const CLI_BUNDLE = fileURLToPath(new URL("../src/cli/memspace.cjs", import.meta.url));
const EXECBLOCK_OPS = 200_000_000;
const NANOSECONDS_PER_MS = 1e6;
/** The analyses, each a `memspace trace` subcommand. */
const ANALYSES = ["stats", "report", "reuse", "cache"] as const;
type Analysis = (typeof ANALYSES)[number];

export interface PartsBenchOptions {
  execblockOps: number;
  rounds: number;
  /** `--workers` values to run each analysis with; 0 and 1 are the baselines and always run. */
  workers: number[];
  analyses: Analysis[];
  json?: string;
}

export interface PartsBenchRow {
  analysis: Analysis;
  workers: number;
  medianMs: number;
  /** This run's time over `--workers 1`'s, per round. */
  overOnePassWithDecoder: RoundRatioFigures | null;
  /** This run's time over `--workers 0`'s, per round. */
  overOneThread: RoundRatioFigures | null;
}

interface Contestant {
  name: string;
  analysis: Analysis;
  workers: number;
}

/** Runs one analysis in a fresh process; returns its wall time and its JSON output. */
function runAnalysis(folder: string, trace: string, { analysis, workers }: Contestant): { milliseconds: number; output: unknown } {
  const json = join(folder, `${analysis}-${workers}.json`);
  const extra = analysis === "report" ? ["-o", join(folder, `report-${workers}.html`)] : [];
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, [CLI_BUNDLE, "trace", analysis, trace, "--workers", String(workers), "--json", json, ...extra], { stdio: ["ignore", "ignore", "pipe"] });
  const milliseconds = Number(process.hrtime.bigint() - start) / NANOSECONDS_PER_MS;
  if (child.status !== 0) throw new Error(`memspace trace ${analysis} --workers ${workers} exited with ${child.status}: ${child.stderr.toString().trim()}`);
  const output = JSON.parse(readFileSync(json, "utf8")) as Record<string, unknown>;
  // The report names its HTML file, which differs by run.
  delete output.html;
  return { milliseconds, output };
}

export function runPartsBench(options: PartsBenchOptions): PartsBenchRow[] {
  return withScratchFolder("parts-bench", (folder) => {
    const trace = join(folder, "execblock.v2");
    report.write(`making an ExecBlock-shaped v2 trace of ${formatNumber(options.execblockOps)} ops...\n`);
    generateTrace("execblock", options.execblockOps, trace, { format: "v2" });
    report.write(`${(statSync(trace).size / (1 << 20)).toFixed(0)} MiB; warm-up round, then ${options.rounds} timed rounds\n`);
    const workerCounts = [...new Set([0, 1, ...options.workers])].sort((a, b) => a - b);
    const contestants: Contestant[] = options.analyses.flatMap((analysis) => workerCounts.map((workers) => ({ name: `${analysis} --workers ${workers}`, analysis, workers })));
    const samples = new RoundSamples<number>();
    const expected = new Map<Analysis, string>();
    for (const { contestant, timed } of roundSchedule(contestants, { rounds: options.rounds, warmUp: true, alternate: true })) {
      const { milliseconds, output } = runAnalysis(folder, trace, contestant);
      const text = JSON.stringify(output);
      if (!expected.has(contestant.analysis)) expected.set(contestant.analysis, text);
      if (expected.get(contestant.analysis) !== text) throw new Error(`${contestant.name} gave other figures than the first run of ${contestant.analysis}`);
      if (timed) samples.add(contestant.name, milliseconds);
    }
    const tableRows: (string | number)[][] = [];
    const rows = contestants.map((contestant): PartsBenchRow => {
      const times = samples.get(contestant.name);
      const over = (workers: number): number[] | null => (workers === contestant.workers ? null : roundRatios(times, samples.get(`${contestant.analysis} --workers ${workers}`)));
      const [overOne, overZero] = [over(1), over(0)];
      const shown = (ratios: number[] | null): string => (ratios === null ? "-" : formatRoundRatios(ratios));
      tableRows.push([contestant.analysis, contestant.workers, Math.round(median(times)), shown(overOne), shown(overZero)]);
      return { analysis: contestant.analysis, workers: contestant.workers, medianMs: median(times), overOnePassWithDecoder: ratioFigures(overOne), overOneThread: ratioFigures(overZero) };
    });
    reportTable(
      ["analysis", "--workers", "median ms", "time / --workers 1", "time / --workers 0"],
      tableRows,
      "\n(ratios: the median over rounds of each round's ratio, their range in brackets; every run's figures equal the first run's)\n",
    );
    if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, ops: options.execblockOps, rows });
    return rows;
  });
}

const command = benchCommand("parts")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("execblock-ops", "ops of the ExecBlock-shaped trace", { normal: EXECBLOCK_OPS, quick: 2_000_000 }))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 3, quick: 1 }))
  .addOption(valueOption("--workers <list>", "--workers values besides 0 and 1, comma-separated", (text) => countList("--workers", text), { normal: [2] }))
  .addOption(namesOption("analyses", "the analyses to run, comma-separated", ANALYSES))
  .addOption(jsonOption());

await benchMain(import.meta.url, command, runPartsBench);
