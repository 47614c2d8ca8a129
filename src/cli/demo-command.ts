import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BACKEND_KINDS } from "../space/backend.js";
import { generateTrace } from "../trace/generators.js";
import { replayInFreshProcess, replayTable } from "./replay-command.js";
import { startProgress } from "./progress.js";

/**
 * The default workload (`npm start`): generate a Fib-shaped trace in a temporary folder,
 * replay it on every backend and print the comparison. Self-contained: no files needed.
 */
export function runDemo(ops: number): void {
  const folder = mkdtempSync(join(tmpdir(), "memspace-demo-"));
  try {
    const trace = join(folder, "fib.trace");
    const progress = startProgress("gen fib", "ops");
    generateTrace("fib", ops, trace, { onProgress: (done, total) => progress.update(done, total) });
    progress.stop();
    const sizeMiB = statSync(trace).size / (1 << 20);
    process.stdout.write(`memspace demo: Fib-shaped trace, ${ops.toLocaleString("en-US")} ops (${sizeMiB.toFixed(0)} MiB)\n\n`);
    const rows = BACKEND_KINDS.map((kind) => replayInFreshProcess(trace, kind));
    process.stdout.write(replayTable(rows) + "\n");
    const noop = rows.find((row) => row.backend === "noop");
    if (noop) {
      process.stdout.write("\ntime relative to noop: " + rows.map((row) => `${row.backend} ${(row.milliseconds / noop.milliseconds).toFixed(2)}x`).join(", ") + "\n");
    }
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
