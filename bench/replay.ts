/**
 * Replay benchmark (`npm run bench:replay`): replays a Fib-shaped trace of the full
 * 117,000,007 ops and an ExecBlock-shaped trace, and the real traces recorded from
 * fib-imac (../shared) and the vm guest (guests/build) where those exist, on noop, map and
 * paged, and on the native reference replayer (../shared/anchors/seed_replay.rs, built
 * with rustc -O) when rustc is on the machine, all on the same files in the same run.
 *
 * Each trace is also converted to the v2 container and replayed from it onto paged, with 1
 * and with 2 decode workers (`--v2-workers`), beside the seed file; `--cold` adds runs of
 * paged from the seed and from the v2 file with each file's pages dropped from the page
 * cache first (posix_fadvise DONTNEED, through dd), as a trace too big to cache is read.
 *
 * Each measurement runs in a fresh process (so one backend's JIT feedback cannot slow
 * another), contestants are interleaved within each round (so machine noise spreads over
 * all of them), a warm-up round reads every trace into the page cache first, and the table
 * shows the median of the timed rounds; its ratios are the median over rounds of each
 * round's ratio (roundRatios), as bench alloc and bench frames take theirs, shown with their range.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { replayInFreshProcess, type ReplayCommandOptions } from "../src/cli/replay-command.js";
import { BACKEND_KINDS, type BackendKind } from "../src/space/backend.js";
import { runGuest } from "../src/guest/run-guest.js";
import { generateTrace } from "../src/trace/generators.js";
import { convertTrace } from "../src/trace/convert.js";
import { spawnSync } from "node:child_process";
import { runProcess } from "./harness/child.js";
import { compileRust, hasRustc } from "./harness/native.js";
import { benchCommand, countList, jsonOption, nonNegativeIntegerOption, positiveIntegerOption, quickOption, benchMain, valueOption } from "./harness/options.js";
import { report, reportSkipped, reportTable, writeJsonDocument } from "./harness/output.js";
import { formatRoundRatios, median, ratioFigures, RoundSamples, roundRatios, roundSchedule, type RoundRatioFigures } from "./harness/rounds.js";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ANCHOR_SOURCE = process.env.MEMSPACE_ANCHOR ?? resolve(REPO_ROOT, "../shared/anchors/seed_replay.rs");
const FIB_REFERENCE_OPS = 117_000_007;
const EXECBLOCK_DEFAULT_OPS = 200_000_000;

export interface ReplayBenchOptions {
  fibOps: number;
  execblockOps: number;
  /** Iterations of the vm guest for its recorded trace (about 7,200 ops each); 0: none. */
  vmIterations: number;
  rounds: number;
  folder?: string;
  keep: boolean;
  /** Decode-worker counts to replay the v2 file with; empty leaves v2 out. */
  v2Workers: number[];
  /** Also replay with the files dropped from the page cache. */
  cold: boolean;
  json?: string;
}

export type { RoundRatioFigures };

/** One line of the table: a replayer on a trace. */
export interface ReplayBenchRow {
  trace: string;
  replayer: string;
  ops: number;
  /** The replay as the replayer times itself (start-up and exit left out), median over rounds. */
  medianMs: number;
  /** The whole process, start to exit, as a user waits for it: median over rounds. */
  wallMedianMs: number;
  mopsPerSec: number;
  /** The replayer's time over noop's, per round; null for the native ones. */
  timeOverNoop: RoundRatioFigures | null;
  /** native paged's time over the replayer's (its throughput over native paged's), per round; null without the native reference. */
  throughputOverNativePaged: RoundRatioFigures | null;
  /** The same by whole-process wall time: native paged's over the replayer's, per round; null without the native reference. */
  wallThroughputOverNativePaged: RoundRatioFigures | null;
  /** The replayer's time over paged's from the seed file (cold over cold), per round; null for the native ones. */
  timeOverSeedPaged: RoundRatioFigures | null;
}

interface Measurement {
  contestant: string;
  /** The replay as the replayer times itself, start-up and exit left out. */
  milliseconds: number;
  /** The whole process as a user waits for it, start to exit, timed from here. */
  wallMilliseconds: number;
  ops: number;
  checksum: string;
}

/** A trace in both formats. */
interface TraceFiles {
  seed: string;
  v2: string;
}

type Contestant = { name: string; run: (files: TraceFiles) => Measurement };

/** `memspace replay` in a process of its own, as a user runs it: the replay as it timed itself, and the process whole. */
function measureFreshReplay(contestant: string, trace: string, backend: BackendKind, options?: ReplayCommandOptions): Measurement {
  const started = performance.now();
  const row = replayInFreshProcess(trace, backend, options);
  return { contestant, milliseconds: row.milliseconds, wallMilliseconds: performance.now() - started, ops: row.ops, checksum: row.checksum };
}

function jsContestant(backend: BackendKind): Contestant {
  return {
    name: backend,
    run(files) {
      return measureFreshReplay(backend, files.seed, backend);
    },
  };
}

/** paged from the v2 file with `workers` decode workers; cold: the file's pages dropped from the page cache first. */
function v2Contestant(workers: number, cold: boolean): Contestant {
  const name = `paged v2, ${workers} decode worker${workers === 1 ? "" : "s"}${cold ? ", cold" : ""}`;
  return {
    name,
    run(files) {
      if (cold) dropFromPageCache(files.v2);
      return measureFreshReplay(name, files.v2, "paged", { decodeWorkers: workers });
    },
  };
}

/** paged from the seed file, read from storage rather than the page cache. */
function coldSeedContestant(): Contestant {
  const name = "paged, cold";
  return {
    name,
    run(files) {
      dropFromPageCache(files.seed);
      return measureFreshReplay(name, files.seed, "paged");
    },
  };
}

/** Drops a file's pages from the page cache: GNU dd's nocache flag is posix_fadvise(DONTNEED) over the whole file. */
function dropFromPageCache(path: string): void {
  const result = spawnSync("dd", [`if=${path}`, "iflag=nocache", "count=0", "status=none"], { stdio: "ignore" });
  if (result.status !== 0) throw new Error(`dd could not drop ${path} from the page cache`);
}

function nativeContestant(binary: string, mode: "noop" | "paged"): Contestant {
  const name = `native ${mode}`;
  return {
    name,
    run(files) {
      const trace = files.seed;
      // Prints "<mode> <ms> ms <Mops/s> Mops/s ops=<n> pages=<p> checksum=<c>".
      const started = performance.now();
      const output = runProcess(binary, [trace, mode]);
      const wallMilliseconds = performance.now() - started;
      const match = /^\S+ (\d+(?:\.\d+)?) ms .* ops=(\d+) pages=\d+ checksum=(\d+)/.exec(output.trim());
      if (match === null) throw new Error(`unexpected output from ${binary}: ${output}`);
      return { contestant: name, milliseconds: Number(match[1]), wallMilliseconds, ops: Number(match[2]), checksum: match[3] };
    },
  };
}

/** Builds the native reference with rustc -O, or returns null (with the reason) if it cannot. */
function buildAnchor(folder: string): string | null {
  if (!existsSync(ANCHOR_SOURCE)) {
    reportSkipped("native reference", `${ANCHOR_SOURCE} not found`);
    return null;
  }
  if (!hasRustc()) {
    reportSkipped("native reference", "rustc is not on this machine");
    return null;
  }
  const binary = join(folder, "seed_replay");
  compileRust(ANCHOR_SOURCE, binary);
  return binary;
}

export function runReplayBench(options: ReplayBenchOptions): ReplayBenchRow[] {
  const folder = options.folder ?? mkdtempSync(join(tmpdir(), "memspace-bench-"));
  mkdirSync(folder, { recursive: true });
  try {
    const traces = traceSources(options, folder);
    const anchor = buildAnchor(folder);
    const contestants: Contestant[] = BACKEND_KINDS.map(jsContestant);
    if (anchor !== null) contestants.push(nativeContestant(anchor, "noop"), nativeContestant(anchor, "paged"));
    for (const workers of options.v2Workers) contestants.push(v2Contestant(workers, false));
    if (options.cold) {
      contestants.push(coldSeedContestant());
      for (const workers of options.v2Workers) contestants.push(v2Contestant(workers, true));
    }
    const rows: ReplayBenchRow[] = [];
    const tableRows: (string | number)[][] = [];
    for (const source of traces) {
      const trace = join(folder, `${source.name}.trace`);
      if (!existsSync(trace) || statSync(trace).size === 0) {
        report.write(`making the ${source.name} trace...\n`);
        source.make(trace);
      }
      const files: TraceFiles = { seed: trace, v2: join(folder, `${source.name}.v2`) };
      if (options.v2Workers.length > 0 && (!existsSync(files.v2) || statSync(files.v2).size === 0)) convertTrace(files.seed, files.v2, "v2");
      const seedBytes = statSync(trace).size;
      const v2Text = options.v2Workers.length > 0 ? `, v2 ${(statSync(files.v2).size / (1 << 20)).toFixed(1)} MiB (${(seedBytes / statSync(files.v2).size).toFixed(1)}x smaller)` : "";
      report.write(`${source.name}: ${(seedBytes / (1 << 20)).toFixed(0)} MiB${v2Text}; warm-up round, then ${options.rounds} timed rounds\n`);
      const samples = new RoundSamples<Measurement>();
      for (const { contestant, timed } of roundSchedule(contestants, { rounds: options.rounds, warmUp: true, alternate: true })) {
        const measurement = contestant.run(files);
        const expected = samples.get("noop")[0]?.ops ?? measurement.ops;
        if (measurement.ops !== expected) throw new Error(`${contestant.name} replayed ${measurement.ops} ops, expected ${expected}`);
        if (timed) samples.add(contestant.name, measurement);
      }
      const milliseconds = (name: string): number[] => samples.get(name).map((m) => m.milliseconds);
      const wallMilliseconds = (name: string): number[] => samples.get(name).map((m) => m.wallMilliseconds);
      const checksumOf = (name: string): string | undefined => samples.get(name)[0]?.checksum;
      if (anchor !== null && checksumOf("paged") !== checksumOf("native paged")) {
        throw new Error(`paged checksum ${checksumOf("paged")} differs from the native reference's ${checksumOf("native paged")}`);
      }
      for (const contestant of contestants) {
        if (contestant.name.startsWith("paged") && checksumOf(contestant.name) !== checksumOf("paged")) {
          throw new Error(`${contestant.name} checksum ${checksumOf(contestant.name)} differs from paged's ${checksumOf("paged")}`);
        }
      }
      const ops = samples.get("noop")[0].ops;
      const hasNative = samples.has("native paged");
      for (const contestant of contestants) {
        const ms = median(milliseconds(contestant.name));
        const overNoop = contestant.name.startsWith("native") ? null : roundRatios(milliseconds(contestant.name), milliseconds("noop"));
        const overNative = hasNative ? roundRatios(milliseconds("native paged"), milliseconds(contestant.name)) : null;
        const wallOverNative = hasNative ? roundRatios(wallMilliseconds("native paged"), wallMilliseconds(contestant.name)) : null;
        const wallMs = median(wallMilliseconds(contestant.name));
        const seedPaged = contestant.name.endsWith(", cold") ? "paged, cold" : "paged";
        const overSeed = contestant.name.startsWith("paged") && contestant.name !== seedPaged ? roundRatios(milliseconds(contestant.name), milliseconds(seedPaged)) : null;
        const shown = (ratios: number[] | null): string => (ratios === null ? "-" : formatRoundRatios(ratios));
        tableRows.push([source.name, contestant.name, Math.round(ms), Math.round(wallMs), ops / ms / 1e3, shown(overNoop), shown(overNative), shown(wallOverNative), shown(overSeed)]);
        rows.push({
          trace: source.name,
          replayer: contestant.name,
          ops,
          medianMs: ms,
          wallMedianMs: wallMs,
          mopsPerSec: ops / ms / 1e3,
          timeOverNoop: ratioFigures(overNoop),
          throughputOverNativePaged: ratioFigures(overNative),
          wallThroughputOverNativePaged: ratioFigures(wallOverNative),
          timeOverSeedPaged: ratioFigures(overSeed),
        });
      }
    }
    report.write("\n");
    reportTable(
      ["trace", "replayer", "replay ms", "wall ms", "Mops/s", "time / noop", "throughput / native paged", "by wall / native paged", "time / paged from seed"],
      tableRows,
      "\n(replay ms: as each replayer times its replay; wall ms: the whole process, start-up and exit included, timed by this bench;" +
        " ratios: the median over rounds of each round's ratio, their range in brackets; a cold run is compared with the cold seed run)\n",
    );
    if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, rows });
    return rows;
  } finally {
    if (!options.keep && options.folder === undefined) rmSync(folder, { recursive: true, force: true });
  }
}

interface TraceSource {
  name: string;
  make: (path: string) => void;
}

/** The synthetic traces, and the real ones where their guests are here. */
function traceSources(options: ReplayBenchOptions, folder: string): TraceSource[] {
  const sources: TraceSource[] = [];
  if (options.fibOps > 0) sources.push({ name: `fib-shaped-${options.fibOps}`, make: (path) => generateTrace("fib", options.fibOps, path) });
  if (options.execblockOps > 0) {
    sources.push({ name: `execblock-shaped-${options.execblockOps}`, make: (path) => generateTrace("execblock", options.execblockOps, path) });
  }
  const fibImac = resolve(REPO_ROOT, "../shared/guests/fib-imac");
  if (existsSync(fibImac)) sources.push({ name: "fib-imac-recorded", make: (path) => record(fibImac, path) });
  else reportSkipped("fib-imac trace", `${fibImac} not found`);
  const vm = join(REPO_ROOT, "guests/build/vm.elf");
  if (options.vmIterations > 0 && existsSync(vm)) {
    sources.push({
      name: `vm-recorded-${options.vmIterations}`,
      make: (path) => {
        const stdin = join(folder, "vm.in");
        writeFileSync(stdin, `${options.vmIterations}\n`);
        record(vm, path, readFileSync(stdin));
      },
    });
  } else if (options.vmIterations > 0) reportSkipped("vm trace", "run bash scripts/setup-guests.sh");
  return sources;
}

function record(guest: string, path: string, stdin?: Uint8Array): void {
  const result = runGuest(guest, { tracePath: path, stdin, write: () => {} });
  if (result.exitCode !== 0) throw new Error(`${guest} exited with ${result.exitCode} while recording`);
}

const command = benchCommand("replay")
  .addOption(quickOption())
  .addOption(nonNegativeIntegerOption("fib-ops", "ops of the Fib-shaped trace; 0 leaves it out", { normal: FIB_REFERENCE_OPS, quick: 10_000_000 }))
  .addOption(nonNegativeIntegerOption("execblock-ops", "ops of the ExecBlock-shaped trace; 0 leaves it out", { normal: EXECBLOCK_DEFAULT_OPS, quick: 10_000_000 }))
  .addOption(nonNegativeIntegerOption("vm-iterations", "iterations of the vm guest for its recorded trace (about 7,200 ops each); 0 leaves it out", { normal: 130_000, quick: 2_000 }))
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 5, quick: 1 }))
  .addOption(valueOption("--v2-workers <list>", "decode-worker counts to replay the v2 conversion with, comma-separated; none leaves v2 out", (text) => countList("--v2-workers", text), { normal: [1, 2], quick: [1] }))
  .option("--cold", "also replay paged from the seed and the v2 file with each dropped from the page cache first")
  .option("--dir <dir>", "keep the traces in DIR (and reuse those already there) (default: a temporary folder)")
  .option("--keep", "keep the temporary folder")
  .addOption(jsonOption());

await benchMain(import.meta.url, command, (options: ReplayBenchOptions & { dir?: string; keep?: boolean; cold?: boolean }) =>
  runReplayBench({ ...options, folder: options.dir, keep: options.keep === true, cold: options.cold === true }),
);
