import { readFileSync } from "node:fs";
import type { BackendKind } from "../space/backend.js";
import { runGuest } from "../guest/run-guest.js";
import { formatTraceStats } from "./trace-commands.js";
import { renderTable } from "./table.js";

export interface RunCommandOptions {
  backend: BackendKind;
  stdin?: string;
  trace?: string;
  stats?: boolean;
  maxInstructions?: number;
  strict?: boolean;
}

/** `memspace run GUEST`: runs the guest, forwards its output, exits with its exit code. */
export function runRunCommand(guest: string, args: string[], options: RunCommandOptions): void {
  const result = runGuest(guest, {
    backend: options.backend,
    args,
    stdin: options.stdin !== undefined ? readFileSync(options.stdin) : undefined,
    tracePath: options.trace,
    collectStats: options.stats === true,
    maxInstructions: options.maxInstructions,
    strict: options.strict === true,
  });
  if (options.stats) {
    const memory = result.space.stats();
    const lines = [
      renderTable(
        ["figure", "value"],
        [
          ["instructions", result.instructions],
          ["seconds", result.milliseconds / 1e3],
          ["MIPS", result.instructions / result.milliseconds / 1e3],
          ["pages touched", memory.touchedPages],
          ["resident pages", memory.residentPages],
          ["exit code", result.exitCode === null ? "(stopped at --max-instructions)" : String(result.exitCode)],
        ],
      ),
    ];
    if (result.stats) lines.push("", formatTraceStats(`of ${guest}`, result.stats));
    if (options.trace) lines.push("", `trace: ${result.traceOps?.toLocaleString("en-US")} ops, ${result.traceBytes?.toLocaleString("en-US")} bytes -> ${options.trace}`);
    process.stderr.write(lines.join("\n") + "\n");
  }
  process.exitCode = result.exitCode ?? 0;
}
