/** Builds the benchmarks' C programs (bench/native/*.c) with the machine's gcc. */
import { execFileSync } from "node:child_process";

/** `gcc -O2 FLAGS -o binary source`; null on success, else the first line of gcc's failure (the caller says what it skips). */
export function compileC(source: string, binary: string, flags: readonly string[] = []): string | null {
  try {
    execFileSync("gcc", ["-O2", ...flags, "-o", binary, source], { stdio: "pipe" });
    return null;
  } catch (error) {
    return (error as Error).message.split("\n")[0];
  }
}
