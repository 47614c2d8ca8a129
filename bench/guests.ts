/**
 * Guest execution speed (`npm run bench:guests`): fib-imac (../shared), our Fibonacci guest
 * and the benchmark programs built for Linux by guests/build-linux.sh (hash, sort, hashtable,
 * vm, Lua), run translated (the default), with --interpreter and recording a trace, and by
 * qemu-riscv64 where it is installed: the same binary, in the same run.
 *
 * memspace's MIPS are the guest's instructions over the run as runGuest times it (loading
 * left out), in a fresh node process per run; "wall" is `memspace run` as a user starts it,
 * the whole process, beside qemu-riscv64's whole process. The translator's cost comes from
 * the translated runs: blocks and regions built, code pages dropped, milliseconds building,
 * and the time to the first instruction (from runGuest's call: loading the ELF and
 * building the space; a block is translated only once it ran hot, so never before it). Rounds are
 * interleaved and the table shows medians over the timed rounds, after a warm-up round;
 * "time / qemu" is the median over rounds of each round's ratio, its range in brackets.
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildFibGuest } from "../src/guest/fib-guest.js";
import { runGuest } from "../src/guest/run-guest.js";
import type { TranslatorStats } from "../src/guest/translator/block-translator.js";
import { childJob, runChild, writeChildResult } from "./harness/child.js";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, runBenchMain } from "./harness/options.js";
import { dash, report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { formatRoundRatios, median, ratioFigures, RoundSamples, roundRatios, roundSchedule, type RoundRatioFigures } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

const HERE = fileURLToPath(import.meta.url);
const REPO_ROOT = resolve(dirname(HERE), "../..");
const CLI = resolve(dirname(HERE), "../src/cli/memspace.cjs");
const LINUX_BENCH_BUILDS = join(REPO_ROOT, "guests/build/linux-bench");
const QEMU = "qemu-riscv64";
/** ELF header: e_flags, and its float-ABI field (0: soft float; 4: double). */
const ELF_FLAGS_OFFSET = 0x30;
const ELF_FLOAT_ABI_MASK = 0x6;
const ELF_FLOAT_ABI_DOUBLE = 0x4;

interface Workload {
  name: string;
  file: string;
  /** The file qemu-riscv64 runs (the same code); null: qemu cannot run it. */
  qemuFile: string | null;
  stdin?: string;
}

export interface GuestsBenchOptions {
  rounds: number;
  /** Iterations of the vm guest (its standard input). */
  vmIterations: number;
  json?: string;
}

/** One line of the table. */
export interface GuestsBenchRow {
  guest: string;
  instructions: number;
  traceOps: number;
  /** Million instructions per second translated (the default), plain and recording a trace, and interpreted: medians over rounds. */
  mips: number;
  mipsWithTrace: number;
  mipsInterpreter: number;
  /** Whole-process seconds of `memspace run` and of qemu-riscv64 (null: not run), medians over rounds. */
  wallSeconds: number;
  qemuWallSeconds: number | null;
  /** memspace's whole-process time over qemu's, per round. */
  timeOverQemu: RoundRatioFigures | null;
  /** The translator's work in a plain run, and the time from runGuest's call to the first instruction (loading the ELF, building the space). */
  translation: TranslatorStats;
  firstInstructionMs: number;
}

interface Sample {
  instructions: number;
  milliseconds: number;
  exitCode: number | null;
  traceOps?: number;
  translation?: TranslatorStats;
  firstInstructionMs: number;
}

/** What a child process runs: one guest, recording its trace to `tracePath` if given. */
interface ChildJob {
  file: string;
  stdinFile?: string;
  tracePath?: string;
  interpreter: boolean;
}

/** Child mode: run one guest and print a JSON sample. */
function runOne({ file, stdinFile, tracePath, interpreter }: ChildJob): void {
  const stdin = stdinFile ? readFileSync(stdinFile) : undefined;
  const called = performance.now();
  const result = runGuest(file, { stdin, tracePath, interpreter, write: () => {} });
  const sample: Sample = {
    instructions: result.instructions,
    milliseconds: result.milliseconds,
    exitCode: result.exitCode,
    traceOps: result.traceOps,
    translation: result.translation,
    firstInstructionMs: performance.now() - result.milliseconds - called,
  };
  writeChildResult(sample);
}

type Mode = "translated" | "interpreter" | "traced";

function measure(workload: Workload, mode: Mode, tracePath: string): Sample {
  const job: ChildJob = { file: workload.file, stdinFile: workload.stdin, interpreter: mode === "interpreter", tracePath: mode === "traced" ? tracePath : undefined };
  const sample = runChild<ChildJob, Sample>(import.meta.url, job);
  rmSync(tracePath, { force: true });
  if (sample.exitCode !== 0) throw new Error(`${workload.name} (${mode}) exited with ${sample.exitCode}`);
  return sample;
}

/** Seconds `file args` takes as a whole process, its output thrown away; a failure is an error. */
function wallSeconds(file: string, args: string[], stdin: string | undefined, what: string): number {
  const input = stdin === undefined ? undefined : readFileSync(stdin);
  const started = performance.now();
  const child = spawnSync(file, args, { input, stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"], encoding: "utf8" });
  const seconds = (performance.now() - started) / 1e3;
  if (child.error !== undefined || child.status !== 0) throw new Error(`${what}: ${child.error?.message ?? `exit status ${child.status}`} ${child.stderr ?? ""}`);
  return seconds;
}

function hasQemu(): boolean {
  return spawnSync(QEMU, ["--version"], { stdio: "ignore" }).status === 0;
}

/**
 * A copy of `file` that qemu-riscv64 loads: qemu 7.2 refuses an ELF marked soft-float (exit
 * status 1, no message) whatever its code. fib-imac uses no floating point at all, so the
 * copy marked double-float runs the same instructions.
 */
function qemuLoadableCopy(file: string, folder: string): string {
  const bytes = readFileSync(file);
  const flags = bytes.readUInt32LE(ELF_FLAGS_OFFSET);
  if ((flags & ELF_FLOAT_ABI_MASK) !== 0) return file;
  bytes.writeUInt32LE(flags | ELF_FLOAT_ABI_DOUBLE, ELF_FLAGS_OFFSET);
  const copy = join(folder, `${file.split("/").pop()}.qemu`);
  writeFileSync(copy, bytes, { mode: 0o755 });
  return copy;
}

function workloads(folder: string, options: GuestsBenchOptions, qemu: boolean): Workload[] {
  const list: Workload[] = [];
  const fibImac = resolve(REPO_ROOT, "../shared/guests/fib-imac");
  if (existsSync(fibImac)) list.push({ name: "fib-imac", file: fibImac, qemuFile: qemu ? qemuLoadableCopy(fibImac, folder) : null });
  else reportSkipped("fib-imac", "../shared/guests/fib-imac not found");
  const ownFib = join(folder, "fib.elf");
  writeFileSync(ownFib, buildFibGuest(5_000_000), { mode: 0o755 });
  list.push({ name: "fib (ours)", file: ownFib, qemuFile: qemu ? qemuLoadableCopy(ownFib, folder) : null });
  if (!existsSync(join(LINUX_BENCH_BUILDS, "vm"))) {
    reportSkipped("hash, sort, hashtable, vm, lua", "run bash scripts/setup-guests.sh");
    return list;
  }
  const vmInput = join(folder, "vm.in");
  writeFileSync(vmInput, `${options.vmIterations}\n`);
  const built = (name: string, label: string, stdin?: string): Workload => {
    const file = join(LINUX_BENCH_BUILDS, name);
    return { name: label, file, qemuFile: qemu ? file : null, stdin };
  };
  list.push(built("hash", "hash"), built("sort", "sort"), built("hashtable", "hashtable"));
  list.push(built("vm", `vm (${options.vmIterations} iterations)`, vmInput));
  list.push(built("lua", "lua bench.lua", join(REPO_ROOT, "guests/lua/bench.lua")));
  return list;
}

export function runGuestsBench(options: GuestsBenchOptions): GuestsBenchRow[] {
  return withScratchFolder("guests", (folder) => {
    const qemu = hasQemu();
    if (!qemu) reportSkipped("qemu-riscv64", "not installed (scripts/setup-guests.sh installs it)");
    const rows: GuestsBenchRow[] = [];
    const qemuRatios: (number[] | null)[] = [];
    const trace = join(folder, "guest.trace");
    for (const workload of workloads(folder, options, qemu)) {
      const samples = new RoundSamples<Sample>();
      const walls = new RoundSamples<number>();
      const steps: string[] = ["translated", "interpreter", "traced", "wall", ...(workload.qemuFile === null ? [] : ["qemu"])];
      for (const { contestant, timed } of roundSchedule(steps, { rounds: options.rounds, warmUp: true, alternate: true })) {
        if (contestant === "wall") {
          const seconds = wallSeconds(process.execPath, [CLI, "run", workload.file], workload.stdin, `memspace run ${workload.name}`);
          if (timed) walls.add("memspace", seconds);
        } else if (contestant === "qemu") {
          const seconds = wallSeconds(QEMU, [workload.qemuFile!], workload.stdin, `qemu-riscv64 ${workload.name}`);
          if (timed) walls.add("qemu", seconds);
        } else {
          const sample = measure(workload, contestant as Mode, trace);
          if (timed) samples.add(contestant, sample);
        }
      }
      const mipsOf = (mode: Mode): number => samples.median(mode, (s) => s.instructions / s.milliseconds / 1e3);
      const translated = samples.get("translated");
      const qemuWalls = walls.has("qemu") ? walls.get("qemu") : null;
      const overQemu = qemuWalls === null ? null : roundRatios(walls.get("memspace"), qemuWalls);
      qemuRatios.push(overQemu);
      rows.push({
        guest: workload.name,
        instructions: translated[0].instructions,
        traceOps: samples.get("traced")[0].traceOps ?? 0,
        mips: mipsOf("translated"),
        mipsWithTrace: mipsOf("traced"),
        mipsInterpreter: mipsOf("interpreter"),
        wallSeconds: median(walls.get("memspace")),
        qemuWallSeconds: qemuWalls === null ? null : median(qemuWalls),
        timeOverQemu: ratioFigures(overQemu),
        translation: translated[translated.length >> 1].translation!,
        firstInstructionMs: samples.median("translated", (s) => s.firstInstructionMs),
      });
      report.write(`${workload.name}: done\n`);
    }
    report.write("\n");
    reportTable(
      ["guest", "instructions", "MIPS", "MIPS --interpreter", "MIPS --trace", "wall s", "qemu wall s", "time / qemu", "blocks", "regions", "dropped", "translate ms", "first instr. ms"],
      rows.map((row, index) => [
        row.guest,
        row.instructions,
        row.mips,
        row.mipsInterpreter,
        row.mipsWithTrace,
        row.wallSeconds.toFixed(3),
        dash(row.qemuWallSeconds?.toFixed(3)),
        qemuRatios[index] === null ? "-" : formatRoundRatios(qemuRatios[index]!),
        row.translation.blocks,
        row.translation.regions,
        row.translation.invalidations,
        row.translation.translateMs.toFixed(1),
        Math.round(row.firstInstructionMs),
      ]),
      "\n(MIPS: instructions over the run as memspace times it; wall: the whole process; dropped: code pages whose translations were dropped;" +
        " first instr.: ms from runGuest's call to the first instruction)\n",
    );
    if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, rows });
    return rows;
  });
}

const command = benchCommand("guests")
  .addOption(quickOption("fewer rounds and a shorter vm run: a quick check that everything runs"))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 3, quick: 1 }))
  .addOption(positiveIntegerOption("vm-iterations", "iterations of the vm guest", { normal: 300_000, quick: 20_000 }))
  .addOption(jsonOption());

const job = childJob<ChildJob>();
if (job !== undefined) runOne(job);
else await runBenchMain(command, runGuestsBench);
