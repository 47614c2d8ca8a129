/**
 * The CLI's fixed cost (`memspace bench startup`; `npm run bench:startup`): wall-clock time of
 * a fresh process running `node -e 0`, `memspace --help` and `memspace replay` of an empty
 * trace, each many times, and the same two commands from the unbundled modules, to show what
 * the bundle saves. Commands are interleaved within each round (every other round in
 * reverse, so machine noise spreads over all of them) after a warm-up round; the figure
 * above `node -e 0` is the median over rounds of each round's difference.
 */
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, benchMain } from "./harness/options.js";
import { report, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, RoundSamples, roundSchedule } from "./harness/rounds.js";
import { withScratchFolder } from "./harness/scratch.js";

/** The `memspace` command as installed (the bundle of scripts/bundle-cli.mjs), built beside this file. */
const CLI_BUNDLE = fileURLToPath(new URL("../src/cli/memspace.cjs", import.meta.url));
/** The same command unbundled, as tsc builds it: its ES modules load one by one. */
const CLI_MODULES = fileURLToPath(new URL("../src/cli/main.js", import.meta.url));
/** What the CLI may add to a bare node process. */
const TARGET_ABOVE_NODE_MS = 30;
const NODE_BASELINE = "node -e 0";
const NANOSECONDS_PER_MS = 1e6;
/** Figures in ms to the microsecond: process start-up varies by far more. */
const roundToMicroseconds = (ms: number): number => Math.round(ms * 1e3) / 1e3;

export interface StartupBenchOptions {
  rounds: number;
  json?: string;
}

export interface StartupRow {
  command: string;
  medianMs: number;
  minMs: number;
  maxMs: number;
  /** The median over rounds of this command's time less `node -e 0`'s in the same round; null for `node -e 0`. */
  medianAboveNodeMs: number | null;
  /** Whether medianAboveNodeMs is within the target; null for `node -e 0`. */
  meetsTarget: boolean | null;
}

export interface StartupReport {
  rounds: number;
  targetAboveNodeMs: number;
  rows: StartupRow[];
}

interface StartupCommand {
  name: string;
  args: string[];
}

/** One fresh process, wall clock from spawn to exit. */
function timeProcess(command: StartupCommand): number {
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, command.args, { stdio: "ignore" });
  const elapsedMs = Number(process.hrtime.bigint() - start) / NANOSECONDS_PER_MS;
  if (child.status !== 0) throw new Error(`${command.name} exited with ${child.status ?? child.signal}`);
  return elapsedMs;
}

export function runStartupBench(options: StartupBenchOptions): StartupReport {
  return withScratchFolder("startup", (folder) => {
    const emptyTrace = join(folder, "empty.trace");
    writeFileSync(emptyTrace, new Uint8Array(0));
    const commands: StartupCommand[] = [
      { name: NODE_BASELINE, args: ["-e", "0"] },
      { name: "memspace --help", args: [CLI_BUNDLE, "--help"] },
      { name: "memspace replay EMPTY", args: [CLI_BUNDLE, "replay", emptyTrace] },
      { name: "unbundled main.js --help", args: [CLI_MODULES, "--help"] },
      { name: "unbundled main.js replay EMPTY", args: [CLI_MODULES, "replay", emptyTrace] },
    ];
    report.write(`${commands.length} commands, each a fresh process; a warm-up round, then ${options.rounds} timed rounds, interleaved\n`);
    const samples = new RoundSamples<number>();
    for (const { contestant: command, timed } of roundSchedule(commands, { rounds: options.rounds, warmUp: true, alternate: true })) {
      const elapsedMs = timeProcess(command);
      if (timed) samples.add(command.name, elapsedMs);
    }
    const baseline = samples.get(NODE_BASELINE);
    const rows = commands.map(({ name }): StartupRow => {
      const times = samples.get(name);
      const aboveNodeMs = name === NODE_BASELINE ? null : median(times.map((ms, round) => ms - baseline[round]));
      return {
        command: name,
        medianMs: roundToMicroseconds(median(times)),
        minMs: roundToMicroseconds(Math.min(...times)),
        maxMs: roundToMicroseconds(Math.max(...times)),
        medianAboveNodeMs: aboveNodeMs === null ? null : roundToMicroseconds(aboveNodeMs),
        meetsTarget: aboveNodeMs === null ? null : aboveNodeMs <= TARGET_ABOVE_NODE_MS,
      };
    });
    reportTable(
      ["command", "median ms", "min ms", "max ms", "above node -e 0 ms", "target met"],
      rows.map((row) => [
        row.command,
        row.medianMs,
        row.minMs,
        row.maxMs,
        row.medianAboveNodeMs === null ? "-" : row.medianAboveNodeMs.toFixed(2),
        row.meetsTarget === null ? "-" : row.meetsTarget ? "yes" : "no",
      ]),
      `\n(target: at most ${TARGET_ABOVE_NODE_MS} ms above ${NODE_BASELINE}, the median over rounds of each round's difference)\n`,
    );
    const result: StartupReport = { rounds: options.rounds, targetAboveNodeMs: TARGET_ABOVE_NODE_MS, rows };
    if (options.json !== undefined) writeJsonDocument(options.json, result);
    return result;
  });
}

const command = benchCommand("startup")
  .addOption(quickOption("fewer rounds: a quick check that everything runs"))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 30, quick: 5 }))
  .addOption(jsonOption());

await benchMain(import.meta.url, command, runStartupBench);
