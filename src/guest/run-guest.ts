import type { AddressSpace } from "../space/address-space.js";
import type { TraceStatsReport } from "../trace/stats.js";
import type { StopReason } from "./hart.js";
import type { TranslatorStats } from "./translator/block-translator.js";
import { GuestSession, type GuestSessionOptions, type RunLimits } from "./guest-session.js";

export { DEFAULT_GUEST_ENVIRONMENT } from "./guest-session.js";

/** Options of `runGuest`: the GuestSession's, its run's limits, and what to attach before it runs. */
export interface RunGuestOptions extends GuestSessionOptions, RunLimits {
  /** Called once the guest is loaded, before it runs: add breakpoints, hooks, MMIO regions there. */
  setup?: (session: GuestSession) => void;
}

/** What `runGuest` reports. */
export interface RunGuestResult {
  /** Why the run ended. */
  stopReason: StopReason;
  /** Where the guest stopped: after its exit call, or at the instruction that was next when a limit or a hook stopped it. */
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
  /** What the block translator did and what it cost; absent under `interpreter`. */
  translation?: TranslatorStats;
  /** The guest's address space after the run. */
  space: AddressSpace;
  /** The stack pointer the guest started with (argc, argv, envp and auxv lie above it). */
  initialStackPointer: bigint;
}

/** Loads a static RV64IMAFDC ELF into a fresh AddressSpace and runs it to its exit (or a limit, or a hook's stop). */
export function runGuest(file: string, options: RunGuestOptions = {}): RunGuestResult {
  const session = new GuestSession(file, options);
  let stopReason: StopReason;
  const started = performance.now();
  try {
    options.setup?.(session);
    stopReason = session.run(options);
  } catch (error) {
    session.abandon();
    throw error;
  }
  session.close();
  const hart = session.hart;
  return {
    stopReason,
    exitCode: hart.exitCode,
    pc: hart.pc,
    instructions: hart.instructions,
    milliseconds: performance.now() - started,
    traceOps: session.traceWriter?.opsWritten,
    traceBytes: session.traceWriter?.byteLength,
    stats: session.stats?.report(),
    translation: session.translator?.report(),
    space: session.space,
    initialStackPointer: session.initialStackPointer,
  };
}
