/**
 * Hooks on a guest's system calls: each sees the call (its number, a0-a5 and pc) before it
 * runs, and may let it run or replace it with a result of its own.
 */
import type { Hart, SyscallHandler } from "./hart.js";
import { IntegerRegister } from "./registers.js";

/** A system call's arguments: a0-a5. */
const ARGUMENT_COUNT = 6;

/** A system call, as a hook sees it. */
export interface SyscallEvent {
  /** The call's number (a7). */
  readonly number: number;
  /** a0-a5. */
  readonly args: readonly bigint[];
  /** The ecall's pc. */
  readonly pc: bigint;
}

/**
 * A system-call hook: nothing lets the call run (the next hook, then the emulator's own
 * handler); `{ result }` replaces it: a0 becomes `result` (modulo 2^64) and nothing else runs.
 */
export type SyscallHook = (event: SyscallEvent, hart: Hart) => void | { result: bigint };

/** A SyscallHandler that shows each call to its hooks first. */
export class SyscallHooks implements SyscallHandler {
  private hooks: readonly SyscallHook[] = [];

  constructor(private readonly inner: SyscallHandler) {}

  /** Adds `hook`; returns a function that removes it. */
  add(hook: SyscallHook): () => void {
    if (typeof hook !== "function") throw new TypeError("a system-call hook must be a function");
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((other) => other !== hook);
    };
  }

  handle(hart: Hart): boolean {
    const hooks = this.hooks;
    if (hooks.length === 0) return this.inner.handle(hart);
    const event: SyscallEvent = {
      number: Number(hart.register(IntegerRegister.A7)),
      args: Array.from({ length: ARGUMENT_COUNT }, (_, i) => hart.register(IntegerRegister.A0 + i)),
      pc: hart.pc,
    };
    for (const hook of hooks) {
      const verdict = hook(event, hart);
      if (verdict !== undefined && verdict !== null && typeof verdict === "object" && "result" in verdict) {
        hart.setRegister(IntegerRegister.A0, BigInt(verdict.result));
        return false;
      }
    }
    return this.inner.handle(hart);
  }
}
