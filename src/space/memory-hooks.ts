/**
 * Hooks on an AddressSpace's accesses (unicorn's model): callbacks on reads, writes and
 * instruction fetches over address ranges, MMIO regions served by callbacks, and the stop
 * requests they make. The registry is the space's; `HookedAccess` (hooked-access.ts) is the
 * hot-path wrapper that consults it, installed only while a hook or device exists, so a
 * space without hooks runs exactly as before.
 */
import { AddressError, formatBigAddress, highHalf, lowHalf, MAX_ADDRESS } from "./address.js";

/** What an access is, to a hook. */
export type HookKind = "read" | "write" | "fetch";

/** Bit flags of HookKind, for the hot path. */
export const enum HookKindBit {
  Read = 1,
  Write = 2,
  Fetch = 4,
}

/** One access, as a hook sees it. */
export interface MemoryEvent {
  readonly kind: HookKind;
  /** Its first byte. */
  readonly address: bigint;
  readonly widthBytes: number;
  /** Read: the value loaded; write: the value stored; fetch: the instruction's bits (2 or 4 bytes). */
  readonly value: bigint;
}

/**
 * A hook's answer: nothing to go on, or "stop". A read or write hook's stop ends the run
 * after the current instruction; a fetch hook's before the fetched instruction runs (the
 * run that resumes there fetches it again, and hooks see that fetch again).
 */
export type HookResult = void | "stop";

/** A hook callback. */
export type HookCallback = (event: MemoryEvent) => HookResult;

/** A hook, as `AddressSpace.addHook` returns it. */
export interface MemoryHook {
  /** The kinds of access it sees. */
  readonly kinds: readonly HookKind[];
  /** First byte of its range. */
  readonly start: bigint;
  /** Last byte of its range (inclusive, so a range can end at 2^64 - 1). */
  readonly last: bigint;
  /** Removes the hook; it sees no access after this (also when removed from inside a callback). */
  remove(): void;
}

/** A device behind an MMIO region: loads and stores there go to it, not to memory. */
export interface MmioDevice {
  /** The value of a load of `widthBytes` (1, 2, 4 or 8) at `offsetBytes` into the region; taken modulo 2^(8 * widthBytes). */
  read(offsetBytes: number, widthBytes: number): number | bigint;
  /** A store of `value` (`widthBytes` wide) at `offsetBytes` into the region. */
  write(offsetBytes: number, widthBytes: number, value: bigint): void;
}

/** The stop a hook asked for: which hook, and the access it saw. */
export class HookStop extends Error {
  /** `hook` returned "stop" for `event`. */
  constructor(
    readonly hook: MemoryHook,
    readonly event: MemoryEvent,
  ) {
    super(`stopped by a ${event.kind} hook at ${formatBigAddress(event.address)}`);
    this.name = "HookStop";
  }
}

/** The registry's entry for a hook: its range as int32 halves for the hot path. */
export class HookEntry implements MemoryHook {
  readonly startLo: number;
  readonly startHi: number;
  readonly lastLo: number;
  readonly lastHi: number;
  removed = false;

  constructor(
    readonly kindBits: number,
    readonly start: bigint,
    readonly last: bigint,
    readonly callback: HookCallback,
    private readonly registry: MemoryHooks,
  ) {
    this.startLo = lowHalf(start);
    this.startHi = highHalf(start);
    this.lastLo = lowHalf(last);
    this.lastHi = highHalf(last);
  }

  get kinds(): HookKind[] {
    return KIND_NAMES.filter((_, i) => (this.kindBits & (1 << i)) !== 0);
  }

  remove(): void {
    this.registry.removeHook(this);
  }
}

/** An MMIO region: its range as halves, and the device behind it. */
export class MmioEntry {
  readonly startLo: number;
  readonly startHi: number;
  readonly lastLo: number;
  readonly lastHi: number;

  constructor(
    readonly start: bigint,
    readonly sizeBytes: number,
    readonly device: MmioDevice,
  ) {
    const last = start + BigInt(sizeBytes) - 1n;
    this.startLo = lowHalf(start);
    this.startHi = highHalf(start);
    this.lastLo = lowHalf(last);
    this.lastHi = highHalf(last);
  }
}

const KIND_NAMES: readonly HookKind[] = ["read", "write", "fetch"];
/** MMIO regions are at most this large: an offset into one is a number. */
export const MAX_MMIO_BYTES = 2 ** 32;

/** The bits of `kinds`; throws a RangeError for an unknown kind or none. */
export function hookKindBits(kinds: HookKind | readonly HookKind[]): number {
  let bits = 0;
  for (const kind of typeof kinds === "string" ? [kinds] : kinds) {
    const index = KIND_NAMES.indexOf(kind);
    if (index < 0) throw new RangeError(`hook kind "${String(kind)}": expected read, write or fetch`);
    bits |= 1 << index;
  }
  if (bits === 0) throw new RangeError("a hook needs at least one kind: read, write or fetch");
  return bits;
}

/**
 * A space's hooks and MMIO regions, and the stop they asked for. Lists are replaced, never
 * changed in place, so a callback may add or remove hooks while an access walks the list.
 */
export class MemoryHooks {
  /** The hooks, in the order they were added (the order they are called in). */
  hooks: readonly HookEntry[] = [];
  /** The kinds some hook sees (HookKindBit): the hot path's first test. */
  kindBits = 0;
  mmio: readonly MmioEntry[] = [];
  /** A read or write hook's stop, to be taken at the next instruction fetch (or by the runner). */
  pendingStop: HookStop | null = null;
  /** The next fetch ignores a fetch hook's stop (a run resuming where one stopped it). */
  skipNextFetchStop = false;
  private readonly listeners: Array<() => void> = [];

  /** Whether any hook or MMIO region exists (the space then routes accesses through HookedAccess). */
  get active(): boolean {
    return this.hooks.length > 0 || this.mmio.length > 0;
  }

  /** Calls `listener` whenever `active` may have changed. */
  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  add(kinds: HookKind | readonly HookKind[], start: bigint, last: bigint, callback: HookCallback): MemoryHook {
    if (typeof callback !== "function") throw new TypeError("a hook needs a callback function");
    if (start < 0n || last > MAX_ADDRESS || last < start) throw new AddressError(`hook range ${formatBigAddress(start)}..${formatBigAddress(last)}: not a range of the 64-bit space`);
    const entry = new HookEntry(hookKindBits(kinds), start, last, callback, this);
    this.hooks = [...this.hooks, entry];
    this.changed();
    return entry;
  }

  removeHook(entry: HookEntry): void {
    if (entry.removed) return;
    entry.removed = true;
    this.hooks = this.hooks.filter((hook) => hook !== entry);
    this.changed();
  }

  addMmio(start: bigint, sizeBytes: number, device: MmioDevice): MmioEntry {
    if (typeof device?.read !== "function" || typeof device.write !== "function") throw new TypeError("an MMIO device needs read and write functions");
    if (!Number.isInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes > MAX_MMIO_BYTES) throw new RangeError(`MMIO region of ${sizeBytes} bytes: expected 1 to 2^32`);
    const entry = new MmioEntry(start, sizeBytes, device);
    const clash = this.mmio.find((other) => start <= other.start + BigInt(other.sizeBytes) - 1n && other.start <= start + BigInt(sizeBytes) - 1n);
    if (clash !== undefined) throw new AddressError(`MMIO region at ${formatBigAddress(start)} overlaps the one at ${formatBigAddress(clash.start)}`);
    this.mmio = [...this.mmio, entry];
    this.changed();
    return entry;
  }

  /** Removes the MMIO regions that overlap [first, last]; returns them. */
  removeMmio(first: bigint, last: bigint): MmioEntry[] {
    const removed = this.mmio.filter((entry) => entry.start <= last && entry.start + BigInt(entry.sizeBytes) - 1n >= first);
    if (removed.length > 0) {
      this.mmio = this.mmio.filter((entry) => !removed.includes(entry));
      this.changed();
    }
    return removed;
  }

  /** The pending stop, if any, now taken. */
  takePendingStop(): HookStop | null {
    const stop = this.pendingStop;
    this.pendingStop = null;
    return stop;
  }

  private changed(): void {
    let bits = 0;
    for (const hook of this.hooks) bits |= hook.kindBits;
    this.kindBits = bits;
    for (const listener of this.listeners) listener();
  }
}
