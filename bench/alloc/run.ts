/**
 * bench alloc's rounds: each workload's ops written once for the C driver, then every
 * allocator measured once a round in a fresh process (JS ones through bench/alloc/child.ts,
 * native ones by the C driver), the rounds interleaved; each figure the median over rounds.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runChild, runJsonProcess } from "../harness/child.js";
import { compileC } from "../harness/native.js";
import { BenchOptionError } from "../harness/options.js";
import { report, reportSkipped } from "../harness/output.js";
import { median, RoundSamples, roundRatios, roundSchedule } from "../harness/rounds.js";
import { withScratchFolder } from "../harness/scratch.js";
import { ALLOCATORS, C_LOOP, JS_ALLOCATORS, JS_LOOP, loadThingMalloc, NATIVE, THING, THING_PACKAGE, type JsAllocatorName } from "./contestants.js";
import { SLOW_RUN_BUDGET_SECONDS, type ChildJob, type FeltFigures, type Sample } from "./job.js";
import type { AllocBenchRecord } from "./record.js";
import { buildWorkload, WORKLOADS, type Workload } from "./workloads.js";

const DRIVER_SOURCE = resolve(fileURLToPath(import.meta.url), "../../../../bench/native/alloc-driver.c");
const CHILD_SCRIPT = new URL("./child.js", import.meta.url);

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

/** The records, and memspace's ops/s over each allocator's per round (by `workload/allocator`). */
export interface AllocMeasurements {
  records: AllocBenchRecord[];
  ratios: Map<string, number[]>;
}

/** The figures of FeltFigures, each a median over rounds as the others. */
const FELT_FIGURES = ["p50Ns", "p99Ns", "p999Ns", "maxNs", "minorFaults", "peakRssBytes"] as const satisfies ReadonlyArray<keyof FeltFigures>;

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
  for (const figure of FELT_FIGURES) {
    const value = middle(list.map((s) => s[figure]));
    if (typeof value === "number") sample[figure] = value;
  }
  return sample;
}

function measureJs(workload: Workload, allocator: JsAllocatorName, options: AllocBenchOptions): Sample {
  return runChild<ChildJob, Sample>(CHILD_SCRIPT, {
    workload,
    allocator,
    scale: options.scale,
    runs: options.runs,
    liveSlots: options.liveSlots,
    blockCache: options.blockCache ?? true,
    slowBudgetSeconds: options.slowBudgetSeconds ?? SLOW_RUN_BUDGET_SECONDS,
  });
}

/** The C driver, and its build with the do-nothing allocator (C_LOOP); null where gcc fails. */
function buildDriver(folder: string): { driver: string; loop: string } | null {
  const driver = join(folder, "alloc-driver");
  const loop = join(folder, "alloc-driver-loop");
  const failure = compileC(DRIVER_SOURCE, driver) ?? compileC(DRIVER_SOURCE, loop, ["-DLOOP_ONLY"]);
  if (failure === null) return { driver, loop };
  reportSkipped("native allocators", `cannot build the C driver (${failure})`);
  return null;
}

/**
 * The JS allocators to run: THING only where its package is installed (else a line says so;
 * asked for by name, it is an error).
 */
export async function availableJsAllocators(chosen: (name: string) => boolean, named: boolean): Promise<JsAllocatorName[]> {
  const thingMissing = chosen(THING) && (await loadThingMalloc()) === null;
  if (thingMissing) {
    if (named) throw new BenchOptionError(`${THING_PACKAGE} is not installed; install it to include ${THING}, or leave ${THING} out of --allocators`);
    report.write(`bench alloc: ${THING_PACKAGE} is not installed; install it to include ${THING}, or pass --allocators ${ALLOCATORS.filter((name) => name !== THING).join(",")} to leave it out\n`);
  }
  return JS_ALLOCATORS.filter((name) => chosen(name) && !(name === THING && thingMissing));
}

/** Every chosen allocator on every workload, over the rounds. */
export function measureAllocators(options: AllocBenchOptions, jsAllocators: JsAllocatorName[], chosen: (name: string) => boolean): AllocMeasurements {
  const records: AllocBenchRecord[] = [];
  // memspace's ops/s over each allocator's, per workload: taken within each round (the two
  // runs seconds apart, so in the same spell of this machine); the table shows their median
  // over rounds and their range.
  const ratios = new Map<string, number[]>();
  withScratchFolder("alloc", (folder) => {
    const binaries = buildDriver(folder);
    const natives = NATIVE.filter((native) => {
      if (!chosen(native.name)) return false;
      if (native.preload === null || existsSync(native.preload)) return true;
      reportSkipped(native.name, `${native.preload} not found (run bash bench/setup-alloc.sh)`);
      return false;
    });
    for (const workload of options.workloads ?? WORKLOADS) {
      const sequence = buildWorkload(workload, options.scale, options.liveSlots);
      const opsFile = join(folder, `${workload}.ops`);
      writeFileSync(opsFile, new Uint8Array(sequence.ops.buffer));
      const live = `${sequence.slots.toLocaleString("en-US")} slots, peak live ${(sequence.peakLiveBytes / 1024).toFixed(0)} KiB`;
      process.stderr.write(`${workload}: ${sequence.opCount.toLocaleString("en-US")} ops (${live})${options.blockCache === false ? ", memspace without its free-block cache" : ""}\n`);
      const samples = new RoundSamples<Sample>();
      const drive = (binary: string, env: NodeJS.ProcessEnv): Sample => runJsonProcess<Sample>(binary, [opsFile, String(sequence.slots), String(options.runs)], env);
      // Each round: the JS allocators, then the native ones and the C loop.
      // @thi.ng/malloc runs in the first round only: its ratio is not in doubt.
      const contestants: Array<{ name: string; measure: () => Sample; firstRoundOnly?: boolean }> = jsAllocators.map((allocator) => ({
        name: allocator,
        measure: () => measureJs(workload, allocator, options),
        firstRoundOnly: allocator === THING,
      }));
      if (binaries !== null) {
        for (const native of natives) {
          contestants.push({ name: native.name, measure: () => drive(binaries.driver, native.preload === null ? process.env : { ...process.env, LD_PRELOAD: native.preload }) });
        }
        if (chosen(C_LOOP)) contestants.push({ name: C_LOOP, measure: () => ({ ...drive(binaries.loop, process.env), peakFootprintBytes: null }) });
      }
      for (const { contestant, round } of roundSchedule(contestants, { rounds: options.rounds })) {
        if (contestant.firstRoundOnly !== true || round === 0) samples.add(contestant.name, contestant.measure());
      }
      const ours = samples.get("memspace");
      for (const [allocator, list] of samples.byKey) {
        records.push({ workload, allocator, ...medianSample(list), peakLiveBytes: sequence.peakLiveBytes });
        if (list.every((sample, round) => sample.opsPerSec > 0 && (ours[round]?.opsPerSec ?? 0) > 0)) {
          ratios.set(`${workload}/${allocator}`, roundRatios(ours.slice(0, list.length).map((sample) => sample.opsPerSec), list.map((sample) => sample.opsPerSec)));
        }
      }
    }
  });
  // What each allocator adds to its replay loop: its ns per op less its loop's (JS or C).
  for (const r of records) {
    if (r.failure !== undefined || r.opsPerSec <= 0 || r.allocator === JS_LOOP || r.allocator === C_LOOP) continue;
    const loop = records.find((o) => o.workload === r.workload && o.allocator === ((JS_ALLOCATORS as readonly string[]).includes(r.allocator) ? JS_LOOP : C_LOOP));
    if (loop !== undefined && loop.opsPerSec > 0) r.netNsPerOp = Math.round((1e10 / r.opsPerSec - 1e10 / loop.opsPerSec)) / 10;
  }
  return { records, ratios };
}
