/** Command-line parts shared by the benchmarks: each is `memspace bench NAME`, a commander Command of its own. */
import { Command, CommanderError, Option } from "commander";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BENCHMARKS, type Benchmark } from "../../src/cli/bench-list.js";
import { EXIT_USAGE } from "../../src/cli/exit-codes.js";
import { parseDecimalInteger, parseDecimalNumber } from "../../src/util/parse-number.js";
import { report, JSON_TO_STDOUT } from "./output.js";

/** A bad command-line option: the benchmark says what is wrong in one line and exits with status 2. */
export class BenchOptionError extends Error {}

/** The exit status of a benchmark given a bad option or value. */
export const BAD_OPTION_EXIT_STATUS = EXIT_USAGE;
const COMMAND_PREFIX = "memspace bench ";

/** `memspace bench NAME`: a Command whose errors come back to runBenchMain instead of exiting. */
export function benchCommand(name: Benchmark): Command {
  return (
    new Command(COMMAND_PREFIX + name)
      .description(BENCHMARKS.find((bench) => bench.name === name)!.description)
      .exitOverride()
      // runBenchMain prints the error as its one line.
      .configureOutput({ outputError: () => {} })
  );
}

/** `--quick`: smaller sizes and fewer rounds (the options' help says which). */
export function quickOption(description = "smaller sizes and fewer rounds: a quick check that everything runs"): Option {
  return new Option("--quick", description);
}

/** `--json <file>`: the figures as one JSON document, to FILE or to standard output. */
export function jsonOption(): Option {
  return new Option("--json <file>", "write the figures as one JSON document to FILE (atomically); - writes it to stdout, and the human-readable lines to stderr");
}

/** An option's default: `normal`, or `quick` under --quick. */
export interface BenchDefault<T> {
  normal: T;
  quick?: T;
  /** How the help shows it, if not String(normal) / String(quick). */
  shown?: string;
}

const quickDefaults = new WeakMap<Option, unknown>();

/**
 * `--NAME <VALUE>` parsed by `parse`, with its default (and the one --quick picks) shown in
 * the help, e.g. "(default: 3; 1 with --quick)".
 */
export function valueOption<T>(flags: string, description: string, parse: (text: string) => T, fallback?: BenchDefault<T>): Option {
  const option = new Option(flags, description).argParser((text: string) => parse(text));
  if (fallback === undefined) return option;
  const shown = fallback.shown ?? (fallback.quick === undefined ? showValue(fallback.normal) : `${showValue(fallback.normal)}; ${showValue(fallback.quick)} with --quick`);
  option.default(fallback.normal, shown);
  if (fallback.quick !== undefined) quickDefaults.set(option, fallback.quick);
  return option;
}

/** Numbers as they may be typed back (`500_000`). */
function showValue(value: unknown): string {
  if (typeof value === "number" && Number.isInteger(value)) return String(value).replace(/\B(?=(\d{3})+$)/g, "_");
  return Array.isArray(value) ? value.join(",") : String(value);
}

/** A comma-separated list of non-negative integers for `option` ("1,2" -> [1, 2]); "none" or "" is the empty list. */
export function countList(option: string, text: string): number[] {
  if (text === "" || text === "none") return [];
  return text.split(",").map((part) => nonNegativeInteger(option, part, 0));
}

/** `--NAME <n>`: a positive integer. */
export function positiveIntegerOption(name: string, description: string, fallback?: BenchDefault<number>): Option {
  return valueOption(`--${name} <n>`, description, (text) => positiveInteger(name, text, 0), fallback);
}

/** `--NAME <n>`: a non-negative integer. */
export function nonNegativeIntegerOption(name: string, description: string, fallback?: BenchDefault<number>): Option {
  return valueOption(`--${name} <n>`, description, (text) => nonNegativeInteger(name, text, 0), fallback);
}

/** `--NAME <a,b>`: a comma list of names from `known`; all of them by default. */
export function namesOption<T extends string>(name: string, description: string, known: readonly T[], fallback: readonly T[] = known): Option {
  return valueOption(`--${name} <names>`, `${description} (known: ${known.join(", ")})`, (text) => knownNames(name, text, known), { normal: [...fallback] });
}

/** Whether the module at `moduleUrl` is the script node was started with (a bench's main, not an import of it). */
export function isEntryScript(moduleUrl: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(moduleUrl);
}

/** A bench's main: runBenchMain, where the module at `moduleUrl` is the script node started (not where a test imports it). */
export async function benchMain<O extends object>(moduleUrl: string, command: Command, main: (options: O) => unknown): Promise<void> {
  if (isEntryScript(moduleUrl)) await runBenchMain(command, main);
}

/**
 * Runs a benchmark's main on the options `command` parses from `argv`. --help prints the
 * help and exits 0. A bad option or value (commander's, or a BenchOptionError) becomes one
 * line on stderr naming the benchmark, and exit status 2; any other error keeps its stack.
 */
export async function runBenchMain<O extends object>(command: Command, main: (options: O) => unknown, argv: string[] = process.argv.slice(2)): Promise<void> {
  const name = command.name().replace(COMMAND_PREFIX, "bench ");
  try {
    command.parse(argv, { from: "user" });
    const options = command.opts();
    if (options.quick === true) {
      for (const option of command.options) {
        const key = option.attributeName();
        if (quickDefaults.has(option) && command.getOptionValueSource(key) === "default") command.setOptionValue(key, quickDefaults.get(option));
      }
    }
    if (options.json === JSON_TO_STDOUT) report.stream = process.stderr;
    await main(options as O);
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return; // --help
    if (!(error instanceof CommanderError) && !(error instanceof BenchOptionError)) throw error;
    // Commander's messages start "error: " and may add a suggestion on a line of its own.
    process.stderr.write(`${name}: ${error.message.replace(/^error: /, "").replace(/\s*\n\s*/g, " ")}\n`);
    process.exitCode = BAD_OPTION_EXIT_STATUS;
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
  if (value === null || value < least) throw new BenchOptionError(`--${option} must be ${kind} integer, got ${shownText(text)}`);
  return value;
}

/** A value as typed, with "" visible. */
function shownText(text: string): string {
  return text === "" ? '""' : text;
}

/** A positive number option (`--budget 0.5`); anything else is an error naming the option. */
export function positiveNumber(option: string, text: string): number {
  const value = parseDecimalNumber(text);
  if (value === null || value <= 0) throw new BenchOptionError(`--${option} must be a positive number, got ${shownText(text)}`);
  return value;
}
