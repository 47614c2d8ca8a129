/**
 * Allocator benchmark (`memspace bench alloc [--quick] [--json FILE]`): each workload of
 * bench/alloc-workloads.ts replayed by the memspace Heap and @thi.ng/malloc's MemPool (same
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
 * typed-array access and a check of each call's target; on tiny-churn 5.5-6.2 ns an op
 * against 3.8-4.1 in session 11's runs), though it now reaches its arrays as constants
 * (LoopMemory below).
 *
 * Figures: ops/s, peak footprint and the workload's peak live bytes (requested sizes). The
 * footprint is what the kernel counts resident for every allocator alike: for the native
 * ones the driver's peak RSS above its baseline, for the JS ones the resident bytes of their
 * backing buffer (bench/resident.ts). The JS allocators' own accounting is reported too
 * (`accountedFootprintBytes`: the Heap's pages in use with their metadata, whole 16 KiB
 * pages even where a span's blocks were never handed out; MemPool's top).
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type * as ThingMalloc from "@thi.ng/malloc";
import { Heap } from "../src/alloc/heap/heap.js";
import { renderTable } from "../src/cli/table.js";
import { AllocOp, buildWorkload, WORKLOADS, type OpSequence, type Workload } from "./alloc-workloads.js";
import { benchCommand, BenchOptionError, jsonOption, knownNames, positiveInteger, positiveIntegerOption, positiveNumber, quickOption, report, runBenchMain, STDOUT_PATH, valueOption, writeJsonDocument } from "./options.js";
import { formatRoundRatios, median, roundRatios } from "../src/util/median.js";
import { loadChartPackages, writeAllocChart, type ChartPackages } from "./alloc-chart.js";
import type { AllocBenchRecord } from "./alloc-record.js";
import { compileC } from "./native-build.js";
import { watchNewBuffer } from "./resident.js";
import { OutputFile } from "../src/util/output-file.js";
import { importOptional } from "./optional-package.js";

const HERE = fileURLToPath(import.meta.url);
const DRIVER_SOURCE = resolve(HERE, "../../../bench/native/alloc-driver.c");
const HEAP_BYTES = 512 << 20;
const LIB_DIR = "/usr/lib/x86_64-linux-gnu";
const NATIVE: Array<{ name: string; preload: string | null }> = [
  { name: "glibc", preload: null },
  { name: "mimalloc", preload: join(LIB_DIR, "libmimalloc.so.2") },
  { name: "jemalloc", preload: join(LIB_DIR, "libjemalloc.so.2") },
];
/**
 * Beside the allocators, each replay loop with an allocator that does nothing (every block is
 * the same one): what the loop itself costs per op, in JS and in C, so the table can show
 * what each allocator adds to its loop ("net ns/op").
 */
const JS_LOOP = "loop-js";
const C_LOOP = "loop-c";
const THING = "thi.ng";
/** THING's package: a devDependency, so an installed memspace runs without it unless it is installed. */
const THING_PACKAGE = "@thi.ng/malloc";
const JS_ALLOCATORS = ["memspace", THING, JS_LOOP] as const;
/** The block the loops' do-nothing allocators hand out: past the null address, 8-aligned. */
const LOOP_BLOCK_ADDRESS = 64;
/**
 * @thi.ng/malloc's first-fit free list makes it 100-10,000x slower on the churn workloads
 * (linear in the live set): its one timed run stops after this long (`--budget` seconds),
 * and its ops/s is over the ops it did. The live set was still growing then, so the figure
 * flatters it.
 */
const SLOW_RUN_BUDGET_SECONDS = 30;
/** A budgeted run looks at the clock after this many ops. */
const BUDGET_CHECK_OPS = 1_000;
const ALLOCATORS = [...JS_ALLOCATORS, ...NATIVE.map((native) => native.name), C_LOOP];

interface Sample {
  opsPerSec: number;
  peakFootprintBytes: number | null;
  accountedFootprintBytes?: number;
  completedOps?: number;
  /** Why the allocator could not finish the workload (out of memory), if it could not. */
  failure?: string;
}

/** The one interface both JS allocators are driven through (addresses are byte offsets). */
interface JsAllocator {
  bytes: Uint8Array;
  malloc(size: number): number;
  free(address: number): void;
  realloc(address: number, size: number): number;
  peakFootprintBytes(): number;
  /** Footprint now (for an untimed pass that tracks the peak op by op). */
  sampleFootprint(): number;
}

type ThingMallocModule = typeof ThingMalloc;

function loadThingMalloc(): Promise<ThingMallocModule | null> {
  return importOptional<ThingMallocModule>(THING_PACKAGE);
}

/** `thingMalloc`: THING_PACKAGE, loaded by the caller (needed for THING only). */
function createJsAllocator(name: (typeof JS_ALLOCATORS)[number], blockCache: boolean, thingMalloc: ThingMallocModule | null): JsAllocator {
  if (name === "memspace") {
    const buffer = new ArrayBuffer(HEAP_BYTES);
    const heap = new Heap(buffer, { blockCache });
    return {
      bytes: new Uint8Array(buffer),
      malloc: (size) => heap.malloc(size),
      free: (address) => heap.free(address),
      realloc: (address, size) => heap.realloc(address, size),
      peakFootprintBytes: () => heap.stats().peakFootprintBytes,
      sampleFootprint: () => heap.footprintBytes(),
    };
  }
  if (name === JS_LOOP) {
    return {
      bytes: new Uint8Array(HEAP_BYTES),
      malloc: () => LOOP_BLOCK_ADDRESS,
      free: () => {},
      realloc: () => LOOP_BLOCK_ADDRESS,
      peakFootprintBytes: () => 0,
      sampleFootprint: () => 0,
    };
  }
  if (thingMalloc === null) throw new Error(`${THING_PACKAGE} is not installed`);
  // Footprint: MemPool's "top" (its bump pointer: memory beyond it was never used),
  // sampled by footprintPass.
  const pool = new thingMalloc.MemPool({ size: HEAP_BYTES });
  return {
    bytes: new Uint8Array(pool.buf),
    malloc: (size) => pool.malloc(size),
    free: (address) => void pool.free(address),
    realloc: (address, size) => pool.realloc(address, size),
    peakFootprintBytes: () => pool.stats().top,
    sampleFootprint: () => pool.stats().top,
  };
}

/** Peak footprint, sampled after every op in a separate, untimed replay. */
function footprintPass(allocator: JsAllocator, sequence: OpSequence): number {
  const memory = loopMemory(sequence.ops, new Int32Array(sequence.slots), allocator.bytes);
  let peak = 0;
  const step = Math.max(1, Math.floor(sequence.opCount / 20_000)) * 3;
  for (let end = step; end < sequence.ops.length + step; end += step) {
    replay(allocator, memory, end - step, Math.min(end, sequence.ops.length));
    peak = Math.max(peak, allocator.sampleFootprint());
  }
  return peak;
}

/**
 * What the replay loop reads and writes besides the allocator: the op sequence, the slot table
 * and the heap bytes, each behind a closure of a few bytecodes. TurboFan always inlines such
 * small functions, and a closure's captured consts are constants in the inlined code, so the
 * arrays' maps, lengths and data pointers are not checked and reloaded on every op, as they
 * were for arrays passed as parameters (`--print-opt-code`). In one process, with separate
 * Heap module instances so that neither loop shares type feedback: tiny-churn 1.12x, larson
 * 1.24x, alloc-test 1.23x, the do-nothing loop 1.11x the ops/s.
 */
interface LoopMemory {
  opAt(index: number): number;
  slotAddress(slot: number): number;
  setSlotAddress(slot: number, address: number): void;
  touch(address: number): void;
}

function loopMemory(ops: Int32Array, slots: Int32Array, bytes: Uint8Array): LoopMemory {
  return {
    opAt: (index) => ops[index],
    slotAddress: (slot) => slots[slot],
    setSlotAddress: (slot, address) => void (slots[slot] = address),
    touch: (address) => void (bytes[address] = 1),
  };
}

/**
 * Replays ops [from, to) (in Int32 units); `memory`'s slot table holds each slot's block
 * address (an Int32Array, as a JS program keeps offsets into a heap below 2 GiB: HEAP_BYTES is
 * 512 MiB).
 */
function replay(allocator: JsAllocator, memory: LoopMemory, from: number, to: number): void {
  // The calls through locals, as the C driver calls malloc and free: no load of the
  // allocator's fields per op (paired runs: tiny-churn 1.04-1.11x, loop-js 1.09x, larson 1.00x).
  const { malloc, free, realloc } = allocator;
  const { opAt, slotAddress, setSlotAddress, touch } = memory;
  // An if-chain with free first and `| 0` on the indices: 8-17% less time per op than a
  // switch on tiny-churn, larson and alloc-test alike (paired runs in one process; the loop
  // with a do-nothing allocator gains the most), so the loop charges memspace less of its own cost.
  for (let i = from | 0; i < to; i = (i + 3) | 0) {
    const op = opAt(i);
    const slot = opAt((i + 1) | 0);
    const size = opAt((i + 2) | 0);
    if (op === AllocOp.Free) {
      free(slotAddress(slot));
      // As the C driver does: the slot forgets the freed block.
      setSlotAddress(slot, 0);
    } else if (op === AllocOp.Malloc) {
      const address = malloc(size);
      if (address === 0) throw new Error(`out of memory at op ${i / 3}: malloc(${size})`);
      if (size > 0) touch(address);
      setSlotAddress(slot, address);
    } else if (op === AllocOp.Realloc) {
      const address = realloc(slotAddress(slot), size);
      if (address === 0) throw new Error(`out of memory at op ${i / 3}: realloc to ${size}`);
      setSlotAddress(slot, address);
    } else if (op === AllocOp.Touch) {
      for (let k = 0; k < size; k += 4096) touch(slotAddress(slot) + k);
    }
  }
}

/** What a child process measures: one allocator on one workload. */
interface ChildJob {
  workload: Workload;
  allocator: (typeof JS_ALLOCATORS)[number];
  scale: number;
  runs: number;
  liveSlots?: number;
  blockCache: boolean;
  slowBudgetSeconds: number;
}

/** Child mode: one allocator on one workload, printed as JSON. */
async function runOne({ workload, allocator: allocatorName, scale, runs, liveSlots, blockCache, slowBudgetSeconds }: ChildJob): Promise<void> {
  const thingMalloc = allocatorName === THING ? await loadThingMalloc() : null;
  const sequence = buildWorkload(workload, scale, liveSlots);
  const rates: number[] = [];
  // One allocator for every run, as the C driver has one malloc: each sequence ends with
  // everything freed, so a run after the first starts on a warm, empty heap (its pages
  // already faulted in), and the replay's call targets stay the same (new closures per run
  // deoptimised it each time).
  const allocator = createJsAllocator(allocatorName, blockCache, thingMalloc);
  const memory = loopMemory(sequence.ops, new Int32Array(sequence.slots), allocator.bytes);
  if (allocatorName === THING) {
    // One timed run, no warm-up, within a time budget: its ratio is not in doubt.
    const sample = budgetedRun(allocator, sequence, memory, slowBudgetSeconds * 1000);
    if (sample.completedOps !== undefined || sample.failure !== undefined) {
      process.stdout.write(JSON.stringify(sample) + "\n");
      return;
    }
    rates.push(sample.opsPerSec);
  } else {
    for (let run = 0; run <= runs; run++) {
      const start = performance.now();
      try {
        replay(allocator, memory, 0, sequence.ops.length);
      } catch (error) {
        process.stdout.write(JSON.stringify(failed(allocator, error)) + "\n");
        return;
      }
      const seconds = (performance.now() - start) / 1000;
      if (run > 0) rates.push(sequence.opCount / seconds);
    }
    if (allocatorName === JS_LOOP) {
      process.stdout.write(JSON.stringify({ opsPerSec: Math.round(median(rates)), peakFootprintBytes: null }) + "\n");
      return;
    }
  }
  // Footprint apart from timing, on an allocator of its own over a fresh buffer: sampled
  // after (groups of) ops, which the timed runs must not pay for, and the buffer's resident
  // bytes at the end (where the kernel can tell; else the allocator's own count stands in).
  const watch = watchNewBuffer(HEAP_BYTES);
  const accounted = Math.max(footprintPass(createJsAllocator(allocatorName, blockCache, thingMalloc), sequence), 0);
  const sample: Sample = { opsPerSec: Math.round(median(rates)), peakFootprintBytes: watch.measure() ?? accounted, accountedFootprintBytes: accounted };
  process.stdout.write(JSON.stringify(sample) + "\n");
}

/** The median of each figure over rounds; a failure in any round stands. */
function medianSample(list: Sample[]): Sample {
  const failure = list.find((sample) => sample.failure !== undefined);
  if (failure !== undefined) return failure;
  const middle = (values: Array<number | null | undefined>): number | null | undefined => {
    if (values.some((value) => value === undefined)) return undefined;
    if (values.some((value) => value === null)) return null;
    return median(values as number[]);
  };
  const sample: Sample = {
    opsPerSec: Math.round(median(list.map((s) => s.opsPerSec))),
    peakFootprintBytes: middle(list.map((s) => s.peakFootprintBytes)) ?? null,
  };
  const accounted = middle(list.map((s) => s.accountedFootprintBytes));
  if (typeof accounted === "number") sample.accountedFootprintBytes = accounted;
  if (list[0].completedOps !== undefined) sample.completedOps = list[0].completedOps;
  return sample;
}

function failed(allocator: JsAllocator, error: unknown): Sample {
  return { opsPerSec: 0, peakFootprintBytes: allocator.peakFootprintBytes(), failure: (error as Error).message };
}

/** One timed run that stops after `budgetMs`; `completedOps` says where, if it did. */
function budgetedRun(allocator: JsAllocator, sequence: OpSequence, memory: LoopMemory, budgetMs: number): Sample {
  const start = performance.now();
  let at = 0;
  try {
    do {
      const end = Math.min(at + BUDGET_CHECK_OPS * 3, sequence.ops.length);
      replay(allocator, memory, at, end);
      at = end;
    } while (at < sequence.ops.length && performance.now() - start < budgetMs);
  } catch (error) {
    return failed(allocator, error);
  }
  const completedOps = at / 3;
  const opsPerSec = Math.round(completedOps / ((performance.now() - start) / 1000));
  if (completedOps === sequence.opCount) return { opsPerSec, peakFootprintBytes: null };
  return { opsPerSec, peakFootprintBytes: null, completedOps };
}

function measureJs(workload: Workload, allocator: (typeof JS_ALLOCATORS)[number], options: AllocBenchOptions): Sample {
  const job: ChildJob = {
    workload,
    allocator,
    scale: options.scale,
    runs: options.runs,
    liveSlots: options.liveSlots,
    blockCache: options.blockCache ?? true,
    slowBudgetSeconds: options.slowBudgetSeconds ?? SLOW_RUN_BUDGET_SECONDS,
  };
  const output = execFileSync(process.execPath, [HERE, "--one", JSON.stringify(job)], { encoding: "utf8", maxBuffer: 1 << 20 });
  return JSON.parse(output.trim()) as Sample;
}

/** The C driver, and its build with the do-nothing allocator (C_LOOP); null where gcc fails. */
function buildDriver(folder: string): { driver: string; loop: string } | null {
  const driver = join(folder, "alloc-driver");
  const loop = join(folder, "alloc-driver-loop");
  const failure = compileC(DRIVER_SOURCE, driver) ?? compileC(DRIVER_SOURCE, loop, ["-DLOOP_ONLY"]);
  if (failure === null) return { driver, loop };
  report.write(`native allocators skipped: cannot build the C driver (${failure})\n`);
  return null;
}

export interface AllocBenchOptions {
  scale: number;
  /** Timed runs in each measurement (after a warm-up run). */
  runs: number;
  /** Measurements of every allocator, interleaved; each figure is their median. */
  rounds: number;
  /** The allocators to compare with memspace (default: all). */
  allocators?: string[];
  /** The live set of larson and alloc-test, in blocks (default: theirs). */
  liveSlots?: number;
  /** How long @thi.ng/malloc's timed run may take (default SLOW_RUN_BUDGET_SECONDS). */
  slowBudgetSeconds?: number;
  /** memspace's free-block cache (HeapOptions.blockCache; default on). */
  blockCache?: boolean;
  /** The workloads to run (default: all). */
  workloads?: Workload[];
  json?: string;
  /** Where to write the SVG chart (default: next to the JSON file, if that is a file). */
  chart?: string;
}

/**
 * The JS allocators to run: THING only where its package is installed (else a line says so;
 * asked for by name, it is an error).
 */
async function availableJsAllocators(chosen: (name: string) => boolean, named: boolean): Promise<Array<(typeof JS_ALLOCATORS)[number]>> {
  const thingMissing = chosen(THING) && (await loadThingMalloc()) === null;
  if (thingMissing) {
    if (named) throw new BenchOptionError(`${THING_PACKAGE} is not installed; install it to include ${THING}, or leave ${THING} out of --allocators`);
    report.write(`bench alloc: ${THING_PACKAGE} is not installed; install it to include ${THING}, or pass --allocators ${ALLOCATORS.filter((name) => name !== THING).join(",")} to leave it out\n`);
  }
  return JS_ALLOCATORS.filter((name) => chosen(name) && !(name === THING && thingMissing));
}

export async function runAllocBench(options: AllocBenchOptions): Promise<AllocBenchRecord[]> {
  const chosen = (name: string): boolean => name === "memspace" || options.allocators === undefined || options.allocators.includes(name);
  const jsAllocators = await availableJsAllocators(chosen, options.allocators !== undefined);
  const chart = options.chart ?? (options.json === undefined || options.json === STDOUT_PATH ? undefined : options.json.replace(/(\.json)?$/, ".svg"));
  // Checked before the runs, so that a chart asked for cannot fail after minutes of them.
  const chartPackages = chart === undefined ? null : await loadChartPackages();
  if (chart !== undefined && chartPackages === null) {
    if (options.chart !== undefined) throw new BenchOptionError("--chart needs vega and vega-lite, which are not installed");
    report.write(`bench alloc: no chart (${chart}): it needs vega and vega-lite, which are not installed\n`);
  }
  const folder = mkdtempSync(join(tmpdir(), "memspace-alloc-"));
  const records: AllocBenchRecord[] = [];
  // memspace's ops/s over each allocator's, per workload: taken within each round (the two
  // runs seconds apart, so in the same spell of this machine); the table shows their median
  // over rounds and their range.
  const ratios = new Map<string, number[]>();
  try {
    const binaries = buildDriver(folder);
    const natives = NATIVE.filter((native) => {
      if (!chosen(native.name)) return false;
      if (native.preload === null || existsSync(native.preload)) return true;
      report.write(`${native.name} skipped: ${native.preload} not found (run bash bench/setup-alloc.sh)\n`);
      return false;
    });
    for (const workload of options.workloads ?? WORKLOADS) {
      const sequence = buildWorkload(workload, options.scale, options.liveSlots);
      const opsFile = join(folder, `${workload}.ops`);
      writeFileSync(opsFile, new Uint8Array(sequence.ops.buffer));
      const live = `${sequence.slots.toLocaleString("en-US")} slots, peak live ${(sequence.peakLiveBytes / 1024).toFixed(0)} KiB`;
      process.stderr.write(`${workload}: ${sequence.opCount.toLocaleString("en-US")} ops (${live})${options.blockCache === false ? ", memspace without its free-block cache" : ""}\n`);
      // Every allocator once a round, the rounds one after another, so a slow spell of this
      // shared machine hits them alike; each figure is the median over rounds.
      // @thi.ng/malloc runs in the first round only: its ratio is not in doubt.
      const samples = new Map<string, Sample[]>();
      const add = (allocator: string, sample: Sample): void => void samples.set(allocator, [...(samples.get(allocator) ?? []), sample]);
      const drive = (binary: string, env: NodeJS.ProcessEnv): Sample =>
        JSON.parse(execFileSync(binary, [opsFile, String(sequence.slots), String(options.runs)], { encoding: "utf8", env }).trim()) as Sample;
      for (let round = 0; round < options.rounds; round++) {
        for (const allocator of jsAllocators) {
          if (allocator !== THING || round === 0) add(allocator, measureJs(workload, allocator, options));
        }
        if (binaries === null) continue;
        for (const native of natives) {
          add(native.name, drive(binaries.driver, native.preload === null ? process.env : { ...process.env, LD_PRELOAD: native.preload }));
        }
        if (chosen(C_LOOP)) add(C_LOOP, { ...drive(binaries.loop, process.env), peakFootprintBytes: null });
      }
      const ours = samples.get("memspace") ?? [];
      for (const [allocator, list] of samples) {
        records.push({ workload, allocator, ...medianSample(list), peakLiveBytes: sequence.peakLiveBytes });
        if (list.every((sample, round) => sample.opsPerSec > 0 && (ours[round]?.opsPerSec ?? 0) > 0)) {
          ratios.set(`${workload}/${allocator}`, roundRatios(ours.slice(0, list.length).map((sample) => sample.opsPerSec), list.map((sample) => sample.opsPerSec)));
        }
      }
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
  // What each allocator adds to its replay loop: its ns per op less its loop's (JS or C).
  for (const r of records) {
    if (r.failure !== undefined || r.opsPerSec <= 0 || r.allocator === JS_LOOP || r.allocator === C_LOOP) continue;
    const loop = records.find((o) => o.workload === r.workload && o.allocator === ((JS_ALLOCATORS as readonly string[]).includes(r.allocator) ? JS_LOOP : C_LOOP));
    if (loop !== undefined && loop.opsPerSec > 0) r.netNsPerOp = Math.round((1e10 / r.opsPerSec - 1e10 / loop.opsPerSec)) / 10;
  }
  const rows = records.map((r) => {
    if (r.failure !== undefined) return [r.workload, r.allocator, r.failure, "-", "-", "-", "-", "-", "-"];
    const perRound = ratios.get(`${r.workload}/${r.allocator}`);
    const ratio = perRound === undefined ? "-" : formatRoundRatios(perRound);
    const nsPerOp = (1e9 / r.opsPerSec).toFixed(1);
    const net = r.netNsPerOp === undefined ? "-" : r.netNsPerOp.toFixed(1);
    if (r.peakFootprintBytes === null) {
      const cut = r.completedOps === undefined ? "" : ` (first ${r.completedOps.toLocaleString("en-US")} ops)`;
      return [r.workload, r.allocator, `${r.opsPerSec.toLocaleString("en-US")}${cut}`, ratio, nsPerOp, net, "-", "-", "-"];
    }
    const accounted = r.accountedFootprintBytes === undefined ? "-" : (r.accountedFootprintBytes / r.peakLiveBytes).toFixed(2);
    return [r.workload, r.allocator, r.opsPerSec, ratio, nsPerOp, net, (r.peakFootprintBytes / 2 ** 20).toFixed(1), (r.peakFootprintBytes / r.peakLiveBytes).toFixed(2), accounted];
  });
  report.write(renderTable(["workload", "allocator", "ops/s", "memspace/this", "ns/op", "net ns/op", "peak footprint MiB", "footprint/live", "accounted/live"], rows) + "\n");
  report.write("(loop-js, loop-c: each replay loop with an allocator that does nothing; net ns/op: an allocator's ns/op less its loop's, what it adds)\n");
  report.write(`(footprint: resident bytes as the kernel counts them, for every allocator; a workload writes the first byte of each block, and vm every page of its blocks, so untouched parts of large blocks are not resident; accounted: the JS allocator's own count; first N ops: a run stopped at its time budget, its live set still growing, which flatters it)\n`);
  report.write("(memspace/this > 1: memspace is faster; the median over rounds of each round's ratio, their range in brackets (thi.ng: round 1's). Targets: >= 10x thi.ng on larson and alloc-test; >= glibc on tiny-churn and larson; footprint/live <= 1.25 on alloc-test and larson)\n");
  if (options.json !== undefined) writeJsonDocument(options.json, records);
  if (chart !== undefined && chartPackages !== null) {
    await writeChartAtomic(chartPackages, records, chart);
    report.write(`wrote ${chart}\n`);
  }
  return records;
}

/**
 * The chart, written as every output is (OutputFile): writeAllocChart writes the temporary
 * file beside `path`, which replaces `path` only once the whole SVG is there.
 */
async function writeChartAtomic(packages: ChartPackages, records: AllocBenchRecord[], path: string): Promise<void> {
  const output = OutputFile.create(path);
  try {
    await writeAllocChart(packages, records, output.temporaryPath);
    output.commit();
  } catch (error) {
    output.discard();
    throw error;
  }
}

function chartPath(text: string): string {
  if (text === STDOUT_PATH) throw new BenchOptionError("--chart needs a file name (the SVG does not go to stdout)");
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

if (process.argv[1] !== undefined && resolve(process.argv[1]) === HERE) {
  if (process.argv[2] === "--one") {
    await runOne(JSON.parse(process.argv[3]) as ChildJob);
  } else {
    await runBenchMain(command, (options: AllocCommandOptions) =>
      runAllocBench({
        ...options,
        liveSlots: options.slots,
        slowBudgetSeconds: options.budget,
      }),
    );
  }
}
