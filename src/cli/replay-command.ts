import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { BackendKind } from "../space/backend.js";
import { createBackend } from "../space/create-backend.js";
import { replayFile } from "../trace/replay.js";
import { ReportedError } from "./exit-codes.js";
import { startProgress } from "./progress.js";
import { humanOutput, JSON_TO_STDOUT, writeJsonReport } from "./report.js";
import { renderTable } from "./table.js";

/** One backend's line of `memspace replay`. */
export interface ReplayRow {
  /** The backend replayed onto. */
  backend: BackendKind;
  /** Records replayed. */
  ops: number;
  /** Wall-clock time of the replay, in milliseconds. */
  milliseconds: number;
  /** Millions of records replayed per second. */
  mopsPerSecond: number;
  /** Pages the replay touched. */
  pagesTouched: number;
  /** Wrapping u64 sum of every value read, in decimal: equal across backends that keep state. */
  checksum: string;
}

/** Options of `memspace replay` beyond the backends. */
export interface ReplayCommandOptions {
  /** v2 traces: worker threads decoding chunks (0: decode on the replaying thread); default: the cores but one. */
  decodeWorkers?: number;
}

/** Replays `trace` onto a fresh backend of `kind` and reports what it measured. */
export function replayOnBackend(trace: string, kind: BackendKind, options: ReplayCommandOptions = {}): ReplayRow {
  const backend = createBackend(kind);
  const progress = startProgress(`replay ${kind}`, "bytes");
  try {
    const result = replayFile(trace, backend, { decodeWorkers: options.decodeWorkers, onProgress: (done, total) => progress.update(done, total) });
    return {
      backend: kind,
      ops: result.ops,
      milliseconds: result.milliseconds,
      mopsPerSecond: result.ops / result.milliseconds / 1e3,
      pagesTouched: backend.counters().touchedPages,
      checksum: result.checksum.toString(),
    };
  } finally {
    progress.stop();
  }
}

/** `memspace replay --json`'s document. */
export interface ReplayReport {
  /** The trace replayed, as given. */
  trace: string;
  /** One row per backend, in the order given. */
  backends: ReplayRow[];
}

/** The command as users run it: the bundle (scripts/bundle-cli.mjs) where it was built, which starts faster than the modules. */
const BUNDLED_MAIN_SCRIPT = fileURLToPath(new URL("./memspace.cjs", import.meta.url));
const MAIN_SCRIPT = existsSync(BUNDLED_MAIN_SCRIPT) ? BUNDLED_MAIN_SCRIPT : fileURLToPath(new URL("./main.js", import.meta.url));
/** The most a replay child may print on stdout: its one-row JSON report. */
const CHILD_OUTPUT_LIMIT_BYTES = 1 << 20;

/**
 * Replays in a process of its own. Comparisons use this: in one process, the replay loop
 * optimised for one backend deoptimises and turns polymorphic for the next, which would
 * measure the order of the runs rather than the backends. The child's own report (its
 * stderr, with --json on stdout) is passed on only if it fails.
 */
export function replayInFreshProcess(trace: string, kind: BackendKind, options: ReplayCommandOptions = {}): ReplayRow {
  const workerArgs = options.decodeWorkers === undefined ? [] : ["--decode-workers", String(options.decodeWorkers)];
  const child = spawnSync(process.execPath, [MAIN_SCRIPT, "replay", trace, "--backend", kind, ...workerArgs, "--json", JSON_TO_STDOUT], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    maxBuffer: CHILD_OUTPUT_LIMIT_BYTES,
  });
  if (child.status !== 0) {
    process.stderr.write(child.stderr);
    throw new ReportedError(child.status ?? 1);
  }
  return (JSON.parse(child.stdout) as ReplayReport).backends[0];
}

/** The rows as an aligned text table. */
export function replayTable(rows: ReplayRow[]): string {
  return renderTable(
    ["backend", "ops", "ms", "Mops/s", "pages touched", "checksum"],
    rows.map((row) => [row.backend, row.ops, Math.round(row.milliseconds), row.mopsPerSecond, row.pagesTouched, row.checksum]),
  );
}

/**
 * `memspace replay TRACE --backend ...`: one backend in this process, several each in a fresh one; prints the
 * table and writes `jsonTarget` if given.
 */
export function runReplay(trace: string, backends: BackendKind[], jsonTarget: string | undefined, options: ReplayCommandOptions = {}): void {
  if (backends.length > 1 && trace === "-") throw new Error("-: standard input can be replayed onto one backend only (each backend replays in a process of its own); save the trace to a file first");
  const rows = backends.map((kind) => (backends.length === 1 ? replayOnBackend(trace, kind, options) : replayInFreshProcess(trace, kind, options)));
  humanOutput(jsonTarget).write(replayTable(rows) + "\n");
  if (jsonTarget !== undefined) writeJsonReport(jsonTarget, { trace, backends: rows } satisfies ReplayReport, [trace]);
}
