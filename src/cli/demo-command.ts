import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFibGuest } from "../guest/fib-guest.js";
import { runGuest } from "../guest/run-guest.js";
import { BACKEND_KINDS } from "../space/backend.js";
import { replayInFreshProcess, replayTable } from "./replay-command.js";
import { formatNumber } from "./table.js";

/**
 * The default workload (`npm start`): assemble the project's own Fibonacci guest, run it on
 * the RV64IMAC executor while recording its memory traffic, then replay that trace on every
 * backend and compare. Self-contained: no cross-compiler, no files from outside.
 */
export function runDemo(iterations: number): void {
  const folder = mkdtempSync(join(tmpdir(), "memspace-demo-"));
  try {
    const guest = join(folder, "fib.elf");
    const trace = join(folder, "fib.trace");
    writeFileSync(guest, buildFibGuest(iterations));
    process.stdout.write(`memspace demo: Fibonacci guest, ${formatNumber(iterations)} iterations\n`);
    let output = "";
    const run = runGuest(guest, { tracePath: trace, write: (_fd, bytes) => (output += new TextDecoder().decode(bytes)) });
    const sizeMiB = statSync(trace).size / (1 << 20);
    process.stdout.write(
      `guest printed ${output.trim()} and exited with ${run.exitCode}: ${formatNumber(run.instructions)} instructions, ` +
        `${(run.instructions / run.milliseconds / 1e3).toFixed(1)} MIPS while recording ` +
        `${formatNumber(run.traceOps ?? 0)} memory ops (${sizeMiB.toFixed(0)} MiB)\n\n`,
    );
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
