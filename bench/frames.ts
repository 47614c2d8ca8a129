/**
 * Page-frame allocator benchmarks (`memspace bench frames`), LLFree's three:
 * - bulk: each worker allocates its share of half of memory, then frees it (ns per get, per put);
 * - repeat: with half of memory allocated, get and put the same frame (ns per pair);
 * - rand: half of memory allocated and the frames shuffled across workers; each frees a
 *   random one of its frames and allocates another (ns per pair);
 * for order 0 and order 9, with 1 and 2 workers, for LLFree and two baselines in the same run
 * (a mutex-guarded buddy allocator and a flat bitmap scan). Each configuration runs in fresh
 * worker threads: a warm-up run, then timed runs (per run, the mean of the workers'
 * per-operation times); the whole matrix runs several rounds, interleaved, and the figure
 * is the median over rounds of the per-round medians.
 *
 * Beside them runs `llfree-private` (frames-protocol.ts): each worker on an allocator of its
 * own, sharing nothing, whose 2w/1w shows what two busy cores of this machine give work that
 * shares no memory (here two independent processes each ran up to 1.3x slower than one alone).
 *
 * And, where gcc is on the machine, rand order 9's sharing pattern in C with none of the
 * allocator's bookkeeping (bench/native/frames-rand-model.c), on 1 and 2 workers in the same
 * rounds, twice: searching for a tree as the allocator does (home range first: `c-model`)
 * and among all trees (`c-model-any`): what cross-core frees cost this machine whatever the
 * allocator does around them, and what keeping workers to their own trees saves.
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createFrameAllocator, FRAME_ALLOCATOR_KINDS } from "../src/alloc/frames/allocator-kinds.js";
import { Geometry } from "../src/alloc/frames/geometry.js";
import { PRIVATE_CONTESTANT, type FramesBenchmark, type FramesContestant, type FramesRunTiming, type FramesWorkerInput } from "./frames-protocol.js";
import { runProcess } from "./harness/child.js";
import { compileC } from "./harness/native.js";
import {
  benchCommand,
  BenchOptionError,
  jsonOption,
  namesOption,
  nonNegativeInteger,
  positiveInteger,
  positiveIntegerOption,
  quickOption,
  benchMain,
  valueOption,
} from "./harness/options.js";
import { dash, progress, report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, medianRatio, RoundSamples, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";
import { controlBuffer, runWorkers } from "./harness/threads.js";

const BENCHMARKS: FramesBenchmark[] = ["bulk", "repeat", "rand"];
const ORDERS = [0, 9];
const MAX_ORDER = 10;
const WORKER_COUNTS = [1, 2];
const CONTESTANTS: FramesContestant[] = [...FRAME_ALLOCATOR_KINDS, PRIVATE_CONTESTANT];
const MODEL_SOURCE = fileURLToPath(new URL("../../bench/native/frames-rand-model.c", import.meta.url));
/** The C model's records (rand order 9 only), by how it searches for a tree: the allocator's way, or among all trees. */
const MODELS = { home: "c-model", any: "c-model-any" } as const;
type ModelSearch = keyof typeof MODELS;

export interface FramesBenchOptions {
  frameCount: number;
  pairs: number;
  runs: number;
  rounds: number;
  workerCounts: number[];
  benchmarks: FramesBenchmark[];
  orders: number[];
  /** The contestants to run; llfree always runs. */
  allocators: FramesContestant[];
  json?: string;
}

export interface FramesBenchRecord {
  benchmark: FramesBenchmark;
  order: number;
  workers: number;
  allocator: FramesContestant | (typeof MODELS)[ModelSearch];
  nsPerGet: number | null;
  nsPerPut: number | null;
  nsPerPair: number;
}

async function measure(kind: FramesContestant, benchmark: FramesBenchmark, order: number, workers: number, options: FramesBenchOptions): Promise<FramesBenchRecord> {
  const allocator = kind === PRIVATE_CONTESTANT ? null : createFrameAllocator(kind, options.frameCount);
  const heldSlots = Math.floor(options.frameCount / 2 / (1 << order));
  const control = controlBuffer(heldSlots);
  const perWorker = await runWorkers<FramesWorkerInput, FramesRunTiming[]>(new URL("./frames-worker.js", import.meta.url), workers, (worker) => ({
    kind,
    buffer: allocator === null ? null : allocator.buffer,
    control,
    worker,
    workers,
    benchmark,
    order,
    frameCount: options.frameCount,
    pairs: options.pairs,
    bulkRounds: order === 0 ? 1 : 64,
    runs: options.runs + 1,
    seed: 17,
  }));
  // The next configuration starts on a quiet machine: these threads gone (runWorkers waits
  // for them), and this thread's garbage (a control buffer of megabytes per configuration)
  // collected now rather than by helper threads competing with the next run's workers for
  // this machine's two cores.
  (globalThis as { gc?: () => void }).gc?.();
  if (allocator !== null && allocator.allocatedFrames() !== 0) throw new Error(`${kind} ${benchmark}: ${allocator.allocatedFrames()} frames still allocated after the run`);
  const timed = (field: keyof FramesRunTiming): number => {
    const perRun = perWorker[0].slice(1).map((_, run) => perWorker.reduce((sum, timings) => sum + timings[run + 1][field], 0) / workers);
    return median(perRun);
  };
  const round = (value: number): number | null => (Number.isNaN(value) ? null : Math.round(value * 10) / 10);
  return { benchmark, order, workers, allocator: kind, nsPerGet: round(timed("nsPerGet")), nsPerPut: round(timed("nsPerPut")), nsPerPair: round(timed("nsPerPair"))! };
}

function find(records: FramesBenchRecord[], benchmark: string, order: number, workers: number, allocator: string): FramesBenchRecord | undefined {
  return records.find((r) => r.benchmark === benchmark && r.order === order && r.workers === workers && r.allocator === allocator);
}

/** Where a configuration's samples of every round are kept. */
function sampleKey(benchmark: FramesBenchmark, order: number, workers: number, allocator: FramesBenchRecord["allocator"]): string {
  return `${benchmark}/${order}/${workers}/${allocator}`;
}

/** Builds the C model of rand order 9; null (with a message) where gcc fails or the frames are too few. */
function buildModel(folder: string, options: FramesBenchOptions): ((workers: number, search: ModelSearch) => FramesBenchRecord) | null {
  if (options.frameCount < Geometry.FramesPerTree * 2 * Math.max(...options.workerCounts)) {
    reportSkipped("C model of rand order 9", `it takes two trees (${2 * Geometry.FramesPerTree} frames) a worker`);
    return null;
  }
  const binary = join(folder, "frames-rand-model");
  const failure = compileC(MODEL_SOURCE, binary, ["-pthread"]);
  if (failure !== null) {
    reportSkipped("C model of rand order 9", `cannot build it (${failure})`);
    return null;
  }
  return (workers, search) => {
    const output = runProcess(binary, [String(workers), String(options.pairs), String(options.frameCount), search]);
    const nsPerPair = Number(/([\d.]+) ns per pair/.exec(output)?.[1]);
    if (!Number.isFinite(nsPerPair)) throw new Error(`frames-rand-model printed ${JSON.stringify(output)}`);
    return { benchmark: "rand", order: 9, workers, allocator: MODELS[search], nsPerGet: null, nsPerPut: null, nsPerPair };
  };
}

/** The figure a benchmark is judged by: ns per get for bulk, per pair otherwise. */
function headline(record: FramesBenchRecord): number {
  return record.benchmark === "bulk" ? record.nsPerGet! : record.nsPerPair;
}

export async function runFramesBench(options: FramesBenchOptions): Promise<FramesBenchRecord[]> {
  report.write(
    `${options.frameCount.toLocaleString("en-US")} frames (${(options.frameCount / 262144).toFixed(1)} GiB); ${options.rounds} rounds over every configuration (interleaved, so a slow spell of this shared machine hits all alike), each a warm-up run then ${options.runs} timed; figures are the median over rounds of each round's median\n`,
  );
  // Per configuration, the samples of every round.
  const samples = new RoundSamples<FramesBenchRecord>();
  const add = (record: FramesBenchRecord): void => samples.add(sampleKey(record.benchmark, record.order, record.workers, record.allocator), record);
  await withScratchFolder("frames", async (folder) => {
    const model = options.benchmarks.includes("rand") && options.orders.includes(9) ? buildModel(folder, options) : null;
    // The matrix, one measurement a step: each allocator, then (rand order 9) the C model both ways.
    const matrix: Array<() => Promise<void>> = [];
    for (const benchmark of options.benchmarks) {
      for (const order of options.orders) {
        for (const workers of options.workerCounts) {
          for (const kind of options.allocators) {
            matrix.push(async () => {
              add(await measure(kind, benchmark, order, workers, options));
              progress.step();
            });
          }
          if (model !== null && benchmark === "rand" && order === 9) {
            matrix.push(async () => {
              add(model(workers, "home"));
              add(model(workers, "any"));
            });
          }
        }
      }
    }
    for (const { contestant } of roundSchedule(matrix, { rounds: options.rounds })) await contestant();
  });
  progress.done();
  const records = [...samples.byKey.values()].map((list): FramesBenchRecord => {
    const middle = (field: "nsPerGet" | "nsPerPut" | "nsPerPair"): number | null => (list[0][field] === null ? null : median(list.map((r) => r[field]!)));
    return { ...list[0], nsPerGet: middle("nsPerGet"), nsPerPut: middle("nsPerPut"), nsPerPair: middle("nsPerPair")! };
  });
  reportTable(
    ["benchmark", "order", "workers", "allocator", "ns/get", "ns/put", "ns/pair"],
    records.map((r) => [r.benchmark, String(r.order), String(r.workers), r.allocator, dash(r.nsPerGet), dash(r.nsPerPut), r.nsPerPair]),
    "\n\n",
  );
  // LLFree against the baselines, and its scaling, in one table. A scaling ratio is taken
  // within each round (the two runs minutes apart at most), then the median over rounds.
  const summary: (string | number)[][] = [];
  const most = Math.max(...options.workerCounts);
  const over = (benchmark: FramesBenchmark, order: number, allocator: FramesContestant): string => {
    const mine = find(records, benchmark, order, most, "llfree")!;
    const theirs = find(records, benchmark, order, most, allocator);
    return theirs === undefined ? "-" : (headline(theirs) / headline(mine)).toFixed(2);
  };
  const scaling = (benchmark: FramesBenchmark, order: number, allocator: FramesBenchRecord["allocator"]): string => {
    const one = samples.get(sampleKey(benchmark, order, 1, allocator));
    const many = samples.get(sampleKey(benchmark, order, most, allocator));
    if (one.length === 0 || many.length === 0 || most === 1) return "-";
    return medianRatio(many.map(headline), one.map(headline)).toFixed(2);
  };
  for (const benchmark of options.benchmarks) {
    for (const order of options.orders) {
      summary.push([
        `${benchmark} order ${order}`,
        headline(find(records, benchmark, order, most, "llfree")!),
        over(benchmark, order, "locked-buddy"),
        over(benchmark, order, "bitmap-scan"),
        scaling(benchmark, order, "llfree"),
        scaling(benchmark, order, PRIVATE_CONTESTANT),
      ]);
    }
  }
  reportTable(
    [`llfree, ${most} worker(s)`, "ns/op", "buddy/llfree", "bitmap/llfree", `${most}w/1w`, `private ${most}w/1w`],
    summary,
    `\n(ns/op: per get for bulk, per get+put pair otherwise; ratios > 1 mean llfree is faster; ${most}w/1w: the median over rounds of each round's ratio; private: each worker on an allocator of its own, sharing nothing: the machine's own scaling; targets: bulk order-0 get <= 150 ns on 1 worker, 2w/1w <= 1.3, faster than both baselines at 2 workers)\n`,
  );
  const modelLine = (search: ModelSearch): string | null => {
    const one = find(records, "rand", 9, 1, MODELS[search]);
    const many = find(records, "rand", 9, most, MODELS[search]);
    return one === undefined || many === undefined || most === 1 ? null : `${one.nsPerPair} ns a pair on 1 worker, ${many.nsPerPair} on ${most} (${most}w/1w ${scaling("rand", 9, MODELS[search])})`;
  };
  const home = modelLine("home");
  const any = modelLine("any");
  if (home !== null && any !== null) {
    report.write(
      `(rand order 9's sharing pattern in C, none of the bookkeeping, bench/native/frames-rand-model.c: searching the worker's own trees first, as llfree does, ${home}; searching all trees, ${any})\n`,
    );
  }
  if (options.json !== undefined) writeJsonDocument(options.json, records);
  return records;
}

function order(text: string): number {
  const value = nonNegativeInteger("orders", text, 0);
  if (value > MAX_ORDER) throw new BenchOptionError(`--orders: ${text} is not an order from 0 to ${MAX_ORDER}`);
  return value;
}

/** A comma list of `parse`d values. */
function commaList<T>(parse: (text: string) => T): (text: string) => T[] {
  return (text) => text.split(",").map(parse);
}

const command = benchCommand("frames")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("frames", "frames of memory (4 KiB each)", { normal: 1 << 22, quick: 1 << 18 }))
  .addOption(positiveIntegerOption("pairs", "get+put pairs per worker in repeat and rand", { normal: 1_000_000, quick: 100_000 }))
  .addOption(positiveIntegerOption("runs", "timed runs per configuration, after a warm-up run", { normal: 2, quick: 1 }))
  .addOption(positiveIntegerOption("rounds", "rounds over every configuration, interleaved", { normal: 3, quick: 1 }))
  .addOption(valueOption("--workers <counts>", "worker counts, a comma list", commaList((text) => positiveInteger("workers", text, 0)), { normal: WORKER_COUNTS }))
  .addOption(namesOption("benchmarks", "the benchmarks", BENCHMARKS))
  .addOption(valueOption("--orders <orders>", `frame orders (0-${MAX_ORDER}), a comma list`, commaList(order), { normal: ORDERS }))
  .addOption(namesOption("allocators", "the allocators; llfree always runs", CONTESTANTS))
  .addOption(jsonOption());

interface FramesCommandOptions extends Omit<FramesBenchOptions, "frameCount" | "workerCounts"> {
  frames: number;
  workers: number[];
}

/** The command's options as runFramesBench takes them: llfree always runs. */
function framesBenchOptions({ frames, workers, allocators, ...options }: FramesCommandOptions): FramesBenchOptions {
  return { ...options, frameCount: frames, workerCounts: workers, allocators: CONTESTANTS.filter((kind) => kind === "llfree" || allocators.includes(kind)) };
}

await benchMain(import.meta.url, command, (options: FramesCommandOptions) => runFramesBench(framesBenchOptions(options)));
