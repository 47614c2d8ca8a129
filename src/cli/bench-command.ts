import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ReportedError } from "./replay-command.js";

export const BENCHMARKS = ["replay", "guests", "frames", "alloc", "alloc-threads"] as const;
export type Benchmark = (typeof BENCHMARKS)[number];

/** `memspace bench NAME [args]`: runs a benchmark from bench/ (built next to the CLI). */
export function runBench(name: Benchmark, args: string[]): void {
  const script = fileURLToPath(new URL(`../../bench/${name}.js`, import.meta.url));
  if (!existsSync(script)) throw new Error(`benchmark ${name} is not built (${script}); run npm run build`);
  // --expose-gc: a benchmark may collect its garbage between measurements (bench frames does).
  const child = spawnSync(process.execPath, ["--expose-gc", script, ...args], { stdio: "inherit" });
  if (child.status !== 0) throw new ReportedError(child.status ?? 1);
}
