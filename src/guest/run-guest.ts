import { readFileSync, writeSync } from "node:fs";
import { basename } from "node:path";
import { AddressSpace } from "../space/address-space.js";
import type { BackendKind, MemoryAccess } from "../space/backend.js";
import { TeeAccess } from "../space/tee-access.js";
import { TraceRecorder } from "../trace/recorder.js";
import { TraceStats, type TraceStatsReport } from "../trace/stats.js";
import { TraceWriter } from "../trace/writer.js";
import { Hart } from "./hart.js";
import { loadProgram } from "./loader.js";
import { LinuxSyscalls, type GuestIo } from "./syscalls.js";

export interface RunGuestOptions {
  backend?: BackendKind;
  /** argv[1..]; argv[0] is the file's name. */
  args?: string[];
  stdin?: Uint8Array;
  /** Guest output; by default it goes to this process's stdout and stderr. */
  write?: GuestIo["write"];
  /** Record the guest's memory traffic (fetches, loads, stores) to this trace file. */
  tracePath?: string;
  /** Gather trace statistics of the memory traffic while running. */
  collectStats?: boolean;
  maxInstructions?: number;
  /**
   * A strict AddressSpace: an access outside the guest's mappings (image segments with their
   * permissions, stack, brk heap, mmaps), or against their permissions, stops the run with a
   * fault naming the address, width, kind and pc. Off by default (a flat space, as recorded).
   */
  strict?: boolean;
}

export interface RunGuestResult {
  /** The guest's exit code, or null if it hit maxInstructions first. */
  exitCode: number | null;
  instructions: number;
  milliseconds: number;
  traceOps?: number;
  traceBytes?: number;
  stats?: TraceStatsReport;
  space: AddressSpace;
  /** The stack pointer the guest started with (argc, argv, envp and auxv lie above it). */
  initialStackPointer: bigint;
}

/** Loads a static RV64IMAC ELF into a fresh AddressSpace and runs it to its exit. */
export function runGuest(file: string, options: RunGuestOptions = {}): RunGuestResult {
  const bytes = readFileSync(file);
  const space = new AddressSpace({ backend: options.backend ?? "paged", strict: options.strict === true });
  const program = loadProgram(space, bytes, file, [basename(file), ...(options.args ?? [])]);
  const io: GuestIo = {
    stdin: options.stdin ?? new Uint8Array(0),
    write: options.write ?? ((fd, data) => writeSync(fd, data)),
  };
  let memory: MemoryAccess = space.access;
  const stats = options.collectStats ? new TraceStats() : undefined;
  if (stats) memory = new TeeAccess(memory, stats);
  const writer = options.tracePath !== undefined ? new TraceWriter(options.tracePath, { inputPaths: [file] }) : undefined;
  if (writer) memory = new TraceRecorder(memory, writer);
  const hart = new Hart(memory, new LinuxSyscalls(space, program.breakStart, io));
  hart.pc = program.entry;
  hart.setRegister(2, program.stackPointer);
  const started = performance.now();
  try {
    hart.run(options.maxInstructions);
  } catch (error) {
    // A run that failed leaves no trace behind (a partial one would pass for a whole run).
    writer?.discard();
    throw error;
  }
  writer?.close();
  return {
    exitCode: hart.exitCode,
    instructions: hart.instructions,
    milliseconds: performance.now() - started,
    traceOps: writer?.opsWritten,
    traceBytes: writer?.byteLength,
    stats: stats?.report(),
    space,
    initialStackPointer: program.stackPointer,
  };
}
