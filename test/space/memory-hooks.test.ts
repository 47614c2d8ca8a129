import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { MAX_ADDRESS } from "../../src/space/address.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { BackendKind } from "../../src/space/backend.js";
import { HookStop, type HookKind, type MemoryEvent } from "../../src/space/memory-hooks.js";
import { MemoryFault } from "../../src/space/protection.js";
import { highOf, lowOf } from "../helpers.js";

const TOP = MAX_ADDRESS + 1n;
/** Windows the accesses and hook ranges fall in: a page edge, the 2^32 edge, the top of the space. */
const WINDOWS = [0x1ff0n, 0xffff_fff0n, TOP - 0x20n];
const WINDOW_BYTES = 0x20;

type Step =
  | { kind: "load" | "store" | "fetch"; window: number; offset: number; width: number; value: bigint }
  | { kind: "add"; window: number; offset: number; length: number; kinds: HookKind[]; stopAfter: number }
  | { kind: "remove"; pick: number };

const kindsArb = fc.subarray<HookKind>(["read", "write", "fetch"], { minLength: 1 });
const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom("load" as const, "store" as const, "fetch" as const), window: fc.nat({ max: WINDOWS.length - 1 }), offset: fc.nat({ max: WINDOW_BYTES - 8 }), width: fc.constantFrom(1, 2, 4, 8), value: fc.bigInt({ min: 0n, max: MAX_ADDRESS }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("add" as const), window: fc.nat({ max: WINDOWS.length - 1 }), offset: fc.nat({ max: WINDOW_BYTES - 1 }), length: fc.integer({ min: 1, max: 12 }), kinds: kindsArb, stopAfter: fc.integer({ min: 0, max: 5 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("remove" as const), pick: fc.nat() }) },
);

/** What the model says a hook saw. */
interface Seen {
  hook: number;
  kind: HookKind;
  address: bigint;
  widthBytes: number;
  value: bigint;
}

function modelLoad(bytes: Map<bigint, number>, address: bigint, width: number): bigint {
  let value = 0n;
  for (let k = width - 1; k >= 0; k--) value = (value << 8n) | BigInt(bytes.get(address + BigInt(k)) ?? 0);
  return value;
}

describe("memory hooks against a model", () => {
  for (const backend of ["map", "paged"] as BackendKind[]) {
    it(`see exactly the accesses the model makes, in order, with their values; hooks come and go (${backend}, fast-check)`, () => {
      fc.assert(
        fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => {
          const space = new AddressSpace({ backend });
          const access = () => space.access;
          const bytes = new Map<bigint, number>();
          const live: Array<{ id: number; first: bigint; last: bigint; kinds: HookKind[]; remove: () => void }> = [];
          const seen: Seen[] = [];
          const expected: Seen[] = [];
          let nextId = 0;
          for (const step of steps) {
            if (step.kind === "add") {
              const id = nextId++;
              const first = WINDOWS[step.window] + BigInt(step.offset);
              const last = first + BigInt(step.length) - 1n;
              if (last > MAX_ADDRESS) continue;
              const handle = space.addHook(step.kinds, first, step.length, (event: MemoryEvent) => {
                seen.push({ hook: id, kind: event.kind, address: event.address, widthBytes: event.widthBytes, value: event.value });
              });
              live.push({ id, first, last, kinds: step.kinds, remove: () => handle.remove() });
              continue;
            }
            if (step.kind === "remove") {
              if (live.length === 0) continue;
              const [gone] = live.splice(step.pick % live.length, 1);
              gone.remove();
              continue;
            }
            const address = WINDOWS[step.window] + BigInt(step.offset);
            const lo = lowOf(address);
            const hi = highOf(address);
            let width = step.width;
            let value: bigint;
            if (step.kind === "store") {
              value = BigInt.asUintN(8 * width, step.value);
              const valueLo = Number(value & 0xffffffffn);
              if (width === 1) access().store8(lo, hi, valueLo);
              else if (width === 2) access().store16(lo, hi, valueLo);
              else if (width === 4) access().store32(lo, hi, valueLo);
              else access().store64(lo, hi, valueLo, Number(value >> 32n));
              for (let k = 0; k < width; k++) bytes.set(address + BigInt(k), Number((value >> BigInt(8 * k)) & 0xffn));
            } else if (step.kind === "load") {
              const low = width === 1 ? access().load8(lo, hi) : width === 2 ? access().load16(lo, hi) : width === 4 ? access().load32(lo, hi) : access().load64(lo, hi);
              value = modelLoad(bytes, address, width);
              const got = width === 8 ? (BigInt(access().loadHigh) << 32n) | BigInt(low >>> 0) : BigInt(low >>> 0);
              assert.equal(got, value, "the load's value");
            } else {
              const raw = access().fetchInstruction(lo, hi);
              width = (raw & 3) === 3 ? 4 : 2;
              value = modelLoad(bytes, address, width);
              assert.equal(BigInt(raw >>> 0), value, "the fetch's bits");
            }
            const kind: HookKind = step.kind === "store" ? "write" : step.kind === "load" ? "read" : "fetch";
            const last = address + BigInt(width) - 1n;
            for (const hook of live) {
              if (hook.kinds.includes(kind) && hook.first <= last && address <= hook.last) expected.push({ hook: hook.id, kind, address, widthBytes: width, value });
            }
          }
          assert.deepEqual(seen, expected);
          for (const hook of live) hook.remove();
          assert.equal(space.hooks.active, false, "the last hook removed, the space runs without them");
        }),
        { numRuns: 150 },
      );
    });
  }

  it("leaves the space's access as it was while no hook exists, and routes through hooks while one does", () => {
    const space = new AddressSpace();
    const plain = space.access;
    const hook = space.addHook("read", 0x1000, 8, () => undefined);
    assert.notEqual(space.access, plain);
    hook.remove();
    hook.remove(); // twice is harmless
    assert.equal(space.access, plain);
  });

  it("calls hooks in the order they were added; one removed or added from a callback takes effect from the next access", () => {
    const space = new AddressSpace();
    const calls: string[] = [];
    let late: ReturnType<AddressSpace["addHook"]> | null = null;
    const first = space.addHook("write", 0x100, 4, () => {
      calls.push("first");
      if (calls.filter((c) => c === "first").length === 2) first.remove();
      late ??= space.addHook("write", 0x100, 4, () => void calls.push("late"));
    });
    space.addHook(["read", "write"], 0x102, 1, () => void calls.push("second"));
    for (let i = 0; i < 3; i++) space.store32(0x100, i);
    assert.deepEqual(calls, ["first", "second", "first", "second", "late", "second", "late"]);
    space.load8(0x103);
    assert.deepEqual(calls.slice(7), [], "a read of 0x103 is outside the read hook's byte");
    space.load16(0x101);
    assert.deepEqual(calls.slice(7), ["second"], "a 2-byte read at 0x101 overlaps 0x102");
  });

  it("refuses bad hooks with clear errors", () => {
    const space = new AddressSpace();
    assert.throws(() => space.addHook("exec" as HookKind, 0, 1, () => undefined), /hook kind "exec": expected read, write or fetch/);
    assert.throws(() => space.addHook([], 0, 1, () => undefined), /at least one kind/);
    assert.throws(() => space.addHook("read", 0, 0, () => undefined), /length 0 must be positive/);
    assert.throws(() => space.addHook("read", MAX_ADDRESS, 2, () => undefined), /past|2\^64|top/);
    assert.throws(() => space.addHook("read", 0, 1, 5 as never), /callback/);
  });
});

describe("stops", () => {
  it("a read or write hook's stop waits for the next fetch; a fetch hook's stops that fetch, and is skipped once on resume", () => {
    const space = new AddressSpace();
    const access = space.access;
    void access;
    space.watch("write", 0x2000, 8);
    space.store32(0x2004, 7);
    assert.ok(space.hooks.pendingStop instanceof HookStop);
    assert.equal(space.hooks.pendingStop!.event.address, 0x2004n);
    assert.throws(() => space.access.fetchInstruction(0x1000, 0), (error: unknown) => error instanceof HookStop && error.event.kind === "write" && error.event.value === 7n);
    assert.equal(space.hooks.pendingStop, null);
    space.store16(0x1000, 0x4501); // c.li a0, 0
    const breakpoint = space.addHook("fetch", 0x1000, 1, () => "stop");
    assert.throws(() => space.access.fetchInstruction(0x1000, 0), (error: unknown) => error instanceof HookStop && error.hook === breakpoint && error.event.kind === "fetch");
    space.hooks.skipNextFetchStop = true;
    assert.equal(space.access.fetchInstruction(0x1000, 0), 0x4501, "a resumed run fetches past its own breakpoint");
    assert.throws(() => space.access.fetchInstruction(0x1000, 0), HookStop, "and stops there the next time");
  });
});

describe("MMIO regions", () => {
  it("serve loads and stores of every width from the device, across a page boundary inside the region; hooks see the device's values", () => {
    const space = new AddressSpace({ strict: true });
    const reads: Array<[number, number]> = [];
    const writes: Array<[number, number, bigint]> = [];
    space.mapMmio(0x10000, 0x2000, {
      read(offset, width) {
        reads.push([offset, width]);
        return width === 8 ? 0x1122334455667788n + BigInt(offset) : 0xa0 + offset + (width << 8) + 0x10000000 * width;
      },
      write(offset, width, value) {
        writes.push([offset, width, value]);
      },
    });
    const events: MemoryEvent[] = [];
    space.addHook(["read", "write"], 0x10000, 0x2000, (event) => void events.push(event));
    assert.equal(space.load8(0x10003), (0xa3 + 0x100 + 0x10000000) & 0xff);
    assert.equal(space.load16(0x10004), (0xa4 + 0x200 + 0x20000000) & 0xffff);
    assert.equal(space.load32(0x10ffe), (0xa0 + 0xffe + 0x400 + 0x40000000) >>> 0, "crosses into the region's second page: one device read");
    assert.equal(space.load64(0x10ffc), 0x1122334455667788n + 0xffcn);
    space.store64(0x10ffc, 0xfedcba9876543210n);
    space.store8(0x10001, 0x1ff & 0xff);
    assert.deepEqual(reads, [[3, 1], [4, 2], [0xffe, 4], [0xffc, 8]]);
    assert.deepEqual(writes, [[0xffc, 8, 0xfedcba9876543210n], [1, 1, 0xffn]]);
    assert.deepEqual(events.map((e) => [e.kind, e.address, e.value]), [
      ["read", 0x10003n, BigInt((0xa3 + 0x100 + 0x10000000) & 0xff)],
      ["read", 0x10004n, BigInt((0xa4 + 0x200 + 0x20000000) & 0xffff)],
      ["read", 0x10ffen, BigInt((0xa0 + 0xffe + 0x400 + 0x40000000) >>> 0)],
      ["read", 0x10ffcn, 0x1122334455667788n + 0xffcn],
      ["write", 0x10ffcn, 0xfedcba9876543210n],
      ["write", 0x10001n, 0xffn],
    ]);
    assert.deepEqual([...space.read(0x10ffc, 8)], [0, 0, 0, 0, 0, 0, 0, 0], "bulk reads see memory, not the device");
  });

  it("faults an access partly inside a region, and goes whole with an unmap of any of its pages", () => {
    const space = new AddressSpace({ strict: true });
    space.map(0x0, 0x10000, "rw-");
    let reads = 0;
    space.mapMmio(0x10000, 0x2000, { read: () => ++reads, write: () => undefined });
    assert.throws(() => space.load32(0xfffe), (error: unknown) => error instanceof MemoryFault && error.reason === "device" && error.address === 0xfffen && /partly inside an MMIO region/.test(error.message));
    assert.throws(() => space.store64(0x11ffc, 1n), (error: unknown) => error instanceof MemoryFault && (error.reason === "device" || error.reason === "unmapped"));
    assert.equal(reads, 0);
    assert.throws(() => space.mapMmio(0x11000, 0x1000, { read: () => 0, write: () => undefined }), /overlap/);
    space.unmap(0x11000, 0x1000);
    assert.equal(space.isMapped(0x10000, 0x1000), false, "the region's other page went too");
    assert.equal(space.hooks.active, false);
    assert.throws(() => space.load8(0x10000), MemoryFault);
    assert.throws(() => space.mapMmio(0x20000, 0x1000, { read: 5 } as never), /read and write functions/);
  });
});

describe("the fault handler (strict mode)", () => {
  it("may map the page and retry, re-protect and retry, or let the fault stand; a handler that fixes nothing stops after 8 tries", () => {
    const space = new AddressSpace({ strict: true });
    const faults: string[] = [];
    space.onFault((fault) => {
      faults.push(`${fault.access} ${fault.reason} 0x${fault.address.toString(16)}`);
      if (fault.address >= 0x5000n && fault.address < 0x6000n) {
        if (fault.reason === "unmapped") space.map(0x5000, 0x1000, "r--");
        else space.protect(0x5000, 0x1000, "rw-");
        return "retry";
      }
      if (fault.address >= 0x7000n) return "retry"; // fixes nothing
      return "fail";
    });
    assert.equal(space.load8(0x5008), 0, "mapped on demand");
    space.store32(0x5010, 0xabcd);
    assert.equal(space.load32(0x5010), 0xabcd, "re-protected on demand, then written");
    assert.throws(() => space.load8(0x9000 - 0x3000), (error: unknown) => error instanceof MemoryFault && error.reason === "unmapped");
    const before = faults.length;
    assert.throws(() => space.load8(0x7000), MemoryFault);
    assert.equal(faults.length - before, 8, "asked 8 times, then the fault stands");
    assert.deepEqual(faults.slice(0, 3), ["read unmapped 0x5008", "write protection 0x5010", "read unmapped 0x6000"]);
    space.onFault(null);
    assert.throws(() => space.load8(0x6000), MemoryFault);
    assert.throws(() => new AddressSpace().onFault(() => "retry"), /only a strict AddressSpace faults/);
  });
});
