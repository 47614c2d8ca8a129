/**
 * The region cache's policy (`memspace bench alloc-policy [--quick] [--json FILE]`; `npm run
 * bench:alloc-policy`): the bench alloc workloads that make large blocks (the others never
 * reach the region cache), each on the memspace Heap with every fixed policy of a grid of
 * slot counts and age limits, and with the adaptive policy (HeapOptions.cachePolicy,
 * src/alloc/heap/region-cache.ts). Each run is a fresh process (bench/alloc/child.ts: a
 * warm-up run, then timed runs, whose median counts); rounds interleave the policies, and
 * each figure is the median over rounds. Per workload: the default fixed policy (16 slots,
 * 100,000 operations), the best fixed one of the grid, and adaptive.
 *
 * The best of a grid of noisy medians is biased low (the winner's curse: whichever policy
 * drew the quickest rounds wins), so the ratios are not taken from the sweep: the best
 * fixed policy, the default and adaptive then run head to head in rounds of their own, and
 * each ratio is the median of its per-round ratios, with their range.
 */
import { DEFAULT_CACHE_AGE_OPS, DEFAULT_CACHE_SLOTS } from "../src/alloc/heap/heap-options.js";
import type { ChildJob, Sample } from "./alloc/job.js";
import { SLOW_RUN_BUDGET_SECONDS } from "./alloc/job.js";
import type { Workload } from "./alloc/workloads.js";
import { runChild } from "./harness/child.js";
import { benchCommand, countList, jsonOption, namesOption, positiveIntegerOption, quickOption, benchMain, valueOption } from "./harness/options.js";
import { progress, report, reportTable, writeJsonDocument } from "./harness/output.js";
import { formatRoundRatios, median, ratioFigures, roundRatios, RoundSamples, roundSchedule, type RoundRatioFigures } from "./harness/rounds.js";

const CHILD_SCRIPT = new URL("./alloc/child.js", import.meta.url);
/** The bench alloc workloads with large blocks (over 256 KiB), which the region cache keeps. */
const LARGE_BLOCK_WORKLOADS = ["mixed", "realloc-grow", "cycle-1m", "vm"] as const satisfies readonly Workload[];

interface Policy {
  name: string;
  cacheOptions: NonNullable<ChildJob["cacheOptions"]>;
}

const DEFAULT_POLICY_NAME = `fixed ${DEFAULT_CACHE_SLOTS}/${DEFAULT_CACHE_AGE_OPS}`;

function policies(slotCounts: number[], ageLimits: number[]): Policy[] {
  const fixed = slotCounts.flatMap((cacheSlots) => ageLimits.map((cacheAgeOps) => ({ name: `fixed ${cacheSlots}/${cacheAgeOps}`, cacheOptions: { cachePolicy: "fixed" as const, cacheSlots, cacheAgeOps } })));
  if (!fixed.some((policy) => policy.name === DEFAULT_POLICY_NAME)) {
    fixed.push({ name: DEFAULT_POLICY_NAME, cacheOptions: { cachePolicy: "fixed", cacheSlots: DEFAULT_CACHE_SLOTS, cacheAgeOps: DEFAULT_CACHE_AGE_OPS } });
  }
  return [...fixed, { name: "adaptive", cacheOptions: { cachePolicy: "adaptive" } }];
}

export interface AllocPolicyRecord {
  workload: string;
  policy: string;
  /** Median over rounds. */
  nsPerOp: number;
  peakFootprintBytes: number | null;
}

export interface AllocPolicySummary {
  workload: string;
  /** The sweep's best fixed policy; the figures below are from the head-to-head rounds. */
  bestFixed: string;
  defaultNsPerOp: number;
  bestFixedNsPerOp: number;
  adaptiveNsPerOp: number;
  adaptiveOverBest: RoundRatioFigures;
  adaptiveOverDefault: RoundRatioFigures;
}

export interface AllocPolicyBenchOptions {
  workloads: string[];
  slots: number[];
  ages: number[];
  scale: number;
  runs: number;
  rounds: number;
  headToHeadRounds: number;
  json?: string;
}

function childJob(workload: Workload, policy: Policy, options: AllocPolicyBenchOptions): ChildJob {
  return { workload, allocator: "memspace", scale: options.scale, runs: options.runs, blockCache: true, cacheOptions: policy.cacheOptions, slowBudgetSeconds: SLOW_RUN_BUDGET_SECONDS };
}

export async function runAllocPolicyBench(options: AllocPolicyBenchOptions): Promise<{ records: AllocPolicyRecord[]; summaries: AllocPolicySummary[] }> {
  const grid = policies(options.slots, options.ages);
  const configurations = options.workloads.flatMap((workload) => grid.map((policy) => ({ workload: workload as Workload, policy })));
  const samples = new RoundSamples<Sample>();
  for (const { contestant: { workload, policy } } of roundSchedule(configurations, { rounds: options.rounds, alternate: true })) {
    samples.add(`${workload}/${policy.name}`, runChild<ChildJob, Sample>(CHILD_SCRIPT, childJob(workload, policy, options)));
    progress.step();
  }
  const records: AllocPolicyRecord[] = configurations.map(({ workload, policy }) => {
    const runs = samples.get(`${workload}/${policy.name}`);
    const footprints = runs.map((run) => run.peakFootprintBytes).filter((bytes): bytes is number => bytes !== null);
    return { workload, policy: policy.name, nsPerOp: 1e9 / median(runs.map((run) => run.opsPerSec)), peakFootprintBytes: footprints.length === 0 ? null : median(footprints) };
  });
  // Head to head: per workload the sweep's best fixed policy, the default and adaptive.
  const finalists = options.workloads.flatMap((workload) => {
    const fixed = records.filter((record) => record.workload === workload && record.policy !== "adaptive");
    const best = fixed.reduce((a, b) => (b.nsPerOp < a.nsPerOp ? b : a)).policy;
    const names = [...new Set([best, DEFAULT_POLICY_NAME, "adaptive"])];
    return names.map((name) => ({ workload: workload as Workload, policy: grid.find((policy) => policy.name === name)!, best }));
  });
  const headToHead = new RoundSamples<Sample>();
  for (const { contestant: { workload, policy } } of roundSchedule(finalists, { rounds: options.headToHeadRounds, alternate: true })) {
    headToHead.add(`${workload}/${policy.name}`, runChild<ChildJob, Sample>(CHILD_SCRIPT, childJob(workload, policy, options)));
    progress.step();
  }
  progress.done();
  const summaryRows: string[][] = [];
  const summaries = options.workloads.map((workload): AllocPolicySummary => {
    const best = finalists.find((finalist) => finalist.workload === workload)!.best;
    const nsPerOp = (name: string): number[] => headToHead.get(`${workload}/${name}`).map((sample) => 1e9 / sample.opsPerSec);
    const overBest = roundRatios(nsPerOp("adaptive"), nsPerOp(best));
    const overDefault = roundRatios(nsPerOp("adaptive"), nsPerOp(DEFAULT_POLICY_NAME));
    const summary = {
      workload,
      bestFixed: best,
      defaultNsPerOp: median(nsPerOp(DEFAULT_POLICY_NAME)),
      bestFixedNsPerOp: median(nsPerOp(best)),
      adaptiveNsPerOp: median(nsPerOp("adaptive")),
      adaptiveOverBest: ratioFigures(overBest)!,
      adaptiveOverDefault: ratioFigures(overDefault)!,
    };
    summaryRows.push([workload, summary.defaultNsPerOp.toFixed(1), best, summary.bestFixedNsPerOp.toFixed(1), summary.adaptiveNsPerOp.toFixed(1), formatRoundRatios(overBest), formatRoundRatios(overDefault)]);
    return summary;
  });
  const mib = (bytes: number | null): string => (bytes === null ? "-" : (bytes / 2 ** 20).toFixed(1));
  report.write(`fixed policies: slots/age (large-block operations); ns an op (loop included) and peak footprint, median of ${options.rounds} rounds\n`);
  reportTable(
    ["workload", "policy", "ns/op", "peak footprint MiB"],
    records.map((record) => [record.workload, record.policy, record.nsPerOp.toFixed(1), mib(record.peakFootprintBytes)]),
  );
  report.write(`head to head: the sweep's best fixed policy, the default and adaptive, ${options.headToHeadRounds} rounds; ns an op, median; time ratios, median of each round's (range)\n`);
  reportTable(
    ["workload", "default fixed ns/op", "best fixed", "ns/op", "adaptive ns/op", "adaptive / best fixed", "adaptive / default"],
    summaryRows,
  );
  if (options.json !== undefined) writeJsonDocument(options.json, { records, summaries });
  return { records, summaries };
}

const command = benchCommand("alloc-policy")
  .addOption(quickOption())
  .addOption(namesOption("workloads", "workloads to run, comma-separated", LARGE_BLOCK_WORKLOADS))
  .addOption(valueOption("--slots <list>", "the fixed policies' region-cache slot counts, comma-separated", (text) => countList("--slots", text), { normal: [0, 4, 16, 64], quick: [0, 16] }))
  .addOption(valueOption("--ages <list>", "the fixed policies' age limits in large-block operations, comma-separated", (text) => countList("--ages", text), { normal: [1_000, 100_000, 10_000_000], quick: [100_000] }))
  .addOption(positiveIntegerOption("scale", "workload size in steps, as bench alloc's", { normal: 500_000, quick: 20_000 }))
  .addOption(positiveIntegerOption("runs", "timed runs a process (after a warm-up run); their median counts", { normal: 5, quick: 1 }))
  .addOption(positiveIntegerOption("rounds", "rounds over every policy, interleaved; each figure is their median", { normal: 3, quick: 1 }))
  .addOption(positiveIntegerOption("head-to-head-rounds", "rounds of the best fixed policy, the default and adaptive against each other, after the sweep", { normal: 7, quick: 1 }))
  .addOption(jsonOption());

await benchMain(import.meta.url, command, runAllocPolicyBench);
