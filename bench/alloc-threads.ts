/**
 * Heap scaling across worker threads (`memspace bench alloc-threads [--quick] [--json FILE]`;
 * `npm run bench:alloc-threads`): larson-style random replacement in each worker's own live
 * set on one SharedArrayBuffer heap, a share of the replaced blocks (`--remote-percent`,
 * default 25) freed by the next worker (remote frees), for 1 and 2 workers; the memspace Heap as it is (per-worker spans,
 * remote frees through atomic inboxes) beside the same Heap with one mutex held around
 * every call (the design before per-worker spans). Rounds interleave the contestants; the
 * figure is the median over rounds of total ops/s.
 */
import { Heap } from "../src/alloc/heap/heap.js";
import { parseDecimalNumber } from "../src/util/parse-number.js";
import { Control, type AllocThreadsInput } from "./alloc-threads-worker.js";
import { benchCommand, BenchOptionError, jsonOption, positiveIntegerOption, quickOption, benchMain, valueOption } from "./harness/options.js";
import { progress, report, reportTable, writeJsonDocument } from "./harness/output.js";
import { RoundSamples, roundSchedule } from "./harness/rounds.js";
import { ControlWords, controlBuffer, runWorkers } from "./harness/threads.js";

const HEAP_BYTES = 256 << 20;
const CONTESTANTS = [
  { name: "per-worker spans", locked: false },
  { name: "one lock", locked: true },
] as const;
const WORKER_COUNTS = [1, 2];

export interface AllocThreadsRecord {
  heap: string;
  workers: number;
  opsPerSec: number;
}

async function measure(locked: boolean, workers: number, steps: number, liveSlots: number, remoteShare256: number): Promise<number> {
  const buffer = new SharedArrayBuffer(HEAP_BYTES);
  const heap = new Heap(buffer);
  const control = controlBuffer(Control.Rings - ControlWords.First + workers * Control.RingWords);
  const results = await runWorkers<AllocThreadsInput, { opsPerSec: number }>(new URL("./alloc-threads-worker.js", import.meta.url), workers, (worker) => ({
    heap: buffer,
    control,
    worker,
    workers,
    steps,
    liveSlots,
    locked,
    remoteShare256,
  }));
  heap.trim();
  heap.check();
  if (heap.stats().liveBlocks !== 0) throw new Error(`${heap.stats().liveBlocks} blocks still live after the run`);
  return results.reduce((sum, result) => sum + result.opsPerSec, 0);
}

export interface AllocThreadsBenchOptions {
  /** Replacements per worker. */
  steps: number;
  rounds: number;
  /** The share of replaced blocks freed by the next worker, in percent. */
  remotePercent: number;
  json?: string;
}

export async function runAllocThreadsBench(options: AllocThreadsBenchOptions): Promise<AllocThreadsRecord[]> {
  const remoteShare256 = Math.round((options.remotePercent * 256) / 100);
  const liveSlots = 10_000;
  const samples = new RoundSamples<number>();
  const configurations = WORKER_COUNTS.flatMap((workers) => CONTESTANTS.map((contestant) => ({ contestant, workers })));
  for (const { contestant: { contestant, workers } } of roundSchedule(configurations, { rounds: options.rounds })) {
    samples.add(`${contestant.name}/${workers}`, await measure(contestant.locked, workers, options.steps, liveSlots, remoteShare256));
    progress.step();
  }
  progress.done();
  const records: AllocThreadsRecord[] = [];
  for (const contestant of CONTESTANTS) {
    for (const workers of WORKER_COUNTS) records.push({ heap: contestant.name, workers, opsPerSec: Math.round(samples.median(`${contestant.name}/${workers}`, (opsPerSec) => opsPerSec)) });
  }
  const rows = records.map((r) => {
    const one = records.find((o) => o.heap === r.heap && o.workers === 1)!;
    return [r.heap, String(r.workers), r.opsPerSec, (r.opsPerSec / one.opsPerSec).toFixed(2)];
  });
  report.write(
    `larson-style replacement, ${liveSlots.toLocaleString("en-US")} live blocks per worker, 8-1024 B, ${options.remotePercent}% of replaced blocks freed by the next worker; ${options.steps.toLocaleString("en-US")} steps per worker; median of ${options.rounds} rounds\n`,
  );
  reportTable(["heap", "workers", "ops/s (all workers)", "vs 1 worker"], rows);
  if (options.json !== undefined) writeJsonDocument(options.json, records);
  return records;
}

function percentage(text: string): number {
  const value = parseDecimalNumber(text);
  if (value === null || value > 100) throw new BenchOptionError(`--remote-percent: ${text} is not a percentage`);
  return value;
}

const command = benchCommand("alloc-threads")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("steps", "replacements per worker", { normal: 1_000_000, quick: 100_000 }))
  .addOption(positiveIntegerOption("rounds", "rounds over every contestant, interleaved; each figure is their median", { normal: 3, quick: 1 }))
  .addOption(valueOption("--remote-percent <percent>", "the share of replaced blocks freed by the next worker (0-100)", percentage, { normal: 25 }))
  .addOption(jsonOption());

await benchMain(import.meta.url, command, runAllocThreadsBench);
