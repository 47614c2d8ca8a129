/**
 * Guest execution speed (`npm run bench:guests`): million instructions per second on
 * fib-imac (../shared), our Fibonacci guest, the vm guest and Lua (guests/build), with and
 * without recording a trace. Each run is a fresh process (one workload's JIT feedback must
 * not slow the next); the table shows the median of the timed rounds after a warm-up.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { renderTable } from "../src/cli/table.js";
import { buildFibGuest } from "../src/guest/fib-guest.js";
import { runGuest } from "../src/guest/run-guest.js";
import { median } from "../src/util/median.js";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, report, runBenchMain, writeJsonDocument } from "./options.js";

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

/** Child mode: run one guest and print a JSON sample. */
function runOne(file: string, stdinFile: string | undefined, tracePath: string | undefined): void {
  const result = runGuest(file, {
    stdin: stdinFile ? readFileSync(stdinFile) : undefined,
    tracePath,
    write: () => {},
  });
  const sample: Sample = { instructions: result.instructions, milliseconds: result.milliseconds, exitCode: result.exitCode, traceOps: result.traceOps };
  process.stdout.write(JSON.stringify(sample) + "\n");
}

function measure(workload: Workload, trace: string | undefined): Sample {
  const args = [HERE, "--one", workload.file, workload.stdin ?? "-", trace ?? "-"];
  const sample = JSON.parse(execFileSync(process.execPath, args, { encoding: "utf8", maxBuffer: 1 << 20 }).trim()) as Sample;
  if (sample.exitCode !== 0) throw new Error(`${workload.name} exited with ${sample.exitCode}`);
  return sample;
}

export function runGuestsBench({ rounds, json }: GuestsBenchOptions): GuestsBenchRow[] {
  const folder = mkdtempSync(join(tmpdir(), "memspace-guests-"));
  try {
    const workloads: Workload[] = [];
    const fibImac = resolve(REPO_ROOT, "../shared/guests/fib-imac");
    if (existsSync(fibImac)) workloads.push({ name: "fib-imac", file: fibImac });
    else report.write("fib-imac skipped: ../shared/guests/fib-imac not found\n");
    const ownFib = join(folder, "fib.elf");
    writeFileSync(ownFib, buildFibGuest(5_000_000));
    workloads.push({ name: "fib (ours)", file: ownFib });
    const built = join(REPO_ROOT, "guests/build");
    if (existsSync(join(built, "vm.elf"))) {
      const stdin = join(folder, "vm.in");
      writeFileSync(stdin, "100000\n");
      workloads.push({ name: "vm (100k iterations)", file: join(built, "vm.elf"), stdin });
      workloads.push({ name: "lua bench.lua", file: join(built, "lua.elf"), stdin: join(REPO_ROOT, "guests/lua/bench.lua") });
    } else report.write("vm and lua skipped: run bash scripts/setup-guests.sh\n");
    const rows: GuestsBenchRow[] = [];
    for (const workload of workloads) {
      const trace = join(folder, "guest.trace");
      const plain: number[] = [];
      const traced: number[] = [];
      let instructions = 0;
      let traceOps = 0;
      for (let round = 0; round <= rounds; round++) {
        const a = measure(workload, undefined);
        const b = measure(workload, trace);
        rmSync(trace, { force: true });
        instructions = a.instructions;
        traceOps = b.traceOps ?? 0;
        if (round === 0) continue; // warm-up: page cache, disk
        plain.push(a.instructions / a.milliseconds / 1e3);
        traced.push(b.instructions / b.milliseconds / 1e3);
      }
      rows.push({ guest: workload.name, instructions, traceOps, mips: median(plain), mipsWithTrace: median(traced) });
      report.write(`${workload.name}: done\n`);
    }
    const table = rows.map((row) => [row.guest, row.instructions, row.traceOps, row.mips, row.mipsWithTrace]);
    report.write("\n" + renderTable(["guest", "instructions", "trace ops", "MIPS", "MIPS with --trace"], table) + "\n");
    if (json !== undefined) writeJsonDocument(json, { rounds, rows });
    return rows;
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

const command = benchCommand("guests")
  .addOption(quickOption("fewer rounds: a quick check that everything runs"))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 3, quick: 1 }))
  .addOption(jsonOption());

const args = process.argv.slice(2);
if (args[0] === "--one") runOne(args[1], args[2] === "-" ? undefined : args[2], args[3] === "-" ? undefined : args[3]);
else await runBenchMain(command, runGuestsBench);
