/**
 * Allocators across threads (`memspace bench alloc-threads [--quick] [--json FILE]`;
 * `npm run bench:alloc-threads`): the workloads of alloc-threads-workloads.ts (larson with
 * remote frees; Hoard's cache-thrash and cache-scratch, false sharing; xmalloc, producer
 * and consumer frees) on 1 and 2 threads, each on:
 * - the memspace Heap on one SharedArrayBuffer, worker threads (per-worker spans, remote
 *   frees through atomic inboxes), and the same Heap with one mutex held around every call
 *   (the design before per-worker spans);
 * - glibc's malloc, and mimalloc and jemalloc by LD_PRELOAD, on POSIX threads in a C driver
 *   (bench/native/alloc-threads-driver.c; `bash bench/setup-alloc.sh` installs them).
 * Every run is fresh workers (a fresh process for the C driver); rounds interleave the
 * contestants, and each figure is the median over rounds. The time of a run is its slowest
 * thread's; each thread does the same work whatever the thread count, so on as many cores
 * as threads a run of 2 ideally takes what a run of 1 takes.
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Heap } from "../src/alloc/heap/heap.js";
import { parseDecimalNumber } from "../src/util/parse-number.js";
import { Control, type AllocThreadsInput, type AllocThreadsResult } from "./alloc-threads-worker.js";
import { driverArguments, THREAD_WORKLOADS, threadWorkloadParameters, type ThreadRunResult, type ThreadWorkload, type ThreadWorkloadParameters } from "./alloc-threads-workloads.js";
import { NATIVE } from "./alloc/contestants.js";
import { runJsonProcess } from "./harness/child.js";
import { compileC } from "./harness/native.js";
import { benchCommand, BenchOptionError, jsonOption, namesOption, positiveIntegerOption, quickOption, benchMain, valueOption } from "./harness/options.js";
import { progress, report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, RoundSamples, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";
import { ControlWords, controlBuffer, runWorkers } from "./harness/threads.js";

const HEAP_BYTES = 256 << 20;
const WORKER_COUNTS = [1, 2];
const DRIVER_SOURCE = resolve(fileURLToPath(import.meta.url), "../../../bench/native/alloc-threads-driver.c");

const JS_HEAPS = [
  { name: "memspace", locked: false },
  { name: "memspace-locked", locked: true },
] as const;
export const THREAD_ALLOCATORS = [...JS_HEAPS.map((heap) => heap.name), ...NATIVE.map((native) => native.name)];

export interface AllocThreadsRecord {
  workload: ThreadWorkload;
  allocator: string;
  workers: number;
  /** The slowest thread's timed run, ms (median over rounds). */
  elapsedMs: number;
  /** Heap calls of all threads over that time. */
  opsPerSec: number;
}

async function measureJs(workload: ThreadWorkload, parameters: ThreadWorkloadParameters, locked: boolean, workers: number): Promise<ThreadRunResult> {
  const buffer = new SharedArrayBuffer(HEAP_BYTES);
  const heap = new Heap(buffer);
  // cache-scratch: objects allocated here in a row, one for each worker to free first.
  const scratchObjects = Array.from({ length: workers }, () => (workload === "cache-scratch" ? heap.malloc(parameters.objectBytes) : 0));
  const control = controlBuffer(Control.Rings - ControlWords.First + workers * Control.RingWords);
  const results = await runWorkers<AllocThreadsInput, AllocThreadsResult>(new URL("./alloc-threads-worker.js", import.meta.url), workers, (worker) => ({
    workload,
    parameters,
    heap: buffer,
    control,
    worker,
    workers,
    locked,
    scratchObject: scratchObjects[worker],
  }));
  heap.trim();
  heap.check();
  if (heap.stats().liveBlocks !== 0) throw new Error(`${workload}: ${heap.stats().liveBlocks} blocks still live after the run`);
  return { elapsedMs: Math.max(...results.map((result) => result.elapsedMs)), operations: results.reduce((sum, result) => sum + result.operations, 0) };
}

export interface AllocThreadsBenchOptions {
  workloads: ThreadWorkload[];
  allocators: string[];
  /** larson: replacements per worker. */
  steps: number;
  rounds: number;
  /** larson: the share of replaced blocks freed by the next worker, in percent. */
  remotePercent: number;
  quick?: boolean;
  json?: string;
}

export async function runAllocThreadsBench(options: AllocThreadsBenchOptions): Promise<AllocThreadsRecord[]> {
  return withScratchFolder("alloc-threads", async (folder) => {
    const driver = join(folder, "alloc-threads-driver");
    const natives = NATIVE.filter((native) => options.allocators.includes(native.name));
    const buildFailure = natives.length === 0 ? null : compileC(DRIVER_SOURCE, driver, ["-pthread"]);
    if (buildFailure !== null) reportSkipped("native allocators", `cannot build the C driver (${buildFailure})`);
    const runnable = natives.filter((native) => {
      if (buildFailure !== null) return false;
      if (native.preload === null || existsSync(native.preload)) return true;
      reportSkipped(native.name, `${native.preload} not found (run bash bench/setup-alloc.sh)`);
      return false;
    });
    const contestants = [
      ...JS_HEAPS.filter((heap) => options.allocators.includes(heap.name)).map((heap) => ({
        name: heap.name,
        measure: (workload: ThreadWorkload, parameters: ThreadWorkloadParameters, workers: number) => measureJs(workload, parameters, heap.locked, workers),
      })),
      ...runnable.map((native) => ({
        name: native.name,
        measure: async (workload: ThreadWorkload, parameters: ThreadWorkloadParameters, workers: number): Promise<ThreadRunResult> => {
          const env = native.preload === null ? process.env : { ...process.env, LD_PRELOAD: native.preload };
          return runJsonProcess<ThreadRunResult>(driver, [workload, String(workers), ...driverArguments(parameters)], env);
        },
      })),
    ];
    const configurations = options.workloads.flatMap((workload) => WORKER_COUNTS.flatMap((workers) => contestants.map((contestant) => ({ workload, workers, contestant }))));
    const samples = new RoundSamples<ThreadRunResult>();
    const key = (workload: string, allocator: string, workers: number): string => `${workload}/${allocator}/${workers}`;
    for (const { contestant: configuration } of roundSchedule(configurations, { rounds: options.rounds })) {
      const { workload, workers, contestant } = configuration;
      const parameters = threadWorkloadParameters(workload, { steps: options.steps, remotePercent: options.remotePercent, quick: options.quick === true });
      samples.add(key(workload, contestant.name, workers), await contestant.measure(workload, parameters, workers));
      progress.step();
    }
    progress.done();
    const records: AllocThreadsRecord[] = [];
    for (const workload of options.workloads) {
      for (const contestant of contestants) {
        for (const workers of WORKER_COUNTS) {
          const runs = samples.get(key(workload, contestant.name, workers));
          records.push({ workload, allocator: contestant.name, workers, elapsedMs: median(runs.map((run) => run.elapsedMs)), opsPerSec: Math.round(median(runs.map((run) => run.operations / (run.elapsedMs / 1000)))) });
        }
      }
    }
    reportRecords(records, options);
    if (options.json !== undefined) writeJsonDocument(options.json, records);
    return records;
  });
}

function reportRecords(records: AllocThreadsRecord[], options: AllocThreadsBenchOptions): void {
  const rows = records.map((record) => {
    const alone = records.find((other) => other.workload === record.workload && other.allocator === record.allocator && other.workers === 1)!;
    const mimalloc = records.find((other) => other.workload === record.workload && other.allocator === "mimalloc" && other.workers === record.workers);
    return [
      record.workload,
      record.allocator,
      String(record.workers),
      record.elapsedMs.toFixed(1),
      (record.opsPerSec / 1e6).toFixed(2),
      (record.elapsedMs / alone.elapsedMs).toFixed(2),
      mimalloc === undefined ? "-" : (record.elapsedMs / mimalloc.elapsedMs).toFixed(2),
    ];
  });
  const larson = threadWorkloadParameters("larson", { steps: options.steps, remotePercent: options.remotePercent, quick: options.quick === true });
  const cache = threadWorkloadParameters("cache-thrash", { steps: options.steps, remotePercent: options.remotePercent, quick: options.quick === true });
  const xmalloc = threadWorkloadParameters("xmalloc", { steps: options.steps, remotePercent: options.remotePercent, quick: options.quick === true });
  report.write(
    [
      `larson: ${larson.steps.toLocaleString("en-US")} replacements a thread in ${larson.liveSlots.toLocaleString("en-US")} live blocks of ${larson.minBytes}-${larson.maxBytes} B, ${options.remotePercent}% freed by the next thread`,
      `cache-thrash, cache-scratch: ${cache.iterations} objects of ${cache.objectBytes} B a thread, each written ${cache.repetitions.toLocaleString("en-US")} times over`,
      `xmalloc: ${xmalloc.batches.toLocaleString("en-US")} batches of ${xmalloc.batchBlocks} blocks of ${xmalloc.minBytes}-${xmalloc.maxBytes} B a thread, freed by the next thread (by itself when alone)`,
      `time: the slowest thread's, median of ${options.rounds} rounds; the same work a thread at either count`,
      "",
    ].join("\n"),
  );
  reportTable(["workload", "allocator", "threads", "ms", "Mops/s (all threads)", "time / 1 thread", "time / mimalloc"], rows);
}

function percentage(text: string): number {
  const value = parseDecimalNumber(text);
  if (value === null || value > 100) throw new BenchOptionError(`--remote-percent: ${text} is not a percentage`);
  return value;
}

const command = benchCommand("alloc-threads")
  .addOption(quickOption())
  .addOption(namesOption("workloads", "workloads to run, comma-separated", THREAD_WORKLOADS))
  .addOption(namesOption("allocators", "allocators to run, comma-separated", THREAD_ALLOCATORS))
  .addOption(positiveIntegerOption("steps", "larson: replacements per thread", { normal: 1_000_000, quick: 100_000 }))
  .addOption(positiveIntegerOption("rounds", "rounds over every contestant, interleaved; each figure is their median", { normal: 3, quick: 1 }))
  .addOption(valueOption("--remote-percent <percent>", "larson: the share of replaced blocks freed by the next thread (0-100)", percentage, { normal: 25 }))
  .addOption(jsonOption());

await benchMain(import.meta.url, command, runAllocThreadsBench);
