import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { Benchmark } from "./bench-list.js";
import { ReportedError } from "./exit-codes.js";

/**
 * `memspace bench NAME [args]`: runs bench/NAME.js (built next to the CLI) in a process of
 * its own, which parses `args` itself (`--help` included) and reports with exit status 2 on
 * a bad option.
 */
export function runBench(name: Benchmark, args: string[]): void {
  const script = fileURLToPath(new URL(`../../bench/${name}.js`, import.meta.url));
  if (!existsSync(script)) throw new Error(`benchmark ${name} is not built (${script}); run npm run build`);
  // --expose-gc: a benchmark may collect its garbage between measurements (bench frames does).
  const child = spawnSync(process.execPath, ["--expose-gc", script, ...args], { stdio: "inherit" });
  if (child.status !== 0) throw new ReportedError(child.status ?? 1);
}
