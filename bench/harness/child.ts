/**
 * Fresh processes: a bench measures each contestant in a process of its own, so that one
 * contestant's JIT feedback, heap or page cache state cannot slow another. A node child is a
 * script started with CHILD_FLAG and a JSON job; it prints its result as one JSON line.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

/** argv[2] of a node child: its job follows as argv[3]. */
const CHILD_FLAG = "--one";
/** More than any result line. */
const MAX_OUTPUT_BYTES = 1 << 20;

/**
 * Runs `file` with `args` and returns its standard output; a failure to start or a non-zero
 * exit is an error carrying the child's standard error (which otherwise passes through).
 */
export function runProcess(file: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): string {
  const child = spawnSync(file, args, { encoding: "utf8", env, maxBuffer: MAX_OUTPUT_BYTES });
  if (child.error !== undefined) throw new Error(`${file}: ${child.error.message}`);
  if (child.status !== 0) {
    const why = child.status === null ? `was killed by ${child.signal}` : `exited with ${child.status}`;
    throw new Error(`${file} ${args.join(" ")} ${why}${child.stderr === "" ? "" : `:\n${child.stderr.trimEnd()}`}`);
  }
  if (child.stderr !== "") process.stderr.write(child.stderr);
  return child.stdout;
}

/** Runs `file` and parses the one JSON line it prints (a native driver's result, or a node child's). */
export function runJsonProcess<R>(file: string, args: readonly string[], env?: NodeJS.ProcessEnv): R {
  const output = runProcess(file, args, env).trim();
  try {
    return JSON.parse(output) as R;
  } catch {
    throw new Error(`${file} printed ${JSON.stringify(output)}, not one JSON line`);
  }
}

/** Runs `job` in a fresh node process of the child script at `scriptUrl`; its result line, parsed. */
export function runChild<J, R>(scriptUrl: string | URL, job: J): R {
  return runJsonProcess<R>(process.execPath, [fileURLToPath(scriptUrl), CHILD_FLAG, JSON.stringify(job)]);
}

/**
 * In a child script: its job, or undefined when the script was not started as a child (a
 * bench whose child is its own script then runs its main).
 */
export function childJob<J>(argv: readonly string[] = process.argv): J | undefined {
  return argv[2] === CHILD_FLAG ? (JSON.parse(argv[3]) as J) : undefined;
}

/** In a child script: its result, as the one line the parent reads. */
export function writeChildResult(result: unknown): void {
  process.stdout.write(JSON.stringify(result) + "\n");
}
