/**
 * The hot path of a space with hooks or MMIO regions: each access goes to the MMIO device
 * whose region holds it, else to memory, and then to the hooks whose range it overlaps (by
 * any byte), in the order they were added. Hooks see an access once it has happened: a load
 * with the value loaded, a store with the value stored, a fetch with the instruction's bits;
 * an access that faults is not seen. MMIO regions serve loads and stores only: a fetch there
 * reads memory.
 */
import { formatBigAddress, TWO_POW_32 } from "./address.js";
import type { MemoryBackend } from "./backend.js";
import { HookKindBit, HookStop, type HookEntry, type HookKind, type MemoryEvent, type MemoryHooks, type MmioEntry } from "./memory-hooks.js";
import { MemoryFault, type AccessKind } from "./protection.js";
import { WrappingBackend } from "./wrapping-backend.js";

/** Whether (aLo, aHi) <= (bLo, bHi), unsigned. */
function notAbove(aLo: number, aHi: number, bLo: number, bHi: number): boolean {
  return aHi >>> 0 < bHi >>> 0 || (aHi === bHi && aLo >>> 0 <= bLo >>> 0);
}

function bigAddress(lo: number, hi: number): bigint {
  return BigInt(hi >>> 0) * BigInt(TWO_POW_32) + BigInt(lo >>> 0);
}

function kindName(kindBit: number): HookKind {
  return kindBit === HookKindBit.Read ? "read" : kindBit === HookKindBit.Write ? "write" : "fetch";
}

/** Routes accesses through a space's hooks and MMIO regions (see the file comment). */
export class HookedAccess extends WrappingBackend implements MemoryBackend {
  /** `inner`: where accesses outside MMIO regions go (the backend, or its strict-mode guard). */
  constructor(
    inner: MemoryBackend,
    private readonly registry: MemoryHooks,
  ) {
    super(inner);
  }

  load8(lo: number, hi: number): number {
    if (this.registry.mmio.length !== 0) {
      const region = this.mmioAt(lo, hi, 1, "read");
      if (region !== null) return this.afterLoad(lo, hi, 1, this.mmioRead(region, lo, hi, 1));
    }
    return this.afterLoad(lo, hi, 1, this.inner.load8(lo, hi));
  }
  load16(lo: number, hi: number): number {
    if (this.registry.mmio.length !== 0) {
      const region = this.mmioAt(lo, hi, 2, "read");
      if (region !== null) return this.afterLoad(lo, hi, 2, this.mmioRead(region, lo, hi, 2));
    }
    return this.afterLoad(lo, hi, 2, this.inner.load16(lo, hi));
  }
  load32(lo: number, hi: number): number {
    if (this.registry.mmio.length !== 0) {
      const region = this.mmioAt(lo, hi, 4, "read");
      if (region !== null) return this.afterLoad(lo, hi, 4, this.mmioRead(region, lo, hi, 4));
    }
    return this.afterLoad(lo, hi, 4, this.inner.load32(lo, hi));
  }
  load64(lo: number, hi: number): number {
    const region = this.registry.mmio.length !== 0 ? this.mmioAt(lo, hi, 8, "read") : null;
    let valueLo: number;
    if (region !== null) {
      valueLo = this.mmioRead(region, lo, hi, 8);
    } else {
      valueLo = this.inner.load64(lo, hi);
      this.loadHigh = this.inner.loadHigh;
    }
    if ((this.registry.kindBits & HookKindBit.Read) !== 0) this.stopAfter(this.fire(HookKindBit.Read, lo, hi, 8, valueLo, this.loadHigh));
    return valueLo;
  }

  store8(lo: number, hi: number, value: number): void {
    if (this.registry.mmio.length === 0 || !this.mmioWrite(lo, hi, 1, value, 0)) this.inner.store8(lo, hi, value);
    this.afterStore(lo, hi, 1, value & 0xff, 0);
  }
  store16(lo: number, hi: number, value: number): void {
    if (this.registry.mmio.length === 0 || !this.mmioWrite(lo, hi, 2, value, 0)) this.inner.store16(lo, hi, value);
    this.afterStore(lo, hi, 2, value & 0xffff, 0);
  }
  store32(lo: number, hi: number, value: number): void {
    if (this.registry.mmio.length === 0 || !this.mmioWrite(lo, hi, 4, value, 0)) this.inner.store32(lo, hi, value);
    this.afterStore(lo, hi, 4, value, 0);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    if (this.registry.mmio.length === 0 || !this.mmioWrite(lo, hi, 8, valueLo, valueHi)) this.inner.store64(lo, hi, valueLo, valueHi);
    this.afterStore(lo, hi, 8, valueLo, valueHi);
  }

  /**
   * A fetch: first the stop a read or write hook asked for during the previous instruction
   * (thrown here, between instructions, as a HookStop), then the fetch and its hooks.
   */
  fetchInstruction(lo: number, hi: number): number {
    const registry = this.registry;
    if (registry.pendingStop !== null) throw registry.takePendingStop()!;
    const raw = this.inner.fetchInstruction(lo, hi);
    const skipStop = registry.skipNextFetchStop;
    registry.skipNextFetchStop = false;
    if ((registry.kindBits & HookKindBit.Fetch) !== 0) {
      const stop = this.fire(HookKindBit.Fetch, lo, hi, (raw & 3) === 3 ? 4 : 2, raw, 0);
      // The fetch is undone: the instruction has not run.
      if (stop !== null && !skipStop) throw stop;
    }
    return raw;
  }

  /** A fork of the memory (a snapshot has no hooks). */
  fork(): MemoryBackend {
    return this.inner.fork();
  }

  private afterLoad(lo: number, hi: number, widthBytes: number, value: number): number {
    if ((this.registry.kindBits & HookKindBit.Read) !== 0) this.stopAfter(this.fire(HookKindBit.Read, lo, hi, widthBytes, value, 0));
    return value;
  }

  private afterStore(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): void {
    if ((this.registry.kindBits & HookKindBit.Write) !== 0) this.stopAfter(this.fire(HookKindBit.Write, lo, hi, widthBytes, valueLo, valueHi));
  }

  /** A read or write hook's stop ends the run after this instruction: it waits for the next fetch (the first one asked for stands). */
  private stopAfter(stop: HookStop | null): void {
    if (stop !== null && this.registry.pendingStop === null) this.registry.pendingStop = stop;
  }

  /** Calls the hooks of `kindBit` whose range the access overlaps; the first "stop" one asked for, or null. */
  private fire(kindBit: number, lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): HookStop | null {
    const hooks = this.registry.hooks;
    const lastLo = (lo + widthBytes - 1) | 0;
    const lastHi = lastLo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
    let event: MemoryEvent | null = null;
    let stop: HookStop | null = null;
    for (let i = 0; i < hooks.length; i++) {
      const hook: HookEntry = hooks[i];
      if ((hook.kindBits & kindBit) === 0 || hook.removed) continue;
      if (!notAbove(hook.startLo, hook.startHi, lastLo, lastHi) || !notAbove(lo, hi, hook.lastLo, hook.lastHi)) continue;
      event ??= {
        kind: kindName(kindBit),
        address: bigAddress(lo, hi),
        widthBytes,
        value: BigInt.asUintN(8 * widthBytes, (BigInt(valueHi >>> 0) << 32n) | BigInt(valueLo >>> 0)),
      };
      if (hook.callback(event) === "stop" && stop === null) stop = new HookStop(hook, event);
    }
    return stop;
  }

  /**
   * The MMIO region that holds the access whole, or null if none overlaps it; an access
   * partly inside a region faults (a device is never half read).
   */
  private mmioAt(lo: number, hi: number, widthBytes: number, access: AccessKind): MmioEntry | null {
    const lastLo = (lo + widthBytes - 1) | 0;
    const lastHi = lastLo >>> 0 < lo >>> 0 ? (hi + 1) | 0 : hi;
    for (const region of this.registry.mmio) {
      if (!notAbove(region.startLo, region.startHi, lastLo, lastHi) || !notAbove(lo, hi, region.lastLo, region.lastHi)) continue;
      if (notAbove(region.startLo, region.startHi, lo, hi) && notAbove(lastLo, lastHi, region.lastLo, region.lastHi)) return region;
      throw new MemoryFault(bigAddress(lo, hi), widthBytes, access, "device");
    }
    return null;
  }

  /** A device load: its low 32 bits returned, the high ones in loadHigh. */
  private mmioRead(region: MmioEntry, lo: number, hi: number, widthBytes: number): number {
    const offset = Number(bigAddress(lo, hi) - region.start);
    const raw = region.device.read(offset, widthBytes);
    if (typeof raw !== "number" && typeof raw !== "bigint") throw new TypeError(`MMIO device at ${formatBigAddress(region.start)}: read returned ${typeof raw}, not a number or bigint`);
    const bits = BigInt.asUintN(8 * widthBytes, typeof raw === "bigint" ? raw : BigInt(Math.trunc(raw)));
    this.loadHigh = Number(bits >> 32n);
    return Number(bits & 0xffffffffn);
  }

  /** A store to a device, if one's region holds the access; false to store to memory. */
  private mmioWrite(lo: number, hi: number, widthBytes: number, valueLo: number, valueHi: number): boolean {
    const region = this.mmioAt(lo, hi, widthBytes, "write");
    if (region === null) return false;
    const value = BigInt.asUintN(8 * widthBytes, (BigInt(valueHi >>> 0) << 32n) | BigInt(valueLo >>> 0));
    region.device.write(Number(bigAddress(lo, hi) - region.start), widthBytes, value);
    return true;
  }
}
