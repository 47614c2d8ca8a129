/**
 * Cache simulation speed (`memspace bench cache`): accesses per second of the three-level
 * simulation (I1, D1, LL as Cachegrind models them) over a Fib-shaped trace of the full 100M
 * ops, next to a noop replay of the same trace (the cost of decoding it), the same simulation
 * from the trace's v2 conversion with its chunks decoded on 0, 1 and 2 worker threads while the
 * simulation runs (`--workers`), and Cachegrind's own rate on a real program (a column walk
 * of a matrix), where valgrind and gcc are here.
 *
 * Each measurement is a fresh process; contestants are interleaved within each round after a
 * warm-up round, and the table shows the median of the timed rounds. Cachegrind's time is its
 * whole run (start-up and instrumentation included) over the references it counts.
 */
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { replayInFreshProcess } from "../src/cli/replay-command.js";
import { formatNumber } from "../src/cli/table.js";
import { CacheHierarchy } from "../src/trace/cache/hierarchy.js";
import { feedTrace } from "../src/trace/cache/inputs.js";
import { generateTrace } from "../src/trace/generators.js";
import { convertTrace } from "../src/trace/convert.js";
import { childJob, runChild, writeChildResult } from "./harness/child.js";
import { compileC } from "./harness/native.js";
import { benchCommand, countList, jsonOption, positiveIntegerOption, quickOption, runBenchMain, valueOption } from "./harness/options.js";
import { report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, RoundSamples, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

const FIB_OPS = 100_000_000;
/** The rate the simulator aims at, in million accesses per second. */
const TARGET_MILLION_PER_SEC = 50;
/** The geometry both simulators get (Cachegrind's x86 defaults would do too; explicit, so the host's caches do not matter). */
const GEOMETRY = { I1: "32768,8,64", D1: "32768,8,64", LL: "1048576,16,64" } as const;

/** Cachegrind's workload: a column-order walk over a row-major matrix, a D1 miss on most reads. */
const CACHEGRIND_PROGRAM = `#include <stdio.h>
#include <stdlib.h>
int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 512, rounds = argc > 2 ? atoi(argv[2]) : 4;
  double *a = malloc(sizeof(double) * n * n), sum = 0;
  for (int i = 0; i < n * n; i++) a[i] = i;
  for (int r = 0; r < rounds; r++)
    for (int j = 0; j < n; j++)
      for (int i = 0; i < n; i++) sum += a[(long)i * n + j];
  printf("%f\\n", sum);
  return 0;
}
`;

export interface CacheBenchOptions {
  fibOps: number;
  /** Column-walk rounds of Cachegrind's program (a 512 x 512 matrix, about 4M references a round). */
  cachegrindRounds: number;
  rounds: number;
  /** Decode-worker counts for the v2 input; empty leaves it out. */
  workers: number[];
  json?: string;
}

/** One line of the table. */
export interface CacheBenchRow {
  contestant: string;
  input: string;
  accesses: number;
  medianMs: number;
  millionAccessesPerSec: number;
}

interface Sample {
  accesses: number;
  milliseconds: number;
}

interface ChildJob {
  trace: string;
  /** v2 input: decode workers. */
  decodeWorkers?: number;
}

/** Child mode: simulate the trace once, print a sample. */
function simulateOnce({ trace, decodeWorkers }: ChildJob): void {
  const caches = new CacheHierarchy();
  const started = performance.now();
  const counts = feedTrace(trace, caches, { readAhead: "auto", decodeWorkers });
  writeChildResult({ accesses: counts.fetches + counts.reads + counts.writes, milliseconds: performance.now() - started } satisfies Sample);
}

type Contestant = { name: string; input: string; run: () => Sample };

/** Cachegrind on the compiled program, or null (said why) where valgrind or gcc is missing. */
function cachegrindContestant(folder: string, programRounds: number): Contestant | null {
  if (spawnSync("valgrind", ["--version"]).status !== 0) {
    reportSkipped("cachegrind", "valgrind is not on this machine");
    return null;
  }
  const source = join(folder, "column-walk.c");
  const binary = join(folder, "column-walk");
  writeFileSync(source, CACHEGRIND_PROGRAM);
  const problem = compileC(source, binary);
  if (problem !== null) {
    reportSkipped("cachegrind", `gcc cannot build its program: ${problem}`);
    return null;
  }
  const log = join(folder, "cachegrind.log");
  const args = ["--tool=cachegrind", "--cache-sim=yes", `--I1=${GEOMETRY.I1}`, `--D1=${GEOMETRY.D1}`, `--LL=${GEOMETRY.LL}`, "--cachegrind-out-file=/dev/null", `--log-file=${log}`];
  return {
    name: "cachegrind",
    input: `column walk 512x512 x${programRounds}`,
    run() {
      const started = performance.now();
      const child = spawnSync("valgrind", [...args, binary, "512", String(programRounds)], { stdio: "ignore" });
      const milliseconds = performance.now() - started;
      if (child.status !== 0) throw new Error(`cachegrind exited with ${child.status}`);
      const text = readFileSync(log, "utf8");
      const count = (label: string): number => Number(new RegExp(`${label}\\s+([\\d,]+)`).exec(text)![1].replace(/,/g, ""));
      return { accesses: count("I   refs:") + count("D   refs:"), milliseconds };
    },
  };
}

export function runCacheBench(options: CacheBenchOptions): CacheBenchRow[] {
  return withScratchFolder("cache-bench", (folder) => {
    const trace = join(folder, "fib.trace");
    report.write(`making a Fib-shaped trace of ${formatNumber(options.fibOps)} ops...\n`);
    generateTrace("fib", options.fibOps, trace);
    const input = `fib-shaped ${(statSync(trace).size / (1 << 20)).toFixed(0)} MiB`;
    const contestants: Contestant[] = [
      { name: "memspace cache I1/D1/LL", input, run: () => runChild<ChildJob, Sample>(import.meta.url, { trace }) },
      {
        name: "replay noop (decoding only)",
        input,
        run: () => {
          const row = replayInFreshProcess(trace, "noop");
          return { accesses: row.ops, milliseconds: row.milliseconds };
        },
      },
    ];
    const v2Trace = join(folder, "fib.v2");
    convertTrace(trace, v2Trace, "v2");
    for (const decodeWorkers of options.workers) {
      contestants.push({
        name: `memspace cache, v2 input, ${decodeWorkers} decode worker${decodeWorkers === 1 ? "" : "s"}`,
        input: `fib-shaped v2 ${(statSync(v2Trace).size / (1 << 20)).toFixed(1)} MiB`,
        run: () => runChild<ChildJob, Sample>(import.meta.url, { trace: v2Trace, decodeWorkers }),
      });
    }
    const cachegrind = cachegrindContestant(folder, options.cachegrindRounds);
    if (cachegrind !== null) contestants.push(cachegrind);
    const samples = new RoundSamples<Sample>();
    for (const { contestant, timed } of roundSchedule(contestants, { rounds: options.rounds, warmUp: true, alternate: true })) {
      const sample = contestant.run();
      if (timed) samples.add(contestant.name, sample);
    }
    const rows = contestants.map((contestant): CacheBenchRow => {
      const medianMs = median(samples.get(contestant.name).map((sample) => sample.milliseconds));
      const accesses = samples.get(contestant.name)[0].accesses;
      return { contestant: contestant.name, input: contestant.input, accesses, medianMs, millionAccessesPerSec: accesses / medianMs / 1e3 };
    });
    reportTable(
      ["contestant", "input", "accesses", "median ms", "M accesses/s"],
      rows.map((row) => [row.contestant, row.input, row.accesses, Math.round(row.medianMs), row.millionAccessesPerSec]),
    );
    const ours = rows[0].millionAccessesPerSec;
    report.write(`target ${TARGET_MILLION_PER_SEC} M accesses/s: ${ours >= TARGET_MILLION_PER_SEC ? "reached" : "not reached"} (${ours.toFixed(1)})\n`);
    if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, targetMillionAccessesPerSec: TARGET_MILLION_PER_SEC, rows });
    return rows;
  });
}

const command = benchCommand("cache")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("fib-ops", "ops of the Fib-shaped trace", { normal: FIB_OPS, quick: 2_000_000 }))
  .addOption(positiveIntegerOption("cachegrind-rounds", "column-walk rounds of Cachegrind's program (about 4M references each)", { normal: 16, quick: 1 }))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 3, quick: 1 }))
  .addOption(valueOption("--workers <list>", "decode-worker counts of the v2 input, comma-separated; none leaves it out", (text) => countList("--workers", text), { normal: [0, 1, 2], quick: [1] }))
  .addOption(jsonOption());

const job = childJob<ChildJob>();
if (job !== undefined) simulateOnce(job);
else await runBenchMain(command, runCacheBench);
