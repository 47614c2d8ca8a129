/**
 * What memory hooks cost a running guest (`memspace bench hooks`; `npm run bench:hooks`):
 * fib-imac (../shared) and the vm guest (guests/build, heavy data traffic), each run with no
 * hook, with a read hook over 64 bytes the guest never reads (the cost of routing every
 * access through the hooks), and with one over all memory (every load calls it: the cost
 * of the calls too). Each run is a fresh process; variants interleave
 * within a round; the table shows medians over the timed rounds and each variant's time
 * over no hook's, the median of the rounds' ratios.
 */
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runGuest } from "../src/guest/run-guest.js";
import { childJob, runChild, writeChildResult } from "./harness/child.js";
import { benchCommand, benchMain, jsonOption, positiveIntegerOption, quickOption } from "./harness/options.js";
import { report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, RoundSamples, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const VARIANTS = ["no hook", "read hook, 64 B never read", "read hook, all memory"] as const;
type Variant = (typeof VARIANTS)[number];
/** Bytes the small read hook watches. */
const SMALL_HOOK_BYTES = 64;
const SPACE_BYTES = 1n << 64n;
/** An address no guest here reads: below every segment. */
const UNREAD_ADDRESS = 0x100n;

interface Workload {
  name: string;
  file: string;
  stdin?: string;
}

interface HooksJob {
  file: string;
  stdin?: string;
  variant: Variant;
}

interface HooksChildResult {
  milliseconds: number;
  instructions: number;
  hookCalls: number;
}

export interface HooksBenchOptions {
  rounds: number;
  json?: string;
}

export interface HooksBenchRow {
  guest: string;
  variant: Variant;
  instructions: number;
  hookCalls: number;
  medianMs: number;
  /** Median over rounds of this variant's time over no hook's. */
  overNoHook: number;
}

function runOne(job: HooksJob): HooksChildResult {
  let hookCalls = 0;
  const result = runGuest(job.file, {
    stdin: job.stdin === undefined ? undefined : new Uint8Array(Buffer.from(job.stdin)),
    write: () => undefined,
    setup: (session) => {
      if (job.variant === "no hook") return;
      const small = job.variant === "read hook, 64 B never read";
      session.space.addHook("read", small ? UNREAD_ADDRESS : 0n, small ? SMALL_HOOK_BYTES : SPACE_BYTES, () => void hookCalls++);
    },
  });
  if (result.stopReason !== "exit" || result.exitCode !== 0) throw new Error(`${job.file}: ${result.stopReason}, exit code ${result.exitCode}`);
  return { milliseconds: result.milliseconds, instructions: result.instructions, hookCalls };
}

export function runHooksBench(options: HooksBenchOptions): HooksBenchRow[] {
  return withScratchFolder("hooks", () => {
    const workloads: Workload[] = [];
    const fibImac = resolve(REPO_ROOT, "../shared/guests/fib-imac");
    if (existsSync(fibImac)) workloads.push({ name: "fib-imac", file: fibImac });
    else reportSkipped("fib-imac", `${fibImac} is missing`);
    const vm = join(REPO_ROOT, "guests/build/vm.elf");
    if (existsSync(vm)) workloads.push({ name: "vm (100k iterations)", file: vm, stdin: "100000\n" });
    else reportSkipped("vm", "run bash scripts/setup-guests.sh");
    report.write(`${workloads.length} guests x ${VARIANTS.length} variants, each run a fresh process; a warm-up round, then ${options.rounds} timed rounds, interleaved\n`);
    const rows: HooksBenchRow[] = [];
    for (const workload of workloads) {
      const samples = new RoundSamples<HooksChildResult>();
      const contestants = VARIANTS.map((variant) => ({ variant }));
      for (const { contestant, timed } of roundSchedule(contestants, { rounds: options.rounds, warmUp: true, alternate: true })) {
        const result = runChild<HooksJob, HooksChildResult>(import.meta.url, { file: workload.file, stdin: workload.stdin, variant: contestant.variant });
        if (timed) samples.add(contestant.variant, result);
      }
      const baseline = samples.get("no hook");
      for (const variant of VARIANTS) {
        const runs = samples.get(variant);
        rows.push({
          guest: workload.name,
          variant,
          instructions: runs[0].instructions,
          hookCalls: runs[0].hookCalls,
          medianMs: Math.round(median(runs.map((run) => run.milliseconds)) * 10) / 10,
          overNoHook: Math.round(median(runs.map((run, round) => run.milliseconds / baseline[round].milliseconds)) * 100) / 100,
        });
      }
    }
    reportTable(
      ["guest", "variant", "instructions", "hook calls", "median ms", "time / no hook"],
      rows.map((row) => [row.guest, row.variant, row.instructions.toLocaleString("en-US"), row.hookCalls.toLocaleString("en-US"), row.medianMs, row.overNoHook.toFixed(2)]),
      "\n(a read hook routes every fetch, load and store through the hooks' checks; only reads in its range call it)\n",
    );
    if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, rows });
    return rows;
  });
}

const job = childJob<HooksJob>();
if (job !== undefined) {
  writeChildResult(runOne(job));
} else {
  const command = benchCommand("hooks")
    .addOption(quickOption("fewer rounds: a quick check that everything runs"))
    .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 5, quick: 1 }))
    .addOption(jsonOption());
  await benchMain(import.meta.url, command, runHooksBench);
}
