/**
 * Allocator benchmark (`memspace bench alloc [--quick] [--json FILE]`): each workload of
 * bench/alloc/workloads.ts replayed by the memspace Heap and @thi.ng/malloc's MemPool (same
 * buffer size, each in a fresh process: one allocator replays a warm-up run, then the timed
 * runs, whose median counts; every allocator measured once a round, a few rounds interleaved,
 * the median over rounds reported),
 * and by glibc, mimalloc and jemalloc through a small C driver (bench/native/alloc-driver.c;
 * mimalloc and jemalloc by LD_PRELOAD of Debian's libmimalloc2.0 and libjemalloc2, which
 * bench/setup-alloc.sh installs; skipped with a message where missing).
 *
 * Beside them, each replay loop (the JS one and the C driver's) with an allocator that does
 * nothing: the loop's own cost per op, which the table subtracts to show what each allocator
 * adds (`netNsPerOp`). The JS loop still costs more than the C one (a bounds check on every
 * typed-array access and a check of each call's target: on tiny-churn about 6 ns an op
 * against about 4), though it reaches its arrays as constants
 * (LoopMemory, bench/alloc/replay-loop.ts).
 *
 * Figures: ops/s, peak footprint and the workload's peak live bytes (requested sizes). The
 * footprint is what the kernel counts resident for every allocator alike: for the native
 * ones the driver's peak RSS above its baseline, for the JS ones the resident bytes of their
 * backing buffer (bench/resident.ts). The JS allocators' own accounting is reported too
 * (`accountedFootprintBytes`: the Heap's pages in use with their metadata, whole 16 KiB
 * pages even where a span's blocks were never handed out; MemPool's top).
 */
import { BenchOptionError, benchCommand, jsonOption, knownNames, positiveInteger, positiveIntegerOption, positiveNumber, quickOption, benchMain, valueOption } from "./harness/options.js";
import { report, JSON_TO_STDOUT, writeJsonDocument } from "./harness/output.js";
import { ALLOCATORS } from "./alloc/contestants.js";
import { SLOW_RUN_BUDGET_SECONDS } from "./alloc/job.js";
import type { AllocBenchRecord } from "./alloc/record.js";
import { reportAllocTable, writeChartAtomic } from "./alloc/report.js";
import { availableJsAllocators, measureAllocators, type AllocBenchOptions } from "./alloc/run.js";
import { WORKLOADS } from "./alloc/workloads.js";

export type { AllocBenchOptions };

export async function runAllocBench(options: AllocBenchOptions): Promise<AllocBenchRecord[]> {
  const chosen = (name: string): boolean => name === "memspace" || options.allocators === undefined || options.allocators.includes(name);
  const jsAllocators = await availableJsAllocators(chosen, options.allocators !== undefined);
  const chart = options.chart ?? (options.json === undefined || options.json === JSON_TO_STDOUT ? undefined : options.json.replace(/(\.json)?$/, ".svg"));
  const measurements = measureAllocators(options, jsAllocators, chosen);
  reportAllocTable(measurements);
  if (options.json !== undefined) writeJsonDocument(options.json, measurements.records);
  if (chart !== undefined) await writeChartAtomic(measurements.records, chart);
  return measurements.records;
}

function chartPath(text: string): string {
  if (text === JSON_TO_STDOUT) throw new BenchOptionError("--chart needs a file name (the SVG does not go to stdout)");
  return text;
}

const command = benchCommand("alloc")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("scale", "workload size in steps (larson, alloc-test: a block replaced a step)", { normal: 500_000, quick: 50_000 }))
  .addOption(positiveIntegerOption("runs", "timed runs in each measurement, after a warm-up run", { normal: 3, quick: 1 }))
  .addOption(positiveIntegerOption("rounds", "measurements of every allocator, interleaved; each figure is their median", { normal: 3, quick: 1 }))
  .addOption(valueOption("--workloads <names>", `the workloads (known: ${WORKLOADS.join(", ")}; default: all)`, (text) => knownNames("workloads", text, WORKLOADS)))
  // No default list: naming thi.ng where its package is missing is an error, the default leaves it out with a note.
  .addOption(valueOption("--allocators <names>", `the allocators to compare with memspace (known: ${ALLOCATORS.join(", ")}; default: all)`, (text) => knownNames("allocators", text, ALLOCATORS)))
  .addOption(valueOption("--slots <n>", "the live set of larson and alloc-test, in blocks (default: each workload's own)", (text) => positiveInteger("slots", text, 0)))
  .addOption(valueOption("--budget <seconds>", "how long @thi.ng/malloc's timed run may take", (text) => positiveNumber("budget", text), { normal: SLOW_RUN_BUDGET_SECONDS }))
  .option("--no-block-cache", "memspace without its free-block cache (default: with it)")
  .addOption(jsonOption())
  .addOption(valueOption("--chart <file>", "write the SVG chart to FILE, atomically (default: beside the --json file, as .svg, unless that is -)", chartPath));

interface AllocCommandOptions extends Omit<AllocBenchOptions, "liveSlots" | "slowBudgetSeconds"> {
  slots?: number;
  budget: number;
}

await benchMain(import.meta.url, command, ({ slots, budget, ...options }: AllocCommandOptions) => runAllocBench({ ...options, liveSlots: slots, slowBudgetSeconds: budget }));
