import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "../util/median.js";
import { Random } from "../util/random.js";
import { checkFramesAfterCrash } from "./frames-crash-test.js";
import { checkImageAfterCrash } from "./image-crash-test.js";
import type { Durability } from "../durable/medium.js";

import type { CrashTestKind } from "./crash-test-kinds.js";

export { CRASH_TEST_KINDS, type CrashTestKind } from "./crash-test-kinds.js";

/** Options of `runCrashTest`. */
export interface CrashTestOptions {
  /** How many times to kill the child. */
  kills: number;
  /** Seed of the kill times and of the children's work: a run is reproducible. */
  seed: number;
  /** What a crash keeps: "process" (kill -9) or "power" (only what fdatasync made durable). */
  durability: Durability;
  /** Keep the files here (default: a temporary folder, removed afterwards). */
  dir?: string;
  /** Called after each kill with the kills done and the total, for progress output. */
  onKill?: (done: number, total: number) => void;
}

/** What `runCrashTest` found. */
export interface CrashTestReport {
  /** Which crash test ran. */
  kind: CrashTestKind;
  /** Kills made. */
  kills: number;
  /** Opens after a kill that ran crash recovery (a child that never closed: all of them). */
  recovered: number;
  /** frames: runs allocated but held by nobody, summed over kills; image: always 0. */
  lostFrames: number;
  /** frames: most runs lost to one kill (at most one per worker thread); image: always 0. */
  maxLostPerKill: number;
  /** Number of inconsistencies found after all kills; 0 when recovery is correct. */
  violations: number;
  /** The first few violations, spelled out. */
  violationDetails: string[];
  /** Median time recovery took after a kill. */
  medianRecoveryMs: number;
}

const CHILD_SCRIPT = fileURLToPath(new URL("./crash-child.js", import.meta.url));
/** A child runs up to this long (random, after it is ready) before the kill: a frames step takes microseconds, a checkpoint tens of milliseconds. */
const MAX_RUN_MS: Record<CrashTestKind, number> = { frames: 40, image: 400 };
/** Violations the report spells out; the rest are only counted. */
const MAX_VIOLATION_DETAILS = 10;
/** Kill k's child runs with seed `seed * CHILD_SEED_STRIDE + k`: distinct for every seed and kill. */
const CHILD_SEED_STRIDE = 100_003;

/**
 * Kills a child process working on persistent state `kills` times at random moments and
 * checks, after each, that recovery gives a consistent state that agrees with what the
 * child recorded.
 */
export async function runCrashTest(kind: CrashTestKind, options: CrashTestOptions): Promise<CrashTestReport> {
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), `memspace-crash-${kind}-`));
  const random = new Random(options.seed);
  const report: CrashTestReport = { kind, kills: 0, recovered: 0, lostFrames: 0, maxLostPerKill: 0, violations: 0, violationDetails: [], medianRecoveryMs: 0 };
  const recoveryMs: number[] = [];
  try {
    for (let kill = 0; kill < options.kills; kill++) {
      const child = spawn(process.execPath, [CHILD_SCRIPT, kind, dir, String(options.seed * CHILD_SEED_STRIDE + kill), options.durability], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = once(child, "exit");
      await new Promise<void>((resolve, reject) => {
        child.stdout.once("data", () => resolve());
        child.once("exit", (code) => reject(new Error(`crash-test child exited (${code}) before it was ready: ${stderr.trim()}`)));
      });
      await new Promise((resolve) => setTimeout(resolve, 1 + random.below(MAX_RUN_MS[kind])));
      child.kill("SIGKILL");
      const [code, signal] = await exited;
      if (signal !== "SIGKILL") throw new Error(`crash-test child ended with ${code ?? signal} instead of being killed: ${stderr.trim()}`);
      report.kills++;
      const check = kind === "frames" ? checkFramesAfterCrash(dir) : checkImageAfterCrash(dir);
      if (check.recovered) report.recovered++;
      recoveryMs.push(check.recoveryMs);
      report.lostFrames += check.lostRuns;
      report.maxLostPerKill = Math.max(report.maxLostPerKill, check.lostRuns);
      report.violations += check.violations.length;
      for (const violation of check.violations) if (report.violationDetails.length < MAX_VIOLATION_DETAILS) report.violationDetails.push(`kill ${kill + 1}: ${violation}`);
      options.onKill?.(kill + 1, options.kills);
    }
  } finally {
    if (options.dir === undefined) rmSync(dir, { recursive: true, force: true });
  }
  report.medianRecoveryMs = recoveryMs.length === 0 ? 0 : Math.round(median(recoveryMs) * 100) / 100;
  return report;
}
