import { readFileSync, statSync } from "node:fs";
import { GuestLoadError } from "../guest/elf.js";
import { GuestError } from "../guest/hart.js";
import { serveGdb } from "../guest/gdb/gdb-stub.js";
import { GuestSession, type GuestSessionOptions } from "../guest/guest-session.js";
import { DEFAULT_GUEST_ENVIRONMENT, runGuest, type RunGuestResult } from "../guest/run-guest.js";
import type { BackendKind } from "../space/backend.js";
import type { TraceFileFormat } from "../trace/output.js";
import { refuseAliasedOutput } from "../util/output-file.js";
import { EXIT_GUEST_STOPPED, UsageError } from "./exit-codes.js";
import { hostStdinReader } from "./host-stdin.js";
import { JSON_TO_STDOUT, writeJsonReport } from "./report.js";
import { formatNumber, renderTable } from "./table.js";
import { formatTraceStats } from "./trace-commands.js";

/** Options of `memspace run`, as parsed. */
export interface RunCommandOptions {
  /** --backend: the memory backend. */
  backend: BackendKind;
  /** --stdin: a file the guest reads as standard input (else memspace's own standard input). */
  stdin?: string;
  /** --env: KEY=value entries added to (or replacing) the guest's default environment. */
  env?: string[];
  /** --fs: the directory the guest sees as its root (nothing outside it). */
  fs?: string;
  /** --fs-write: the guest may change files under --fs. */
  fsWrite?: boolean;
  /** --trace: where to record the guest's memory traffic. */
  trace?: string;
  /** --trace-format: the --trace file's format (default seed). */
  traceFormat?: TraceFileFormat;
  /** --stats: print the run's figures on stderr. */
  stats?: boolean;
  /** --json: where to write the figures as JSON. */
  json?: string;
  /** --max-instructions: stop the guest after this many instructions. */
  maxInstructions?: number;
  /** --timeout: stop the guest after this many seconds of wall-clock time. */
  timeout?: number;
  /** --error-exitcode: the exit status when the emulator cannot go on. */
  errorExitcode: number;
  /** --strict-syscalls: an unknown system call stops the guest. */
  strictSyscalls?: boolean;
  /** --verbose: report each unknown system call number once. */
  verbose?: boolean;
  /** --strict: run in a strict address space, where accesses outside the guest's mappings fault. */
  strict?: boolean;
  /** --gdb: serve a debugger on this localhost port (0: any free one) and run the guest under it. */
  gdb?: number;
  /** --interpreter: interpret every instruction, translating no block. */
  interpreter?: boolean;
}

/**
 * `memspace run GUEST`: runs the guest, forwards its output, and exits with the guest's
 * status; with EXIT_GUEST_STOPPED when a limit stopped it, and with `--error-exitcode` when
 * the emulator could not go on (the reason on stderr).
 */
export async function runRunCommand(guest: string, args: string[], options: RunCommandOptions): Promise<void> {
  if (options.gdb !== undefined) return runUnderDebugger(guest, args, options, options.gdb);
  if (options.json === JSON_TO_STDOUT) throw new UsageError("run: --json - would mix the figures into the guest's standard output; give a file");
  const inputs = options.stdin === undefined ? [guest] : [guest, options.stdin];
  for (const output of [options.trace, options.json]) if (output !== undefined) refuseAliasedOutput(output, inputs);
  if (options.trace !== undefined && options.trace === options.json) throw new UsageError("run: --trace and --json name the same file");
  if (options.traceFormat !== undefined && options.trace === undefined) throw new UsageError("run: --trace-format needs --trace FILE");
  const wantStats = options.stats === true || options.json !== undefined;
  let result: RunGuestResult;
  try {
    result = runGuest(guest, {
      ...sessionOptions(guest, args, options),
      tracePath: options.trace,
      traceFormat: options.traceFormat,
      collectStats: wantStats,
      maxInstructions: options.maxInstructions,
      timeoutMs: options.timeout === undefined ? undefined : options.timeout * 1000,
    });
  } catch (error) {
    if (error instanceof GuestError || error instanceof GuestLoadError) {
      process.stderr.write(`memspace: ${guest}: ${error.message}\n`);
      process.exitCode = options.errorExitcode;
      return;
    }
    throw error;
  }
  if (options.stats) process.stderr.write(formatRunStats(guest, result, options.trace) + "\n");
  if (options.json !== undefined) writeJsonReport(options.json, runFigures(guest, result, options), inputs);
  if (result.stopReason === "exit") {
    process.exitCode = result.exitCode ?? 0;
    return;
  }
  const limit = result.stopReason === "timeout" ? `--timeout ${options.timeout} s` : `--max-instructions ${options.maxInstructions}`;
  process.stderr.write(`memspace: ${guest}: stopped by ${limit} after ${formatNumber(result.instructions)} instructions (pc 0x${result.pc.toString(16)})\n`);
  process.exitCode = EXIT_GUEST_STOPPED;
}

/** What a run's guest session is made of, from the command line. */
function sessionOptions(guest: string, args: string[], options: RunCommandOptions): GuestSessionOptions {
  if (options.fsWrite === true && options.fs === undefined) throw new UsageError("run: --fs-write needs --fs DIR");
  if (options.fs !== undefined && statSync(options.fs, { throwIfNoEntry: false })?.isDirectory() !== true) throw new UsageError(`run: --fs ${options.fs}: not a directory`);
  return {
    backend: options.backend,
    args,
    environment: guestEnvironment(options.env ?? []),
    fileSystem: options.fs === undefined ? undefined : { root: options.fs, writable: options.fsWrite === true },
    stdin: options.stdin !== undefined ? readFileSync(options.stdin) : hostStdinReader(),
    strictSyscalls: options.strictSyscalls === true,
    onUnknownSyscall: options.verbose ? (number) => process.stderr.write(`memspace: ${guest}: unknown system call ${number}, returned -ENOSYS\n`) : undefined,
    strict: options.strict === true,
    interpreter: options.interpreter === true,
  };
}

/**
 * `run --gdb PORT`: the guest waits, stopped before its first instruction, for one debugger;
 * memspace exits with the guest's status when it exits, EXIT_GUEST_STOPPED when the
 * debugger kills it or goes away first.
 */
async function runUnderDebugger(guest: string, args: string[], options: RunCommandOptions, port: number): Promise<void> {
  for (const [flag, set] of [["--trace", options.trace], ["--stats", options.stats], ["--json", options.json], ["--max-instructions", options.maxInstructions], ["--timeout", options.timeout]] as const) {
    if (set !== undefined) throw new UsageError(`run: ${flag} does not go with --gdb (the debugger runs the guest)`);
  }
  let session: GuestSession;
  try {
    session = new GuestSession(guest, sessionOptions(guest, args, options));
  } catch (error) {
    if (!(error instanceof GuestLoadError)) throw error;
    process.stderr.write(`memspace: ${guest}: ${error.message}\n`);
    process.exitCode = options.errorExitcode;
    return;
  }
  const outcome = await serveGdb(session, {
    port,
    onListening: (listening) => process.stderr.write(`memspace: ${guest}: waiting for a debugger on localhost:${listening} (gdb-multiarch ${guest} -ex 'target remote :${listening}')\n`),
  });
  if (outcome.kind === "exit") {
    process.exitCode = outcome.exitCode;
  } else if (outcome.kind === "detached" && outcome.exitCode !== null) {
    process.exitCode = outcome.exitCode;
  } else {
    const why = outcome.kind === "killed" ? "the debugger killed it" : outcome.kind === "disconnected" ? "the debugger went away" : `it stopped after the debugger detached${outcome.error ? `: ${outcome.error.message}` : ""}`;
    process.stderr.write(`memspace: ${guest}: ${why} (pc 0x${session.hart.pc.toString(16)}, ${formatNumber(session.hart.instructions)} instructions)\n`);
    process.exitCode = EXIT_GUEST_STOPPED;
  }
}

/** The default environment with each --env KEY=value added, or replacing the entry of its KEY. */
function guestEnvironment(settings: string[]): string[] {
  const entries = new Map(DEFAULT_GUEST_ENVIRONMENT.map((entry) => [entry.slice(0, entry.indexOf("=")), entry]));
  for (const setting of settings) {
    const equals = setting.indexOf("=");
    if (equals <= 0) throw new UsageError(`run: --env ${setting}: expected KEY=value`);
    entries.set(setting.slice(0, equals), setting);
  }
  return [...entries.values()];
}

function runFigures(guest: string, result: RunGuestResult, options: RunCommandOptions): object {
  const memory = result.space.stats();
  return {
    guest,
    stopReason: result.stopReason,
    exitCode: result.exitCode,
    instructions: result.instructions,
    milliseconds: result.milliseconds,
    mips: result.instructions / result.milliseconds / 1e3,
    touchedPages: memory.touchedPages,
    residentPages: memory.residentPages,
    memoryOps: result.stats,
    translation: result.translation ?? null,
    trace: options.trace === undefined ? null : { path: options.trace, format: options.traceFormat ?? "seed", ops: result.traceOps, bytes: result.traceBytes },
  };
}

/** The translator's cost, for the statistics table (nothing under --interpreter). */
function translationRows(result: RunGuestResult): [string, string | number][] {
  const translation = result.translation;
  if (translation === undefined) return [["executor", "interpreter"]];
  return [
    ["blocks translated", translation.blocks],
    ["regions built", translation.regions],
    ["regions spanning pages", translation.spanningRegions],
    ["code pages dropped", translation.invalidations],
    ["translation ms", translation.translateMs],
  ];
}

function formatRunStats(guest: string, result: RunGuestResult, tracePath: string | undefined): string {
  const memory = result.space.stats();
  const lines = [
    renderTable(
      ["figure", "value"],
      [
        ["instructions", result.instructions],
        ["seconds", result.milliseconds / 1e3],
        ["MIPS", result.instructions / result.milliseconds / 1e3],
        ["pages touched", memory.touchedPages],
        ["resident pages", memory.residentPages],
        ["exit code", result.stopReason === "exit" ? String(result.exitCode) : `(stopped: ${result.stopReason})`],
        ...translationRows(result),
      ],
    ),
  ];
  if (result.stats) lines.push("", formatTraceStats(`of ${guest}`, result.stats));
  if (tracePath) lines.push("", `trace: ${formatNumber(result.traceOps ?? 0)} ops, ${formatNumber(result.traceBytes ?? 0)} bytes -> ${tracePath}`);
  return lines.join("\n");
}
