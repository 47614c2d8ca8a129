/** Command-line helpers shared by the benchmarks. */
import { parseDecimalInteger, parseDecimalNumber } from "../src/util/parse-number.js";

/** A bad command-line option: the benchmark says what is wrong in one line and exits with status 2. */
export class BenchOptionError extends Error {}

/**
 * Runs a benchmark's main. A bad option (a BenchOptionError, or one node's parseArgs refuses)
 * becomes one line on stderr naming the benchmark, and exit status 2; any other error keeps
 * its stack.
 */
export async function runBenchMain(name: string, main: () => unknown): Promise<void> {
  try {
    await main();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof BenchOptionError) && !(typeof code === "string" && code.startsWith("ERR_PARSE_ARGS"))) throw error;
    process.stderr.write(`bench ${name}: ${(error as Error).message}\n`);
    process.exitCode = 2;
  }
}

/** A comma list of names from `known` (e.g. `--workloads larson,tiny-churn`); an unknown one is an error listing them. */
export function knownNames<T extends string>(option: string, text: string, known: readonly T[]): T[] {
  return text.split(",").map((name) => {
    if (!(known as readonly string[]).includes(name)) throw new BenchOptionError(`--${option}: unknown name ${name} (known: ${known.join(", ")})`);
    return name as T;
  });
}

/** A positive integer option (`--frames 4096`); `fallback` when it is absent; anything else is an error naming the option. */
export function positiveInteger<F extends number | undefined>(option: string, text: string | undefined, fallback: F): number | F {
  return text === undefined ? fallback : integerAtLeast(1, "a positive", option, text);
}

/** A non-negative integer option (`--vm-iterations 0`: none); `fallback` when it is absent. */
export function nonNegativeInteger(option: string, text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : integerAtLeast(0, "a non-negative", option, text);
}

function integerAtLeast(least: number, kind: string, option: string, text: string): number {
  const value = parseDecimalInteger(text);
  if (value === null || value < least) throw new BenchOptionError(`--${option} must be ${kind} integer, got ${text}`);
  return value;
}

/** A positive number option (`--budget 0.5`); anything else is an error naming the option. */
export function positiveNumber(option: string, text: string): number {
  const value = parseDecimalNumber(text);
  if (value === null || value <= 0) throw new BenchOptionError(`--${option} must be a positive number, got ${text}`);
  return value;
}
