import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FrameAllocator } from "../alloc/frames/frame-allocator.js";
import { runCrashTest, type CrashTestKind } from "../crash/crash-test.js";
import type { Durability } from "../durable/medium.js";
import { startProgress } from "./progress.js";
import { humanOutput, writeJsonReport } from "./report.js";
import { renderTable } from "./table.js";

/** Options of `memspace crash-test`, as parsed. */
export interface CrashTestCommandOptions {
  /** --kills: how many times to kill the child. */
  kills: number;
  /** --seed: seed of the kill times and the child's work. */
  seed: number;
  /** --durability: what a crash keeps, "process" or "power". */
  durability: Durability;
  /** --json: where the JSON report goes (`-`: standard output). */
  json?: string;
}

/** The pool whose recovery time the crash test reports: 16 GiB (4 Mi frames). */
const LARGE_POOL_FRAMES = 1 << 22;
/** Allocations made in the large pool before it is left unclosed: recovery has frames in use to find. */
const LARGE_POOL_GETS = 20_000;

/** Recovery time of a 16 GiB-frame pool left unclosed with frames in use. */
function largePoolRecoveryMs(): number {
  const dir = mkdtempSync(join(tmpdir(), "memspace-recovery-"));
  try {
    const path = join(dir, "large.img");
    const allocator = FrameAllocator.open(path, { frames: LARGE_POOL_FRAMES, durability: "process" });
    for (let i = 0; i < LARGE_POOL_GETS; i++) allocator.get(i % 7 === 0 ? 9 : i % 3);
    // No close(): the file says "not clean", as after a crash.
    const reopened = FrameAllocator.open(path, { frames: LARGE_POOL_FRAMES, durability: "process" });
    const milliseconds = reopened.recovery!.milliseconds;
    reopened.close();
    return Math.round(milliseconds * 10) / 10;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `memspace crash-test frames|image --kills N [--seed S] [--json FILE]`. */
export async function runCrashTestCommand(kind: CrashTestKind, options: CrashTestCommandOptions): Promise<boolean> {
  const progress = startProgress(`crash-test ${kind}`, "kills");
  const report = await runCrashTest(kind, { kills: options.kills, seed: options.seed, durability: options.durability, onKill: (done, total) => progress.update(done, total) });
  progress.stop();
  const recovery16GiBMs = kind === "frames" ? largePoolRecoveryMs() : null;
  const rows: (string | number)[][] = [
    ["kills", report.kills],
    ["recovered", report.recovered],
    [kind === "frames" ? "lost runs (in-flight steps)" : "lost", report.lostFrames],
    ["max lost per kill", report.maxLostPerKill],
    ["violations", report.violations],
    ["median recovery ms", report.medianRecoveryMs],
  ];
  if (recovery16GiBMs !== null) rows.push(["recovery of a 16 GiB pool, ms", recovery16GiBMs]);
  const human = humanOutput(options.json);
  human.write(renderTable(["crash-test " + kind, "value"], rows) + "\n");
  for (const detail of report.violationDetails) human.write(`violation: ${detail}\n`);
  if (options.json !== undefined) {
    const { violationDetails, ...figures } = report;
    writeJsonReport(options.json, { ...figures, recovery16GiBMs, violationDetails });
  }
  return report.violations === 0;
}
