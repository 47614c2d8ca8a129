import { EAGAIN, EINVAL, ENOMEM, ENOSYS, EPERM, ETIMEDOUT } from "./errno.js";
import type { GuestMemory } from "./guest-memory.js";
import { GuestError, type Hart } from "../hart.js";

const SIGSET_BYTES = 8n;
const SIGNAL_COUNT = 64n;
const SIGKILL = 9n;
const SIGSTOP = 19n;
/** The kernel's struct sigaction on RISC-V: handler, flags, mask (no restorer). */
const SIGACTION_BYTES = 24;
const SIG_BLOCK = 0n;
const SIG_UNBLOCK = 1n;
const SIG_SETMASK = 2n;
/** SIGKILL and SIGSTOP cannot be blocked. */
const UNBLOCKABLE = (1n << (SIGKILL - 1n)) | (1n << (SIGSTOP - 1n));
/** stack_t: ss_sp, ss_flags (int, padded), ss_size. */
const STACK_T_BYTES = 24;
const SS_DISABLE = 2;
const SS_ONSTACK = 1;
/** RISC-V's MINSIGSTKSZ. */
const MIN_SIGNAL_STACK_BYTES = 2048n;
const FUTEX_WAIT = 0n;
const FUTEX_WAKE = 1n;
const FUTEX_WAIT_BITSET = 9n;
const FUTEX_WAKE_BITSET = 10n;
/** FUTEX_PRIVATE_FLAG | FUTEX_CLOCK_REALTIME: they do not change what a futex does here. */
const FUTEX_COMMAND_MASK = 0x7fn;
const ROBUST_LIST_HEAD_BYTES = 24n;

/**
 * Signal state, recorded and reported back but never delivered (nothing here raises one),
 * and the thread calls a single-threaded program makes: futex, set_tid_address, set_robust_list.
 */
export class Signals {
  private readonly actions = new Map<bigint, Uint8Array>();
  private blocked = 0n;
  private alternateStack: Uint8Array = new Uint8Array(STACK_T_BYTES);

  constructor(private readonly memory: GuestMemory) {
    new DataView(this.alternateStack.buffer).setInt32(8, SS_DISABLE, true);
  }

  rtSigaction(signal: bigint, action: bigint, oldAction: bigint, setBytes: bigint): bigint {
    if (setBytes !== SIGSET_BYTES) return -EINVAL;
    if (signal < 1n || signal > SIGNAL_COUNT || (action !== 0n && (signal === SIGKILL || signal === SIGSTOP))) return -EINVAL;
    let next: Uint8Array | undefined;
    if (action !== 0n) {
      const view = this.memory.copyIn(action, SIGACTION_BYTES);
      if (typeof view === "bigint") return view;
      next = new Uint8Array(view.buffer, view.byteOffset, SIGACTION_BYTES).slice();
    }
    if (oldAction !== 0n) {
      const copied = this.memory.copyOut(oldAction, this.actions.get(signal) ?? new Uint8Array(SIGACTION_BYTES));
      if (copied < 0n) return copied;
    }
    if (next !== undefined) this.actions.set(signal, next);
    return 0n;
  }

  rtSigprocmask(how: bigint, set: bigint, oldSet: bigint, setBytes: bigint): bigint {
    if (setBytes !== SIGSET_BYTES) return -EINVAL;
    let next = this.blocked;
    if (set !== 0n) {
      const view = this.memory.copyIn(set, Number(SIGSET_BYTES));
      if (typeof view === "bigint") return view;
      const mask = view.getBigUint64(0, true);
      if (how === SIG_BLOCK) next = this.blocked | mask;
      else if (how === SIG_UNBLOCK) next = this.blocked & ~mask;
      else if (how === SIG_SETMASK) next = mask;
      else return -EINVAL;
    }
    if (oldSet !== 0n) {
      const bytes = new Uint8Array(Number(SIGSET_BYTES));
      new DataView(bytes.buffer).setBigUint64(0, this.blocked, true);
      const copied = this.memory.copyOut(oldSet, bytes);
      if (copied < 0n) return copied;
    }
    this.blocked = next & ~UNBLOCKABLE;
    return 0n;
  }

  sigaltstack(stack: bigint, oldStack: bigint): bigint {
    let next: Uint8Array | undefined;
    if (stack !== 0n) {
      const view = this.memory.copyIn(stack, STACK_T_BYTES);
      if (typeof view === "bigint") return view;
      const flags = view.getInt32(8, true);
      if ((flags & ~(SS_DISABLE | SS_ONSTACK)) !== 0) return -EINVAL;
      if ((flags & SS_DISABLE) === 0 && view.getBigUint64(16, true) < MIN_SIGNAL_STACK_BYTES) return -ENOMEM;
      next = new Uint8Array(view.buffer, view.byteOffset, STACK_T_BYTES).slice();
    }
    if (oldStack !== 0n) {
      const copied = this.memory.copyOut(oldStack, this.alternateStack);
      if (copied < 0n) return copied;
    }
    if (next !== undefined) this.alternateStack = next;
    return 0n;
  }

  /**
   * One thread: a wake wakes nobody; a wait on a changed word is EAGAIN; a wait that would
   * sleep for ever (no other thread can wake it) is a deadlock, reported as a GuestError.
   */
  futex(hart: Hart, address: bigint, operation: bigint, value: bigint, timeout: bigint): bigint {
    const command = operation & FUTEX_COMMAND_MASK;
    if (command === FUTEX_WAKE || command === FUTEX_WAKE_BITSET) return 0n;
    if (command !== FUTEX_WAIT && command !== FUTEX_WAIT_BITSET) return -ENOSYS;
    const word = this.memory.copyIn(address, 4);
    if (typeof word === "bigint") return word;
    if (word.getUint32(0, true) !== Number(value & 0xffffffffn)) return -EAGAIN;
    if (timeout !== 0n) return -ETIMEDOUT;
    throw new GuestError("futex wait with no other thread to wake it (deadlock)", hart.pc);
  }

  setRobustList(headBytes: bigint): bigint {
    return headBytes === ROBUST_LIST_HEAD_BYTES ? 0n : -EINVAL;
  }

  /** kill and tgkill: a signal to itself would need delivery, which this emulator does not do. */
  refuseSignal(): bigint {
    return -EPERM;
  }
}

