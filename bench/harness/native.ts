/** Builds the benchmarks' native programs (bench/native/*.c, the Rust reference replayer) with the machine's compilers. */
import { execFileSync, spawnSync } from "node:child_process";

/** The first line of a failed build's error: the caller says what it skips. */
function firstLine(error: unknown): string {
  return (error as Error).message.split("\n")[0];
}

/** `gcc -O2 FLAGS -o binary source`; null on success, else the first line of gcc's failure. */
export function compileC(source: string, binary: string, flags: readonly string[] = []): string | null {
  try {
    execFileSync("gcc", ["-O2", ...flags, "-o", binary, source], { stdio: "pipe" });
    return null;
  } catch (error) {
    return firstLine(error);
  }
}

/** Whether rustc is on this machine. */
export function hasRustc(): boolean {
  return spawnSync("rustc", ["--version"], { encoding: "utf8" }).status === 0;
}

/** `rustc --edition 2021 -C opt-level=3 -o binary source` (a failure throws: rustc is there, so the source is at fault). */
export function compileRust(source: string, binary: string): void {
  execFileSync("rustc", ["--edition", "2021", "-C", "opt-level=3", "-o", binary, source]);
}
