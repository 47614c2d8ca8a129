/**
 * A loaded guest, to run in steps: the hart and its address space together, with what an
 * emulator author or a debugger attaches to them (unicorn's model): breakpoints, single
 * steps, runs until an address, code and basic-block hooks, system-call hooks, and the
 * space's memory hooks, watchpoints and MMIO regions. `runGuest` is a session run to its end.
 */
import { readFileSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { AddressSpace } from "../space/address-space.js";
import { toBigAddress, type Address } from "../space/address.js";
import type { BackendKind, MemoryAccess } from "../space/backend.js";
import type { MemoryEvent, MemoryHook } from "../space/memory-hooks.js";
import { TeeAccess } from "../space/tee-access.js";
import { createTraceOutput } from "../trace/open-output.js";
import type { TraceFileFormat, TraceOutput } from "../trace/output.js";
import { TraceRecorder } from "../trace/recorder.js";
import { TraceStats } from "../trace/stats.js";
import { Hart, type StopReason } from "./hart.js";
import { loadProgram } from "./loader.js";
import { SyscallHooks, type SyscallHook } from "./syscall-hooks.js";
import { BlockTranslator, type TranslatorMode } from "./translator/block-translator.js";
import { LinuxSyscalls, type GuestInput, type GuestIo, type SyscallOptions } from "./syscalls.js";

/** How a session is set up: the program's arguments, environment, input, output, memory and what watches it. */
export interface GuestSessionOptions extends SyscallOptions {
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
  /**
   * Sees every fetch, load and store the guest makes, after the space (and its hooks) and
   * before the trace recorder: a cache simulator, a custom statistics sink, a watcher.
   */
  observer?: MemoryAccess;
  /**
   * A strict AddressSpace: an access outside the guest's mappings (image segments with their
   * permissions, a bare-metal image's heap and stack RAM, stack, brk heap, mmaps), or against their permissions, stops the run with a
   * fault naming the address, width, kind and pc. Off by default (a flat space, as recorded).
   */
  strict?: boolean;
  /**
   * Run every instruction in the interpreter, translating nothing (default: hot blocks are
   * translated to JavaScript, translator/block-translator.ts; both run a guest identically).
   */
  interpreter?: boolean;
}

/** The environment a guest gets unless told otherwise: small, fixed, nothing of the host's. */
export const DEFAULT_GUEST_ENVIRONMENT: readonly string[] = ["PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/", "LANG=C"];

/** The limits of one `GuestSession.run`. */
export interface RunLimits {
  /** Stop after this many instructions (stopReason "instruction-limit"). */
  maxInstructions?: number;
  /**
   * Stop after this much wall-clock time (stopReason "timeout"), also inside a long system
   * call; noticed within a slice of the interpreter loop (tens of milliseconds).
   */
  timeoutMs?: number;
}

/** A code hook's view of one instruction about to run. */
export interface CodeEvent {
  readonly pc: bigint;
  /** Its bits: a 16-bit parcel, or a 32-bit instruction. */
  readonly bits: number;
  readonly lengthBytes: 2 | 4;
}

/** A code hook: "stop" stops the run before the instruction runs. */
export type CodeHook = (event: CodeEvent) => void | "stop";

/** A fetch, as a code hook sees it. */
function codeEvent(fetch: MemoryEvent): CodeEvent {
  return { pc: fetch.address, bits: Number(fetch.value), lengthBytes: fetch.widthBytes === 4 ? 4 : 2 };
}

/** A static RV64GC Linux ELF loaded into a fresh AddressSpace, ready to run (see the file comment). */
export class GuestSession {
  readonly space: AddressSpace;
  readonly hart: Hart;
  /** The stack pointer the guest started with (argc, argv, envp and auxv lie above it). */
  readonly initialStackPointer: bigint;
  /** Trace statistics, when `collectStats` was set. */
  readonly stats: TraceStats | undefined;
  /** The trace being recorded, when `tracePath` was given. */
  readonly traceWriter: TraceOutput | undefined;
  private readonly linux: LinuxSyscalls;
  private readonly syscallHooks: SyscallHooks;
  /** The block translator running the hart's slices; null with `interpreter`. */
  readonly translator: BlockTranslator | null;
  private closed = false;

  /** Loads `file` (a path) with `options`; nothing runs until `run`. */
  constructor(
    readonly file: string,
    readonly options: GuestSessionOptions = {},
  ) {
    const bytes = readFileSync(file);
    this.space = new AddressSpace({ backend: options.backend ?? "paged", strict: options.strict === true });
    const program = loadProgram(this.space, bytes, file, [file, ...(options.args ?? [])], [...(options.environment ?? DEFAULT_GUEST_ENVIRONMENT)]);
    this.initialStackPointer = program.stackPointer;
    const io: GuestIo = {
      stdin: options.stdin ?? new Uint8Array(0),
      write: options.write ?? ((fd, data) => writeSync(fd, data)),
    };
    this.stats = options.collectStats ? new TraceStats() : undefined;
    this.traceWriter = options.tracePath !== undefined ? createTraceOutput(options.tracePath, options.traceFormat ?? "seed", { inputPaths: [file] }) : undefined;
    this.linux = new LinuxSyscalls(this.space, program.breakStart, io, {
      strictSyscalls: options.strictSyscalls,
      onUnknownSyscall: options.onUnknownSyscall,
      fileSystem: options.fileSystem,
      executablePath: options.executablePath ?? resolve(file),
    });
    this.syscallHooks = new SyscallHooks(this.linux);
    this.hart = new Hart(this.memoryChain(), this.syscallHooks);
    this.hart.control = this.space.hooks;
    this.hart.pc = program.entry;
    this.hart.setRegister(2, program.stackPointer);
    this.translator = options.interpreter === true ? null : BlockTranslator.attach(this.hart, this.space.plainAccess, this.translatorMode());
    const translator = this.translator;
    // Code the system calls (or a debugger) write, map, unmap or protect is translated anew.
    if (translator !== null) this.space.onContentChange((firstPage, endPage) => translator.dropPages(firstPage, endPage));
    // The first hook, or the last one's removal, changes the space's access: the hart follows.
    this.space.hooks.onChange(() => {
      this.hart.setMemory(this.memoryChain());
      translator?.setMode(this.translatorMode());
    });
  }

  /** Runs until the guest exits, a limit passes or a hook stops it; the trace and files stay open for the next run. */
  run(limits: RunLimits = {}): StopReason {
    if (this.closed) throw new Error("this guest session is closed");
    try {
      return this.hart.run(limits.maxInstructions, limits.timeoutMs);
    } catch (error) {
      this.abandon();
      throw error;
    }
  }

  /** Runs one instruction (or stops before it, if a hook says so). */
  step(): StopReason {
    return this.run({ maxInstructions: 1 });
  }

  /** Runs until the next instruction is at `pc` (or the run ends otherwise). */
  runUntil(pc: Address, limits: RunLimits = {}): StopReason {
    const breakpoint = this.addBreakpoint(pc);
    try {
      return this.run(limits);
    } finally {
      breakpoint.remove();
    }
  }

  /** A breakpoint: runs stop before the instruction at `pc` (a run that starts there runs it). */
  addBreakpoint(pc: Address): MemoryHook {
    const at = toBigAddress(pc);
    return this.space.addHook("fetch", at, 1, (event) => (event.address === at ? "stop" : undefined));
  }

  /** Calls `hook` before each instruction that starts in `lengthBytes` at `address`. */
  addCodeHook(address: Address, lengthBytes: number | bigint, hook: CodeHook): MemoryHook {
    const start = toBigAddress(address);
    const end = start + BigInt(lengthBytes);
    return this.space.addHook("fetch", start, lengthBytes, (event) => {
      if (event.address < start || event.address >= end) return undefined;
      return hook(codeEvent(event));
    });
  }

  /**
   * Calls `hook` before the first instruction of each basic block: the run's first, and any
   * that does not follow the one before it in memory (a taken branch or jump, a return, a
   * trap's return).
   */
  addBlockHook(hook: CodeHook): MemoryHook {
    let expected = -1n;
    return this.space.addHook("fetch", 0n, 1n << 64n, (event) => {
      const next = event.address + BigInt(event.widthBytes);
      const starts = event.address !== expected;
      expected = next;
      if (!starts) return undefined;
      const verdict = hook(codeEvent(event));
      // Stopped before it: the resumed run fetches it again, as a block's first instruction.
      if (verdict === "stop") expected = -1n;
      return verdict;
    });
  }

  /** Calls `hook` at each system call, before it runs: it may observe it or replace it (SyscallHook). Returns a function that removes it. */
  onSyscall(hook: SyscallHook): () => void {
    return this.syscallHooks.add(hook);
  }

  /** Closes the guest's files and finishes the trace (a session that ends, by exit or not). */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.linux.close();
    this.traceWriter?.close();
  }

  /** Closes the guest's files and deletes the trace: a run that failed leaves no trace behind (a partial one would pass for a whole run). */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    this.linux.close();
    this.traceWriter?.discard();
  }

  /**
   * How translated code fetches: through the memory when anything but a trace recorder
   * watches it (hooks, devices, statistics, an observer); a recorder alone gets its fetch
   * records written by the translated code.
   */
  private translatorMode(): TranslatorMode {
    const memory = this.hart.memory;
    if (memory === this.space.plainAccess) return { observed: false };
    if (memory instanceof TraceRecorder && memory.inner === this.space.plainAccess) return { observed: false, fetchTrace: memory.writer };
    return { observed: true };
  }

  /** The hart's memory: the space's access, then the statistics, the observer and the trace recorder. */
  private memoryChain(): MemoryAccess {
    let memory: MemoryAccess = this.space.access;
    if (this.stats) memory = new TeeAccess(memory, this.stats);
    if (this.options.observer) memory = new TeeAccess(memory, this.options.observer);
    if (this.traceWriter) memory = new TraceRecorder(memory, this.traceWriter);
    return memory;
  }
}
