import type { Hart } from "../hart.js";
import { EINVAL } from "./errno.js";
import type { GuestMemory } from "./guest-memory.js";

const TIMESPEC_BYTES = 16;
const NANOS_PER_SECOND = 1_000_000_000n;
const NANOS_PER_MICRO = 1000n;
/** CLOCK_REALTIME .. CLOCK_TAI: the clock ids Linux knows (all read the one guest clock here). */
const MAX_CLOCK_ID = 11n;
const TIMER_ABSTIME = 1n;

/**
 * The guest's clocks, every one of them: one nanosecond per instruction, plus the time the
 * guest slept (a sleep returns at once and moves the clock on). Runs stay deterministic.
 */
export class GuestClock {
  private sleptNs = 0n;

  constructor(private readonly memory: GuestMemory) {}

  nowNs(hart: Hart): bigint {
    return BigInt(hart.instructions) + this.sleptNs;
  }

  clockGettime(hart: Hart, clockId: bigint, buffer: bigint): bigint {
    if (!validClock(clockId)) return -EINVAL;
    return this.writeTime(buffer, this.nowNs(hart), 1n);
  }

  /** A null buffer asks only whether the clock exists. */
  clockGetres(clockId: bigint, buffer: bigint): bigint {
    if (!validClock(clockId)) return -EINVAL;
    return buffer === 0n ? 0n : this.writeTime(buffer, 1n, 1n);
  }

  /** A null timeval is allowed (only the timezone is asked for). */
  gettimeofday(hart: Hart, buffer: bigint): bigint {
    return buffer === 0n ? 0n : this.writeTime(buffer, this.nowNs(hart), NANOS_PER_MICRO);
  }

  nanosleep(hart: Hart, request: bigint): bigint {
    return this.sleep(hart, request, false);
  }

  clockNanosleep(hart: Hart, clockId: bigint, flags: bigint, request: bigint): bigint {
    if (!validClock(clockId)) return -EINVAL;
    return this.sleep(hart, request, (flags & TIMER_ABSTIME) !== 0n);
  }

  /** Never interrupted, so the remaining time is never written. */
  private sleep(hart: Hart, request: bigint, absolute: boolean): bigint {
    const time = this.memory.copyIn(request, TIMESPEC_BYTES);
    if (typeof time === "bigint") return time;
    const seconds = time.getBigInt64(0, true);
    const nanoseconds = time.getBigInt64(8, true);
    if (seconds < 0n || nanoseconds < 0n || nanoseconds >= NANOS_PER_SECOND) return -EINVAL;
    const requestedNs = seconds * NANOS_PER_SECOND + nanoseconds;
    const now = this.nowNs(hart);
    const waitNs = absolute ? requestedNs - now : requestedNs;
    if (waitNs > 0n) this.sleptNs += waitNs;
    return 0n;
  }

  private writeTime(buffer: bigint, nanoseconds: bigint, fractionDivisor: bigint): bigint {
    const time = new Uint8Array(TIMESPEC_BYTES);
    const view = new DataView(time.buffer);
    view.setBigUint64(0, nanoseconds / NANOS_PER_SECOND, true);
    view.setBigUint64(8, (nanoseconds % NANOS_PER_SECOND) / fractionDivisor, true);
    return this.memory.copyOut(buffer, time);
  }
}

function validClock(clockId: bigint): boolean {
  const id = BigInt.asIntN(32, clockId);
  return id >= 0n && id <= MAX_CLOCK_ID;
}
