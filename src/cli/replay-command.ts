import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BackendKind } from "../space/backend.js";
import { createBackend } from "../space/create-backend.js";
import { replayFile } from "../trace/replay.js";
import { startProgress } from "./progress.js";
import { renderTable } from "./table.js";

export interface ReplayRow {
  backend: BackendKind;
  ops: number;
  milliseconds: number;
  mopsPerSecond: number;
  pagesTouched: number;
  checksum: string;
}

/** Replays `trace` onto a fresh backend of `kind` and reports what it measured. */
export function replayOnBackend(trace: string, kind: BackendKind): ReplayRow {
  const backend = createBackend(kind);
  const progress = startProgress(`replay ${kind}`, "bytes");
  try {
    const result = replayFile(trace, backend, { onProgress: (done, total) => progress.update(done, total) });
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

/** An error whose message a child process has already printed. */
export class ReportedError extends Error {
  constructor(readonly exitCode: number) {
    super(`child process exited with code ${exitCode}`);
  }
}

const MAIN_SCRIPT = fileURLToPath(new URL("./main.js", import.meta.url));

/**
 * Replays in a process of its own. Comparisons use this: in one process, the replay loop
 * optimised for one backend deoptimises and turns polymorphic for the next, which would
 * measure the order of the runs rather than the backends.
 */
export function replayInFreshProcess(trace: string, kind: BackendKind): ReplayRow {
  const child = spawnSync(process.execPath, [MAIN_SCRIPT, "replay", trace, "--backend", kind, "--json"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 1 << 20,
  });
  if (child.status !== 0) throw new ReportedError(child.status ?? 1);
  return JSON.parse(child.stdout.trim()) as ReplayRow;
}

export function replayTable(rows: ReplayRow[]): string {
  return renderTable(
    ["backend", "ops", "ms", "Mops/s", "pages touched", "checksum"],
    rows.map((row) => [row.backend, row.ops, Math.round(row.milliseconds), row.mopsPerSecond, row.pagesTouched, row.checksum]),
  );
}

export function runReplay(trace: string, backends: BackendKind[], json: boolean): void {
  const rows: ReplayRow[] = [];
  for (const kind of backends) {
    const row = backends.length === 1 ? replayOnBackend(trace, kind) : replayInFreshProcess(trace, kind);
    if (json) process.stdout.write(JSON.stringify(row) + "\n");
    rows.push(row);
  }
  if (!json) process.stdout.write(replayTable(rows) + "\n");
}
