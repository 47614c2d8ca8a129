#!/usr/bin/env node
/**
 * The `memspace` command. Only the argument parser loads at start-up: each command's module
 * (and with it the engines it drives) is imported when that command runs, so `--help` or a
 * replay of a small trace does not pay for loading the allocators or the guest executor.
 */
import { readFileSync } from "node:fs";
import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { CRASH_TEST_KINDS, type CrashTestKind } from "../crash/crash-test-kinds.js";
import { BACKEND_KINDS, isBackendKind, type BackendKind } from "../space/backend.js";
import { PAGE_SIZE_BYTES } from "../space/address.js";
import { REPLACEMENT_POLICIES } from "../trace/cache/cache-level.js";
import { CACHEGRIND_DEFAULT_GEOMETRY, GeometryError, parseCacheGeometry, parseTlbGeometry, type CacheGeometry, type TlbGeometry } from "../trace/cache/geometry.js";
import { ACCESS_INPUT_FORMATS, type AccessInputFormat } from "../trace/cache/access-stream.js";
import { TRACE_SHAPES, type TraceShape } from "../trace/generators.js";
import { TRACE_FILE_FORMATS, type TraceFileFormat } from "../trace/output.js";
import { parseDecimalInteger, parseDecimalNumber } from "../util/parse-number.js";
import { BENCHMARKS } from "./bench-list.js";
import {
  DEFAULT_ERROR_EXIT_CODE,
  EXIT_FAILURE,
  EXIT_GUEST_STOPPED,
  EXIT_INTERNAL_ERROR,
  EXIT_USAGE,
  isInternalError,
  ReportedError,
  UsageError,
} from "./exit-codes.js";

function parseBackends(value: string): BackendKind[] {
  if (value === "all") return [...BACKEND_KINDS];
  const names = value.split(",");
  for (const name of names) {
    if (!isBackendKind(name)) throw new InvalidArgumentError(`unknown backend "${name}" (expected ${BACKEND_KINDS.join(", ")} or all)`);
  }
  return names as BackendKind[];
}

/** A count: decimal digits, `_` allowed between groups (117_000_007). */
function parseCount(value: string): number {
  const count = parseDecimalInteger(value);
  if (count === null) throw new InvalidArgumentError(`not a non-negative decimal integer: "${value}"`);
  return count;
}

function parseSeconds(value: string): number {
  const seconds = parseDecimalNumber(value);
  if (seconds === null || seconds <= 0) throw new InvalidArgumentError(`not a positive number of seconds: "${value}"`);
  return seconds;
}

/** The largest TCP port. */
const MAX_PORT = 65535;

function parsePort(value: string): number {
  const port = parseDecimalInteger(value);
  if (port === null || port > MAX_PORT) throw new InvalidArgumentError(`not a TCP port from 0 to ${MAX_PORT}: "${value}"`);
  return port;
}

function parseExitCode(value: string): number {
  const code = parseDecimalInteger(value);
  if (code === null || code > 255) throw new InvalidArgumentError(`not an exit status from 0 to 255: "${value}"`);
  return code;
}

function choiceOf<T extends string>(what: string, choices: readonly T[]): (value: string) => T {
  return (value: string) => {
    if (!(choices as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown ${what} "${value}" (expected ${choices.join(" or ")})`);
    return value as T;
  };
}

function geometryText(level: keyof typeof CACHEGRIND_DEFAULT_GEOMETRY): string {
  const { sizeBytes, assoc, lineSizeBytes } = CACHEGRIND_DEFAULT_GEOMETRY[level];
  return `${sizeBytes},${assoc},${lineSizeBytes}`;
}

/** A geometry parser whose complaint commander reports as a bad option value. */
function asOptionParser<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof GeometryError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function geometryOption(name: string): (value: string) => CacheGeometry {
  return (value) => asOptionParser(() => parseCacheGeometry(name, value));
}

function tlbOption(name: string): (value: string) => TlbGeometry {
  return (value) => asOptionParser(() => parseTlbGeometry(name, value));
}

/** The option that picks a written trace's file format: the seed interchange format or the v2 container. */
function traceFormatOption(flags: string, description: string): Option {
  return new Option(flags, description).choices(TRACE_FILE_FORMATS);
}

const FORMAT_HELP = "output format: seed, the interchange format, or v2, the chunked, compressed container";
/** The help of the input `--format` of the commands that read accesses. */
const ACCESS_FORMAT_HELP = "input: trace is any memspace trace, seed or v2 (told by its header; a seed trace's reads are all data reads), lackey is Valgrind lackey --trace-mem=yes output";

const JSON_HELP = "write the figures as one JSON document to FILE (written whole or not at all), or to stdout for -";

function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../../../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

const program = new Command();
program
  .name("memspace")
  .description("Fast memory emulation: a sparse 2^64-byte address space, trace record and replay, a RISC-V guest executor, benchmarks.")
  .version(packageVersion(), "-V, --version", "print memspace's version")
  .showHelpAfterError()
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(`memspace: ${text.replace(/^error: /, "")}`) })
  .addHelpText(
    "after",
    `
Exit status: 0 on success; 1 when memspace reports an error (a bad trace, a file it cannot read or
write); 2 for a usage error; ${EXIT_INTERNAL_ERROR} for an internal error. \`run\` exits with the guest's own status, or
${EXIT_GUEST_STOPPED} when --max-instructions or --timeout stopped the guest, or ${DEFAULT_ERROR_EXIT_CODE} (--error-exitcode) when the
emulator could not go on. A path of - reads standard input (replay, trace stats, trace convert, trace import-lackey).`,
  );

program
  .command("replay")
  .description("replay a trace onto one or more backends and report ops, time and a checksum of the values read")
  .argument("<trace>", "trace file, or - for standard input")
  .option("-b, --backend <names>", `backend: ${BACKEND_KINDS.join(", ")}, a comma list, or all (each in a process of its own)`, parseBackends, ["paged"] as BackendKind[])
  .option("--decode-workers <n>", "v2 traces: worker threads decoding chunks while the replay runs; 0 decodes on the replaying thread (default: the cores but one, at most 4)", parseCount)
  .option("--json <file>", JSON_HELP)
  .action(async (trace: string, options: { backend: BackendKind[]; decodeWorkers?: number; json?: string }) => {
    const { runReplay } = await import("./replay-command.js");
    runReplay(trace, options.backend, options.json, { decodeWorkers: options.decodeWorkers });
  });

program
  .command("run")
  .description("run a static RISC-V Linux guest (ELF); forwards its output and exits with its exit status")
  .argument("<guest>", "guest ELF file")
  .argument("[args...]", "arguments for the guest (after --, they may start with -)")
  .option("-b, --backend <name>", `memory backend: ${BACKEND_KINDS.join(", ")}`, (value: string) => parseBackends(value)[0], "paged" as BackendKind)
  .option("--stdin <file>", "file the guest reads as standard input (default: memspace's own standard input)")
  .option("--env <KEY=value>", "add to (or change) the guest's small default environment; repeatable", (value: string, previous: string[] = []) => [...previous, value])
  .option("--fs <dir>", "let the guest open files under DIR, its \"/\" (read-only); without it the guest has only stdin, stdout and stderr")
  .option("--fs-write", "with --fs: the guest may also create, write, rename and remove files there")
  .option("--trace <out>", "record the guest's memory traffic (format: --trace-format)")
  .addOption(traceFormatOption("--trace-format <format>", "format of the --trace file: seed, the interchange format (default), or v2, the compressed container"))
  .option("--stats", "print instructions, MIPS, pages and memory ops by kind and width (to stderr)")
  .option("--json <file>", "write the --stats figures as one JSON document to FILE (written whole or not at all)")
  .option("--max-instructions <n>", `stop the guest after this many instructions (exit status ${EXIT_GUEST_STOPPED})`, parseCount)
  .option("--timeout <seconds>", `stop the guest after this much wall-clock time, even inside a system call (exit status ${EXIT_GUEST_STOPPED})`, parseSeconds)
  .option("--error-exitcode <n>", "exit status when the emulator cannot go on (bad ELF, guest fault, illegal instruction)", parseExitCode, DEFAULT_ERROR_EXIT_CODE)
  .option("--strict-syscalls", "an unknown system call stops the guest (default: it returns -ENOSYS, as Linux does)")
  .option("-v, --verbose", "report each unknown system call number once on stderr")
  .option("--gdb <port>", "wait for a debugger (gdb-multiarch: target remote :PORT) on localhost:PORT and run the guest under it; 0 picks a free port, printed on stderr", parsePort)
  .option("--interpreter", "interpret every instruction instead of translating hot blocks to JavaScript (slower; the same run, instruction for instruction)")
  .option(
    "--strict",
    "fault on any access outside the guest's mappings (segments, stack, brk, mmap) or against their permissions (fetch needs x); " +
      "bare-metal guests whose stack lies outside their ELF segments (our picolibc builds) need the default flat space",
  )
  .action(async (guest: string, args: string[], options: import("./run-command.js").RunCommandOptions) => {
    const { runRunCommand } = await import("./run-command.js");
    await runRunCommand(guest, args, options);
  });

const partsHelp = (byDefault: string): string =>
  `v2 files: threads that each take a range of chunks, merged into exactly what one pass gives (default: ${byDefault}); 1: one pass with a worker decoding; 0: one pass on this thread. Seed traces, lackey logs and pipes are read in one pass`;
const PARTS_HELP = partsHelp("the cores");

const trace = program.command("trace").description("inspect, generate and import traces");
trace
  .command("stats")
  .description("ops by kind and width, pages, page transitions, crossings, reuse distance")
  .argument("<trace>", "trace file, or - for standard input")
  .option("--workers <n>", PARTS_HELP, parseCount)
  .option("--json <file>", JSON_HELP)
  .action(async (file: string, options: { workers?: number; json?: string }) => {
    const { runTraceStats } = await import("./trace-commands.js");
    runTraceStats(file, options.json, options.workers);
  });
trace
  .command("gen")
  .description("generate a synthetic trace shaped like a reference workload")
  .requiredOption("--shape <shape>", `${TRACE_SHAPES.join(" or ")}`, choiceOf("shape", TRACE_SHAPES))
  .requiredOption("--ops <n>", "number of ops", parseCount)
  .requiredOption("-o, --output <file>", "output trace file")
  .addOption(traceFormatOption("--format <format>", FORMAT_HELP).default("seed"))
  .option("--seed <n>", "random seed (execblock)", parseCount, 1)
  .option("--json <file>", JSON_HELP)
  .action(async (options: { shape: TraceShape; ops: number; output: string; format: TraceFileFormat; seed: number; json?: string }) => {
    const { runTraceGen } = await import("./trace-commands.js");
    runTraceGen(options.shape, options.ops, options.output, { seed: options.seed, format: options.format }, options.json);
  });
trace
  .command("convert")
  .description("convert a trace to the seed interchange format or the v2 container (seed -> v2 -> seed gives back the same bytes)")
  .argument("<trace>", "trace file, seed or v2 (told by its header), or - for standard input")
  .requiredOption("-o, --output <file>", "output trace file (never one of the inputs)")
  .addOption(traceFormatOption("--format <format>", FORMAT_HELP).makeOptionMandatory())
  .option("--json <file>", JSON_HELP)
  .action(async (file: string, options: { output: string; format: TraceFileFormat; json?: string }) => {
    const { runTraceConvert } = await import("./trace-commands.js");
    runTraceConvert(file, options.output, options.format, options.json);
  });
trace
  .command("cache")
  .description("simulate I1, D1 and LL caches (and TLBs) as Cachegrind models them; print Cachegrind's summary")
  .argument("<trace>", "trace file, or - for standard input")
  .addOption(new Option("--format <format>", ACCESS_FORMAT_HELP).choices(ACCESS_INPUT_FORMATS).default("trace"))
  .option("--I1 <size,assoc,line>", `I1 cache, as Cachegrind's --I1 (default: ${geometryText("I1")})`, geometryOption("--I1"))
  .option("--D1 <size,assoc,line>", `D1 cache (default: ${geometryText("D1")})`, geometryOption("--D1"))
  .option("--LL <size,assoc,line>", `last-level cache, unified (default: ${geometryText("LL")})`, geometryOption("--LL"))
  .option("--itlb <entries,assoc,page>", "also simulate an instruction TLB", tlbOption("--itlb"))
  .option("--dtlb <entries,assoc,page>", "also simulate a data TLB", tlbOption("--dtlb"))
  .addOption(new Option("--policy <policy>", "replacement policy of every level").choices(REPLACEMENT_POLICIES).default("lru"))
  .option("--seed <n>", "random seed of --policy random", parseCount, 1)
  .option("--workers <n>", `${partsHelp("the cores where there are more than 2, else 1")}. In parts with --policy lru only: the other policies run in one pass`, parseCount)
  .option("--json <file>", JSON_HELP)
  .action(async (file: string, options: import("./trace-commands.js").TraceCacheOptions) => {
    const { runTraceCache } = await import("./trace-commands.js");
    runTraceCache(file, options);
  });
trace
  .command("reuse")
  .description("exact LRU stack (reuse) distances and the miss ratio of every fully associative LRU cache size")
  .argument("<trace>", "trace file, or - for standard input")
  .addOption(new Option("--format <format>", ACCESS_FORMAT_HELP).choices(ACCESS_INPUT_FORMATS).default("trace"))
  .addOption(new Option("--granularity <unit>", "block: a page (4096 bytes) or a cache line").choices(["page", "line"]).default("page"))
  .option("--line-size <bytes>", "cache line size for --granularity line (a power of two)", parseCount, 64)
  .option("--workers <n>", PARTS_HELP, parseCount)
  .option("--json <file>", JSON_HELP)
  .action(async (file: string, options: { format: AccessInputFormat; granularity: "page" | "line"; lineSize: number; workers?: number; json?: string }) => {
    const { runTraceReuse } = await import("./trace-commands.js");
    runTraceReuse(file, options.format, options.granularity === "page" ? PAGE_SIZE_BYTES : options.lineSize, options.json, options.workers);
  });
trace
  .command("report")
  .description("one self-contained HTML report: page heat map, working set, kinds and widths, reuse distances, hottest pages and lines")
  .argument("<trace>", "trace file, or - for standard input")
  .requiredOption("-o, --output <file>", "the HTML report")
  .addOption(new Option("--format <format>", ACCESS_FORMAT_HELP).choices(ACCESS_INPUT_FORMATS).default("trace"))
  .option("--top <n>", "rows of the hottest tables and pages of the heat map", parseCount, 32)
  .option("--time-buckets <n>", "time buckets of the heat map and working set (even; each holds a power-of-two number of ops)", parseCount, 64)
  .option("--page-size <bytes>", "page size (a power of two)", parseCount, PAGE_SIZE_BYTES)
  .option("--line-size <bytes>", "cache line size (a power of two)", parseCount, 64)
  .option("--workers <n>", PARTS_HELP, parseCount)
  .option("--json <file>", JSON_HELP)
  .action(async (file: string, options: import("./report-command.js").TraceReportOptions) => {
    const { runTraceReport } = await import("./report-command.js");
    await runTraceReport(file, options);
  });
trace
  .command("import-lackey")
  .description("convert Valgrind lackey --trace-mem=yes output into a trace (v2 keeps fetches apart from reads, and each access whole)")
  .argument("<lackey>", "lackey output, or - for standard input (valgrind --tool=lackey --trace-mem=yes --log-fd=3 PROGRAM 3>&1 >/dev/null | memspace trace import-lackey - -o OUT)")
  .requiredOption("-o, --output <file>", "output trace file")
  .addOption(traceFormatOption("--format <format>", FORMAT_HELP).default("seed"))
  .option("--json <file>", JSON_HELP)
  .action(async (input: string, options: { output: string; format: TraceFileFormat; json?: string }) => {
    const { runImportLackey } = await import("./trace-commands.js");
    runImportLackey(input, options.output, options.format, options.json);
  });

const bench = program
  .command("bench")
  .description("benchmarks: alternatives side by side in one run, each in fresh processes (memspace bench NAME --help lists a bench's options)");
for (const { name, description } of BENCHMARKS) {
  bench
    .command(name)
    .description(description)
    .helpOption(false)
    .allowUnknownOption()
    .allowExcessArguments()
    .argument("[options...]", "the bench's options (memspace bench " + name + " --help)")
    .action(async (args: string[]) => {
      const { runBench } = await import("./bench-command.js");
      runBench(name, args);
    });
}

program
  .command("crash-test")
  .description("kill a process working on persistent state N times (SIGKILL at random moments); recover and check every invariant after each")
  .argument("<kind>", CRASH_TEST_KINDS.join(" | "), choiceOf("crash test", CRASH_TEST_KINDS))
  .option("--kills <n>", "how many times to kill the child", parseCount, 100)
  .option("--seed <n>", "random seed", parseCount, 1)
  .addOption(new Option("--durability <mode>", "frames: process (writes survive kill -9) or power (fdatasync on every step)").choices(["process", "power"]).default("process"))
  .option("--json <file>", JSON_HELP)
  .action(async (kind: CrashTestKind, options: { kills: number; seed: number; durability: "process" | "power"; json?: string }) => {
    const { runCrashTestCommand } = await import("./crash-test-command.js");
    const clean = await runCrashTestCommand(kind, options);
    if (!clean) process.exitCode = EXIT_FAILURE;
  });

program
  .command("disasm")
  .description("disassemble a RISC-V program's code, as riscv64-linux-gnu-objdump -d shows it (the same mnemonics and operands)")
  .argument("<program>", "RISC-V ELF file")
  .action(async (file: string) => {
    const { runDisasmCommand } = await import("./disasm-command.js");
    runDisasmCommand(file);
  });

program
  .command("demo")
  .description("the default workload: run our Fibonacci guest, record its trace, replay it on every backend, compare")
  .option("--iterations <n>", "loop iterations of the guest", parseCount, 2_000_000)
  .action(async (options: { iterations: number }) => {
    const { runDemo } = await import("./demo-command.js");
    runDemo(options.iterations);
  });

/** Ends the command with the exit status that `error` calls for, and its message on stderr. */
function reportError(error: unknown): void {
  if (error instanceof CommanderError) {
    // Help and --version end here too, with exit code 0; commander has printed the message.
    process.exitCode = error.exitCode === 0 ? 0 : EXIT_USAGE;
  } else if (error instanceof ReportedError) {
    process.exitCode = error.exitCode;
  } else if (error instanceof UsageError) {
    process.stderr.write(`memspace: ${error.message}\n`);
    process.exitCode = EXIT_USAGE;
  } else if (isInternalError(error)) {
    process.stderr.write(`memspace: internal error (a bug in memspace; please report it with this output):\n${(error as Error).stack}\n`);
    process.exitCode = EXIT_INTERNAL_ERROR;
  } else {
    process.stderr.write(`memspace: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = EXIT_FAILURE;
  }
}

// No top-level await: the bundled command is CommonJS (scripts/bundle-cli.mjs).
program.parseAsync().catch(reportError);
