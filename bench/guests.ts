/**
 * Guest execution speed (`npm run bench:guests`): million instructions per second on
 * fib-imac (../shared), our Fibonacci guest, the vm guest and Lua (guests/build), with and
 * without recording a trace. Each run is a fresh process (one workload's JIT feedback must
 * not slow the next); the table shows the median of the timed rounds after a warm-up.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFibGuest } from "../src/guest/fib-guest.js";
import { runGuest } from "../src/guest/run-guest.js";
import { childJob, runChild, writeChildResult } from "./harness/child.js";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, runBenchMain } from "./harness/options.js";
import { report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

const HERE = fileURLToPath(import.meta.url);
const REPO_ROOT = resolve(dirname(HERE), "../..");

interface Workload {
  name: string;
  file: string;
  stdin?: string;
}

export interface GuestsBenchOptions {
  rounds: number;
  json?: string;
}

/** One line of the table: a guest's speed, plain and recording its trace. */
export interface GuestsBenchRow {
  guest: string;
  instructions: number;
  traceOps: number;
  /** Million instructions per second, the median of the timed rounds. */
  mips: number;
  mipsWithTrace: number;
}

interface Sample {
  instructions: number;
  milliseconds: number;
  exitCode: number | null;
  traceOps?: number;
}

/** What a child process runs: one guest, recording its trace to `tracePath` if given. */
interface ChildJob {
  file: string;
  stdinFile?: string;
  tracePath?: string;
}

/** Child mode: run one guest and print a JSON sample. */
function runOne({ file, stdinFile, tracePath }: ChildJob): void {
  const result = runGuest(file, {
    stdin: stdinFile ? readFileSync(stdinFile) : undefined,
    tracePath,
    write: () => {},
  });
  const sample: Sample = { instructions: result.instructions, milliseconds: result.milliseconds, exitCode: result.exitCode, traceOps: result.traceOps };
  writeChildResult(sample);
}

function measure(workload: Workload, tracePath: string | undefined): Sample {
  const sample = runChild<ChildJob, Sample>(import.meta.url, { file: workload.file, stdinFile: workload.stdin, tracePath });
  if (sample.exitCode !== 0) throw new Error(`${workload.name} exited with ${sample.exitCode}`);
  return sample;
}

export function runGuestsBench({ rounds, json }: GuestsBenchOptions): GuestsBenchRow[] {
  return withScratchFolder("guests", (folder) => {
    const workloads: Workload[] = [];
    const fibImac = resolve(REPO_ROOT, "../shared/guests/fib-imac");
    if (existsSync(fibImac)) workloads.push({ name: "fib-imac", file: fibImac });
    else reportSkipped("fib-imac", "../shared/guests/fib-imac not found");
    const ownFib = join(folder, "fib.elf");
    writeFileSync(ownFib, buildFibGuest(5_000_000));
    workloads.push({ name: "fib (ours)", file: ownFib });
    const built = join(REPO_ROOT, "guests/build");
    if (existsSync(join(built, "vm.elf"))) {
      const stdin = join(folder, "vm.in");
      writeFileSync(stdin, "100000\n");
      workloads.push({ name: "vm (100k iterations)", file: join(built, "vm.elf"), stdin });
      workloads.push({ name: "lua bench.lua", file: join(built, "lua.elf"), stdin: join(REPO_ROOT, "guests/lua/bench.lua") });
    } else reportSkipped("vm and lua", "run bash scripts/setup-guests.sh");
    const rows: GuestsBenchRow[] = [];
    for (const workload of workloads) {
      const trace = join(folder, "guest.trace");
      const plain: number[] = [];
      const traced: number[] = [];
      let instructions = 0;
      let traceOps = 0;
      // The warm-up round: page cache, disk.
      for (const { timed } of roundSchedule([workload], { rounds, warmUp: true })) {
        const a = measure(workload, undefined);
        const b = measure(workload, trace);
        rmSync(trace, { force: true });
        instructions = a.instructions;
        traceOps = b.traceOps ?? 0;
        if (!timed) continue;
        plain.push(a.instructions / a.milliseconds / 1e3);
        traced.push(b.instructions / b.milliseconds / 1e3);
      }
      rows.push({ guest: workload.name, instructions, traceOps, mips: median(plain), mipsWithTrace: median(traced) });
      report.write(`${workload.name}: done\n`);
    }
    const table = rows.map((row) => [row.guest, row.instructions, row.traceOps, row.mips, row.mipsWithTrace]);
    report.write("\n");
    reportTable(["guest", "instructions", "trace ops", "MIPS", "MIPS with --trace"], table);
    if (json !== undefined) writeJsonDocument(json, { rounds, rows });
    return rows;
  });
}

const command = benchCommand("guests")
  .addOption(quickOption("fewer rounds: a quick check that everything runs"))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 3, quick: 1 }))
  .addOption(jsonOption());

const job = childJob<ChildJob>();
if (job !== undefined) runOne(job);
else await runBenchMain(command, runGuestsBench);
