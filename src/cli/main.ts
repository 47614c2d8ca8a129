#!/usr/bin/env node
import { Command, InvalidArgumentError } from "commander";
import { BACKEND_KINDS, isBackendKind, type BackendKind } from "../space/backend.js";
import { TRACE_SHAPES, type TraceShape } from "../trace/generators.js";
import { BENCHMARKS, runBench, type Benchmark } from "./bench-command.js";
import { runCrashTestCommand } from "./crash-test-command.js";
import { CRASH_TEST_KINDS, type CrashTestKind } from "../persist/crash-test.js";
import { runDemo } from "./demo-command.js";
import { runRunCommand, type RunCommandOptions } from "./run-command.js";
import { ReportedError, runReplay } from "./replay-command.js";
import { runImportLackey, runTraceGen, runTraceStats } from "./trace-commands.js";

function parseBackends(value: string): BackendKind[] {
  if (value === "all") return [...BACKEND_KINDS];
  const names = value.split(",");
  for (const name of names) {
    if (!isBackendKind(name)) throw new InvalidArgumentError(`unknown backend "${name}" (expected ${BACKEND_KINDS.join(", ")} or all)`);
  }
  return names as BackendKind[];
}

function parseOps(value: string): number {
  const ops = Number(value.replace(/_/g, ""));
  if (!Number.isSafeInteger(ops) || ops < 0) throw new InvalidArgumentError(`not a non-negative integer: ${value}`);
  return ops;
}

function parseShape(value: string): TraceShape {
  if (!(TRACE_SHAPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`unknown shape "${value}" (expected ${TRACE_SHAPES.join(" or ")})`);
  }
  return value as TraceShape;
}

const program = new Command();
program
  .name("memspace")
  .description("Fast memory emulation: a sparse 2^64-byte address space, trace replay and benchmarks.")
  .showHelpAfterError();

program
  .command("replay")
  .description("replay an interchange-format trace onto one or more backends")
  .argument("<trace>", "trace file")
  .option("-b, --backend <names>", `backend: ${BACKEND_KINDS.join(", ")}, a comma list, or all (each in a process of its own)`, parseBackends, ["paged"] as BackendKind[])
  .option("--json", "print one JSON object per backend instead of a table")
  .action((trace: string, options: { backend: BackendKind[]; json?: boolean }) => runReplay(trace, options.backend, options.json === true));

program
  .command("run")
  .description("run a static RV64IMAC guest (ELF); forwards its output and exits with its exit code")
  .argument("<guest>", "guest ELF file")
  .argument("[args...]", "arguments for the guest")
  .option("-b, --backend <name>", `memory backend: ${BACKEND_KINDS.join(", ")}`, (value: string) => parseBackends(value)[0], "paged" as BackendKind)
  .option("--stdin <file>", "file the guest reads as standard input")
  .option("--trace <out>", "record the guest's memory traffic in the interchange format")
  .option("--stats", "print instructions, MIPS, pages and memory ops by kind and width (to stderr)")
  .option("--max-instructions <n>", "stop after this many instructions", parseOps)
  .option(
    "--strict",
    "fault on any access outside the guest's mappings (segments, stack, brk, mmap) or against their permissions (fetch needs x); " +
      "bare-metal guests whose stack lies outside their ELF segments (our picolibc builds) need the default flat space",
  )
  .action((guest: string, args: string[], options: RunCommandOptions) => runRunCommand(guest, args, options));

const trace = program.command("trace").description("inspect and generate traces");
trace
  .command("stats")
  .description("ops by kind and width, pages, page transitions, crossings, reuse distance")
  .argument("<trace>", "trace file")
  .option("--json", "print the figures as JSON")
  .action((file: string, options: { json?: boolean }) => runTraceStats(file, options.json === true));
trace
  .command("gen")
  .description("generate a synthetic trace shaped like a reference workload")
  .requiredOption("--shape <shape>", `${TRACE_SHAPES.join(" or ")}`, parseShape)
  .requiredOption("--ops <n>", "number of ops", parseOps)
  .requiredOption("-o, --output <file>", "output trace file")
  .option("--seed <n>", "random seed (execblock)", parseOps, 1)
  .action((options: { shape: TraceShape; ops: number; output: string; seed: number }) =>
    runTraceGen(options.shape, options.ops, options.output, options.seed),
  );

trace
  .command("import-lackey")
  .description("convert Valgrind lackey --trace-mem=yes output into the interchange format")
  .argument("<lackey>", "lackey output (valgrind --tool=lackey --trace-mem=yes --log-file=FILE PROGRAM)")
  .requiredOption("-o, --output <file>", "output trace file")
  .action((input: string, options: { output: string }) => runImportLackey(input, options.output));

program
  .command("bench")
  .description(`run a benchmark: ${BENCHMARKS.join(" or ")} (options: --quick, and see bench/*.ts)`)
  .argument("<name>", BENCHMARKS.join(" | "), (value: string) => {
    if (!(BENCHMARKS as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown benchmark "${value}" (expected ${BENCHMARKS.join(" or ")})`);
    return value as Benchmark;
  })
  .argument("[options...]", "passed to the benchmark")
  .allowUnknownOption()
  .action((name: Benchmark, options: string[]) => runBench(name, options));

program
  .command("crash-test")
  .description("kill a process working on persistent state N times (SIGKILL at random moments); recover and check every invariant after each")
  .argument("<kind>", CRASH_TEST_KINDS.join(" | "), (value: string) => {
    if (!(CRASH_TEST_KINDS as readonly string[]).includes(value)) throw new InvalidArgumentError(`unknown crash test "${value}" (expected ${CRASH_TEST_KINDS.join(" or ")})`);
    return value as CrashTestKind;
  })
  .option("--kills <n>", "how many times to kill the child", parseOps, 100)
  .option("--seed <n>", "random seed", parseOps, 1)
  .option("--durability <mode>", "frames: process (writes survive kill -9) or power (fdatasync on every step)", "process")
  .option("--json <file>", "write the figures as JSON")
  .action(async (kind: CrashTestKind, options: { kills: number; seed: number; durability: string; json?: string }) => {
    if (options.durability !== "process" && options.durability !== "power") throw new InvalidArgumentError(`--durability must be process or power, got ${options.durability}`);
    const clean = await runCrashTestCommand(kind, { kills: options.kills, seed: options.seed, durability: options.durability, json: options.json });
    if (!clean) process.exitCode = 1;
  });

program
  .command("demo")
  .description("the default workload: run our Fibonacci guest, record its trace, replay it on every backend, compare")
  .option("--iterations <n>", "loop iterations of the guest", parseOps, 2_000_000)
  .action((options: { iterations: number }) => runDemo(options.iterations));

try {
  await program.parseAsync();
} catch (error) {
  if (error instanceof ReportedError) process.exit(error.exitCode);
  process.stderr.write(`memspace: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
