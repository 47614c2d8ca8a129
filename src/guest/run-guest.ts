import { readFileSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { AddressSpace } from "../space/address-space.js";
import type { BackendKind, MemoryAccess } from "../space/backend.js";
import { TeeAccess } from "../space/tee-access.js";
import { TraceRecorder } from "../trace/recorder.js";
import { TraceStats, type TraceStatsReport } from "../trace/stats.js";
import { createTraceOutput } from "../trace/open-output.js";
import type { TraceFileFormat } from "../trace/output.js";
import { Hart, type StopReason } from "./hart.js";
import { loadProgram } from "./loader.js";
import { LinuxSyscalls, type GuestInput, type GuestIo, type SyscallOptions } from "./syscalls.js";

/** Options of `runGuest`. */
export interface RunGuestOptions extends SyscallOptions {
  /** The memory backend (default "paged"). */
  backend?: BackendKind;
  /** argv[1..]; argv[0] is the file's path as given (as a shell passes it to execve). */
  args?: string[];
  /**
   * The guest's environment, "KEY=value" entries; by default DEFAULT_GUEST_ENVIRONMENT (never
   * this process's own).
   */
  environment?: string[];
  /** The guest's standard input: bytes, or a reader (GuestInput; default empty). */
  stdin?: GuestInput;
  /** Guest output; by default it goes to this process's stdout and stderr. */
  write?: GuestIo["write"];
  /** Record the guest's memory traffic (fetches, loads, stores) to this trace file. */
  tracePath?: string;
  /** The trace file's format (default "seed"; a v2 trace keeps fetches apart from reads). */
  traceFormat?: TraceFileFormat;
  /** Gather trace statistics of the memory traffic while running. */
  collectStats?: boolean;
  /** Stop after this many instructions (stopReason "instruction-limit"). */
  maxInstructions?: number;
  /**
   * Stop after this much wall-clock time (stopReason "timeout"), also inside a long system
   * call; noticed within a slice of the interpreter loop (tens of milliseconds).
   */
  timeoutMs?: number;
  /**
   * A strict AddressSpace: an access outside the guest's mappings (image segments with their
   * permissions, a bare-metal image's heap and stack RAM, stack, brk heap, mmaps), or against their permissions, stops the run with a
   * fault naming the address, width, kind and pc. Off by default (a flat space, as recorded).
   */
  strict?: boolean;
}

/** What `runGuest` reports. */
export interface RunGuestResult {
  /** Why the run ended. */
  stopReason: StopReason;
  /** Where the guest stopped: after its exit call, or at the instruction that was next when a limit stopped it. */
  pc: bigint;
  /** The guest's exit code; null unless stopReason is "exit". */
  exitCode: number | null;
  /** Instructions retired. */
  instructions: number;
  /** Wall-clock time of the run, in milliseconds, loading excluded. */
  milliseconds: number;
  /** Trace records written, when `tracePath` was given. */
  traceOps?: number;
  /** Trace bytes written, when `tracePath` was given. */
  traceBytes?: number;
  /** Trace statistics, when `collectStats` was set. */
  stats?: TraceStatsReport;
  /** The guest's address space after the run. */
  space: AddressSpace;
  /** The stack pointer the guest started with (argc, argv, envp and auxv lie above it). */
  initialStackPointer: bigint;
}

/** The environment a guest gets unless told otherwise: small, fixed, nothing of the host's. */
export const DEFAULT_GUEST_ENVIRONMENT: readonly string[] = ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=C"];

/** Loads a static RV64IMAFDC ELF into a fresh AddressSpace and runs it to its exit. */
export function runGuest(file: string, options: RunGuestOptions = {}): RunGuestResult {
  const bytes = readFileSync(file);
  const space = new AddressSpace({ backend: options.backend ?? "paged", strict: options.strict === true });
  const program = loadProgram(space, bytes, file, [file, ...(options.args ?? [])], [...(options.environment ?? DEFAULT_GUEST_ENVIRONMENT)]);
  const io: GuestIo = {
    stdin: options.stdin ?? new Uint8Array(0),
    write: options.write ?? ((fd, data) => writeSync(fd, data)),
  };
  let memory: MemoryAccess = space.access;
  const stats = options.collectStats ? new TraceStats() : undefined;
  if (stats) memory = new TeeAccess(memory, stats);
  const writer = options.tracePath !== undefined ? createTraceOutput(options.tracePath, options.traceFormat ?? "seed", { inputPaths: [file] }) : undefined;
  if (writer) memory = new TraceRecorder(memory, writer);
  const syscalls = new LinuxSyscalls(space, program.breakStart, io, {
    strictSyscalls: options.strictSyscalls,
    onUnknownSyscall: options.onUnknownSyscall,
    fileSystem: options.fileSystem,
    executablePath: options.executablePath ?? resolve(file),
  });
  const hart = new Hart(memory, syscalls);
  hart.pc = program.entry;
  hart.setRegister(2, program.stackPointer);
  const started = performance.now();
  let stopReason: StopReason;
  try {
    stopReason = hart.run(options.maxInstructions, options.timeoutMs);
  } catch (error) {
    // A run that failed leaves no trace behind (a partial one would pass for a whole run).
    writer?.discard();
    throw error;
  } finally {
    syscalls.close();
  }
  writer?.close();
  return {
    stopReason,
    exitCode: hart.exitCode,
    pc: hart.pc,
    instructions: hart.instructions,
    milliseconds: performance.now() - started,
    traceOps: writer?.opsWritten,
    traceBytes: writer?.byteLength,
    stats: stats?.report(),
    space,
    initialStackPointer: program.stackPointer,
  };
}
