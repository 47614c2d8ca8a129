/** Running the benches in tests: each bench script directly, or as users do, through `memspace bench`. */
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const BENCH_FOLDER = fileURLToPath(new URL("../../bench/", import.meta.url));
const CLI_BUNDLE = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));

export interface BenchRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], cwd?: string): BenchRun {
  const result = spawnSync(process.execPath, args, { encoding: "utf8", cwd });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** bench/NAME.js with `args` (and --expose-gc, as `memspace bench` starts it). */
export function bench(name: string, args: string[], cwd?: string): BenchRun {
  return run(["--expose-gc", join(BENCH_FOLDER, `${name}.js`), ...args], cwd);
}

/** `memspace bench NAME args` through the CLI. */
export function memspaceBench(name: string, ...args: string[]): BenchRun {
  return run([CLI_BUNDLE, "bench", name, ...args]);
}

/** As bench(), without waiting: the command-line checks run every bench at once. */
export async function benchAsync(name: string, args: string[]): Promise<BenchRun> {
  const child = spawn(process.execPath, [join(BENCH_FOLDER, `${name}.js`), ...args]);
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (text: string) => (stdout += text));
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const [status] = (await once(child, "close")) as [number | null];
  return { status, stdout, stderr };
}
