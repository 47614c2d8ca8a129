import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AddressError, MAX_ADDRESS } from "../../src/space/address.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { BackendKind } from "../../src/space/backend.js";
import { MemoryFault } from "../../src/space/protection.js";
import { TeeAccess } from "../../src/space/tee-access.js";
import { lowOf, RecordingSink } from "../helpers.js";

const STATEFUL_BACKENDS: BackendKind[] = ["map", "paged"];
const TOP = MAX_ADDRESS + 1n;

/** Byte-level model: a Map from address to byte; absent bytes are 0. */
class ModelMemory {
  constructor(readonly bytes = new Map<bigint, number>()) {}
  get(address: bigint): number {
    return this.bytes.get(address) ?? 0;
  }
  set(address: bigint, byte: number): void {
    if (byte === 0) this.bytes.delete(address);
    else this.bytes.set(address, byte);
  }
  load(address: bigint, width: number): bigint {
    let value = 0n;
    for (let k = width - 1; k >= 0; k--) value = (value << 8n) | BigInt(this.get(address + BigInt(k)));
    return value;
  }
  store(address: bigint, width: number, value: bigint): void {
    for (let k = 0; k < width; k++) this.set(address + BigInt(k), Number((value >> BigInt(8 * k)) & 0xffn));
  }
  clone(): ModelMemory {
    return new ModelMemory(new Map(this.bytes));
  }
}

// Addresses cluster around the interesting places: page edges, the 2^32 edge of the low
// half, a high page number, and the top of the space.
const BASES = [0n, 0x1000n, 0x7ff8n, 0xfffff000n, 0x1_0000_0000n, 0xdead_beef_0000n, 0x7fff_ffff_ffff_f000n, TOP - 0x2000n];
const addressArb = fc
  .tuple(fc.constantFrom(...BASES), fc.integer({ min: 0, max: 0x2000 - 1 }))
  .map(([base, offset]) => base + BigInt(offset) - (base === 0n ? 0n : 0x10n))
  .map((address) => (address < 0n ? 0n : address));
const widthArb = fc.constantFrom(1, 2, 4, 8);

type Command =
  | { kind: "store"; target: number; address: bigint; width: number; value: bigint }
  | { kind: "load"; target: number; address: bigint; width: number }
  | { kind: "write"; target: number; address: bigint; bytes: number[] }
  | { kind: "read"; target: number; address: bigint; length: number }
  | { kind: "fill"; target: number; address: bigint; length: number; byte: number }
  | { kind: "copy"; target: number; to: bigint; from: bigint; length: number }
  | { kind: "snapshot"; target: number };

const targetArb = fc.nat({ max: 3 });
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  fc.record({ kind: fc.constant("store" as const), target: targetArb, address: addressArb, width: widthArb, value: fc.bigInt({ min: 0n, max: MAX_ADDRESS }) }),
  fc.record({ kind: fc.constant("load" as const), target: targetArb, address: addressArb, width: widthArb }),
  fc.record({ kind: fc.constant("write" as const), target: targetArb, address: addressArb, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 300 }) }),
  fc.record({ kind: fc.constant("read" as const), target: targetArb, address: addressArb, length: fc.nat({ max: 300 }) }),
  fc.record({ kind: fc.constant("fill" as const), target: targetArb, address: addressArb, length: fc.nat({ max: 9000 }), byte: fc.constantFrom(0, 0xab) }),
  fc.record({ kind: fc.constant("copy" as const), target: targetArb, to: addressArb, from: addressArb, length: fc.nat({ max: 5000 }) }),
  fc.record({ kind: fc.constant("snapshot" as const), target: targetArb }),
);

function fitsInSpace(address: bigint, length: number | bigint): boolean {
  return address + BigInt(length) <= TOP;
}

function loadFrom(space: AddressSpace, address: bigint, width: number): bigint {
  if (width === 8) return space.load64(address);
  const value = width === 1 ? space.load8(address) : width === 2 ? space.load16(address) : space.load32(address);
  return BigInt(value);
}

function storeTo(space: AddressSpace, address: bigint, width: number, value: bigint): void {
  const masked = BigInt.asUintN(8 * width, value);
  if (width === 8) space.store64(address, masked);
  else if (width === 1) space.store8(address, Number(masked));
  else if (width === 2) space.store16(address, Number(masked));
  else space.store32(address, Number(masked));
}

/** Applies one command to a (space, model) pair list; every observation must match. */
function apply(pairs: { space: AddressSpace; model: ModelMemory }[], command: Command): void {
  const { space, model } = pairs[command.target % pairs.length];
  switch (command.kind) {
    case "store": {
      if (!fitsInSpace(command.address, command.width)) {
        assert.throws(() => storeTo(space, command.address, command.width, command.value), AddressError);
        return;
      }
      storeTo(space, command.address, command.width, command.value);
      model.store(command.address, command.width, BigInt.asUintN(8 * command.width, command.value));
      return;
    }
    case "load": {
      if (!fitsInSpace(command.address, command.width)) {
        assert.throws(() => loadFrom(space, command.address, command.width), /runs past the top/);
        return;
      }
      assert.equal(loadFrom(space, command.address, command.width), model.load(command.address, command.width));
      return;
    }
    case "write": {
      if (!fitsInSpace(command.address, command.bytes.length)) {
        assert.throws(() => space.write(command.address, Uint8Array.from(command.bytes)), AddressError);
        return;
      }
      space.write(command.address, Uint8Array.from(command.bytes));
      command.bytes.forEach((byte, k) => model.set(command.address + BigInt(k), byte));
      return;
    }
    case "read": {
      if (!fitsInSpace(command.address, command.length)) {
        assert.throws(() => space.read(command.address, command.length), AddressError);
        return;
      }
      const expected = Array.from({ length: command.length }, (_, k) => model.get(command.address + BigInt(k)));
      assert.deepEqual(Array.from(space.read(command.address, command.length)), expected);
      return;
    }
    case "fill": {
      if (!fitsInSpace(command.address, command.length)) {
        assert.throws(() => space.fill(command.address, command.length, command.byte), AddressError);
        return;
      }
      space.fill(command.address, command.length, command.byte);
      for (let k = 0; k < command.length; k++) model.set(command.address + BigInt(k), command.byte);
      return;
    }
    case "copy": {
      if (!fitsInSpace(command.from, command.length) || !fitsInSpace(command.to, command.length)) {
        assert.throws(() => space.copy(command.to, command.from, command.length), AddressError);
        return;
      }
      space.copy(command.to, command.from, command.length);
      const source = Array.from({ length: command.length }, (_, k) => model.get(command.from + BigInt(k)));
      source.forEach((byte, k) => model.set(command.to + BigInt(k), byte));
      return;
    }
    case "snapshot": {
      if (pairs.length < 4) pairs.push({ space: space.snapshot(), model: model.clone() });
      return;
    }
  }
}

/** Every byte the model knows of, and the bytes beside them, read back equal. */
function checkAgainstModel(space: AddressSpace, model: ModelMemory): void {
  for (const [address, byte] of model.bytes) assert.equal(space.load8(address), byte, `byte at 0x${address.toString(16)}`);
}

describe("AddressSpace against a byte-map model", () => {
  for (const backend of STATEFUL_BACKENDS) {
    it(`${backend}: random loads, stores, bulk ops, copies and snapshots`, () => {
      fc.assert(
        fc.property(fc.array(commandArb, { minLength: 1, maxLength: 40 }), (commands) => {
          const pairs = [{ space: new AddressSpace({ backend }), model: new ModelMemory() }];
          for (const command of commands) apply(pairs, command);
          for (const { space, model } of pairs) checkAgainstModel(space, model);
        }),
        { numRuns: 150 },
      );
    });
  }
});

describe("AddressSpace loads and stores", () => {
  for (const backend of STATEFUL_BACKENDS) {
    it(`${backend}: little-endian at every width, aligned or not`, () => {
      const space = new AddressSpace({ backend });
      space.store64(0x1003n, 0x0102030405060708n);
      assert.deepEqual(Array.from(space.read(0x1003, 8)), [8, 7, 6, 5, 4, 3, 2, 1]);
      assert.equal(space.load8(0x1003), 0x08);
      assert.equal(space.load16(0x1004), 0x0607);
      assert.equal(space.load32(0x1005), 0x03040506);
      assert.equal(space.load64(0x1003), 0x0102030405060708n);
      space.store32(0x2000, 0xffffffff);
      assert.equal(space.load32(0x2000), 0xffffffff, "u32 loads are unsigned");
    });

    it(`${backend}: page-crossing and 2^32-crossing accesses`, () => {
      const space = new AddressSpace({ backend });
      space.store64(0xffd, 0x1122334455667788n);
      assert.equal(space.load64(0xffd), 0x1122334455667788n);
      assert.equal(space.load8(0x1000), 0x55);
      space.store32(0xfffffffe, 0xaabbccdd);
      assert.equal(space.load32(0xfffffffe), 0xaabbccdd);
      assert.equal(space.load16(0x1_0000_0000n), 0xaabb);
      space.store16(TOP - 2n, 0xbeef);
      assert.equal(space.load16(TOP - 2n), 0xbeef);
    });

    it(`${backend}: crossing accesses when the two pages' frames are not adjacent`, () => {
      const space = new AddressSpace({ backend });
      space.store8(0x3000, 0x11); // the later page gets its frame first
      space.store8(0x2000, 0x22);
      for (const width of [2, 4, 8] as const) {
        const address = BigInt(0x3000 - width / 2);
        storeTo(space, address, width, 0x8877665544332211n);
        assert.equal(loadFrom(space, address, width), BigInt.asUintN(8 * width, 0x8877665544332211n), `width ${width}`);
      }
      assert.equal(space.load8(0x2fff), 0x44);
      assert.equal(space.load8(0x3000), 0x55);
    });

    it(`${backend}: an access past 2^64 - 1 is an error naming the address`, () => {
      const space = new AddressSpace({ backend });
      assert.throws(() => space.load32(TOP - 2n), /4-byte access at 0xfffffffffffffffe runs past the top/);
      assert.throws(() => space.store64(TOP - 1n, 1n), /8-byte access at 0xffffffffffffffff/);
      assert.throws(() => space.read(TOP - 4n, 8), /runs past the top/);
    });

    it(`${backend}: untouched memory reads as zero, anywhere`, () => {
      const space = new AddressSpace({ backend });
      assert.equal(space.load64(0x1234_5678_9abc_def0n), 0n);
      assert.equal(space.load8(Number.MAX_SAFE_INTEGER), 0);
      assert.deepEqual(Array.from(space.read(TOP - 3n, 3)), [0, 0, 0]);
    });
  }

  it("rejects bad addresses and values at the API edge", () => {
    const space = new AddressSpace();
    assert.throws(() => space.load8(-1), AddressError);
    assert.throws(() => space.load8(1.5), AddressError);
    assert.throws(() => space.load8(2 ** 60), /safe integer/);
    assert.throws(() => space.load8(TOP), /outside the 64-bit space/);
    assert.throws(() => space.store8(0, 256), /does not fit/);
    assert.throws(() => space.store16(0, -1), /does not fit/);
  });

  it("number and bigint addresses agree", () => {
    const space = new AddressSpace();
    space.store32(0x12345678, 0xcafebabe);
    assert.equal(space.load32(0x12345678n), 0xcafebabe);
  });

  it("copy handles overlap in both directions", () => {
    const space = new AddressSpace();
    const data = Uint8Array.from({ length: 10000 }, (_, k) => (k * 7) & 0xff);
    space.write(0x10000, data);
    space.copy(0x10005, 0x10000, 10000);
    assert.deepEqual(space.read(0x10005, 10000), data);
    space.copy(0x10000, 0x10005, 10000);
    assert.deepEqual(space.read(0x10000, 10000), data);
  });
});

describe("snapshots", () => {
  for (const backend of STATEFUL_BACKENDS) {
    it(`${backend}: writes to either side never show in the other`, () => {
      const parent = new AddressSpace({ backend });
      parent.store64(0x5000, 111n);
      parent.store64(0x9000, 222n);
      const child = parent.snapshot();
      child.store64(0x5000, 333n);
      parent.store64(0x9000, 444n);
      parent.store8(0xa000, 5);
      assert.equal(parent.load64(0x5000), 111n);
      assert.equal(child.load64(0x5000), 333n);
      assert.equal(child.load64(0x9000), 222n);
      assert.equal(parent.load64(0x9000), 444n);
      assert.equal(child.load8(0xa000), 0);
      const grandchild = child.snapshot();
      grandchild.fill(0x5000, 8, 0);
      assert.equal(child.load64(0x5000), 333n);
      assert.equal(grandchild.load64(0x5000), 0n);
    });
  }
});

describe("pages that share a page-cache slot", () => {
  // The paged backend's caches are direct-mapped by the low 5 bits of the page number: these
  // pages all land in one slot (32 pages apart, or 2^32 pages apart: same low half).
  const pages = [0x7n, 0x7n + (1n << 32n), 0x27n, 0x27n + (1n << 32n), 0x47n];
  for (const backend of STATEFUL_BACKENDS) {
    it(`${backend}: alternating loads and stores of every width, across a snapshot, read back what was stored`, () => {
      const space = new AddressSpace({ backend });
      const expected = new Map<bigint, bigint>();
      const value = (page: number, round: number): bigint => BigInt(page * 1000 + round) * 0x1_0001_0001n;
      for (let round = 0; round < 6; round++) {
        pages.forEach((page, index) => {
          const address = page * 4096n + BigInt(index * 16);
          space.store64(address, value(index, round));
          expected.set(address, value(index, round));
        });
        // Reads of every width after the slot changed hands, then a snapshot that both sides write.
        for (const [address, stored] of expected) {
          assert.equal(space.load64(address), stored);
          assert.equal(space.load32(address), Number(stored & 0xffff_ffffn));
          assert.equal(space.load16(address + 2n), Number((stored >> 16n) & 0xffffn));
          assert.equal(space.load8(address + 7n), Number(stored >> 56n));
        }
        const child = space.snapshot();
        child.store32(pages[round % pages.length] * 4096n, 0xdead);
        for (const [address, stored] of expected) assert.equal(space.load64(address), stored);
      }
    });
  }
});

describe("regions and strict mode", () => {
  it("map, protect, unmap and regions() keep a sorted, split map", () => {
    const space = new AddressSpace();
    space.map(0x10000, 0x4000, "r-x");
    space.map(0x20000, 100, "rw-");
    space.protect(0x11000, 0x1000, "rw");
    assert.deepEqual(
      space.regions().map((region) => [region.start, region.end, region.protection]),
      [
        [0x10000n, 0x11000n, "r-x"],
        [0x11000n, 0x12000n, "rw-"],
        [0x12000n, 0x14000n, "r-x"],
        [0x20000n, 0x21000n, "rw-"],
      ],
    );
    space.unmap(0x10000, 0x2000);
    assert.equal(space.regions().length, 2);
    assert.throws(() => space.map(0x13000, 0x1000, "r"), /overlaps the mapped region/);
    assert.throws(() => space.map(0x13001, 0x1000, "r"), /not page-aligned/);
    assert.throws(() => space.protect(0x30000, 0x1000, "r"), /is not mapped/);
    assert.throws(() => space.map(0x40000, 0x1000, "rwz"), /invalid protection/);
  });

  it("the default mode is a flat read/write space", () => {
    const space = new AddressSpace();
    space.map(0x10000, 0x1000, "r");
    space.store8(0x10000, 1);
    space.store8(0x90000, 1);
    assert.equal(space.load8(0x10000), 1);
  });

  it("strict mode faults outside mappings and against permissions, naming address, width and kind", () => {
    const space = new AddressSpace({ strict: true });
    space.map(0x10000, 0x2000, "r--");
    space.map(0x12000, 0x1000, "rw-");
    assert.equal(space.load32(0x10000), 0);
    space.store64(0x12000, 7n);
    const fault = (action: () => unknown): MemoryFault => {
      try {
        action();
      } catch (error) {
        assert.ok(error instanceof MemoryFault, String(error));
        return error;
      }
      assert.fail("expected a MemoryFault");
    };
    const unmapped = fault(() => space.load16(0x20000));
    assert.deepEqual([unmapped.address, unmapped.widthBytes, unmapped.access, unmapped.reason], [0x20000n, 2, "read", "unmapped"]);
    assert.match(unmapped.message, /2-byte read at 0x0000000000020000/);
    const denied = fault(() => space.store32(0x10010, 1));
    assert.deepEqual([denied.address, denied.widthBytes, denied.access, denied.reason], [0x10010n, 4, "write", "protection"]);
    // A load crossing out of the last mapped page faults too.
    fault(() => space.load64(0x12ffc));
    fault(() => space.write(0x11ff0, new Uint8Array(0x20)));
    fault(() => space.read(0x12f00, 0x200));
    space.protect(0x10000, 0x1000, "rw-");
    space.store32(0x10010, 1);
    space.unmap(0x12000, 0x1000);
    fault(() => space.load8(0x12000));
  });

  it("strict mode: instruction fetch needs execute permission, parcel by parcel", () => {
    const space = new AddressSpace({ strict: true });
    space.map(0x10000, 0x1000, "rw-");
    space.map(0x11000, 0x1000, "rw-");
    space.store16(0x10ffe, 0x0013); // a 32-bit instruction's first parcel, last in the x page
    space.protect(0x10000, 0x1000, "r-x");
    space.store16(0x11000, 0x0001);
    assert.equal(space.access.fetchInstruction(0x10ff0, 0), 0); // a compressed parcel in the x page
    assert.throws(
      () => space.access.fetchInstruction(0x10ffe, 0), // its second parcel is in the rw- page
      (error: unknown) => error instanceof MemoryFault && error.access === "fetch" && error.address === 0x11000n && error.reason === "protection",
    );
    assert.throws(() => space.access.fetchInstruction(0x11000, 0), /2-byte fetch at 0x0000000000011000: region does not allow fetch/);
    assert.equal(space.load16(0x11000), 1, "reading the rw- page is still allowed");
  });

  it("unmap releases pages: they read as zero and leave the resident count", () => {
    const space = new AddressSpace();
    space.map(0x100000, 0x10000, "rw");
    for (let page = 0; page < 16; page++) space.store8(0x100000 + page * 0x1000, 9);
    assert.equal(space.stats().residentPages, 16);
    space.unmap(0x100000, 0x8000);
    assert.equal(space.stats().residentPages, 8);
    assert.equal(space.load8(0x100000), 0);
    assert.equal(space.load8(0x108000), 9);
  });
});

describe("stats", () => {
  it("counts loads, stores, pages and page-cache hits and misses", () => {
    const space = new AddressSpace({ backend: "paged" });
    for (let k = 0; k < 100; k++) space.store16(0x4000 + 2 * k, k);
    for (let k = 0; k < 100; k++) assert.equal(space.load16(0x4000 + 2 * k), k);
    space.load8(0x900000);
    const stats = space.stats();
    assert.equal(stats.loads, 101);
    assert.equal(stats.stores, 100);
    assert.equal(stats.touchedPages, 2);
    assert.equal(stats.residentPages, 1);
    assert.equal(stats.residentBytes, 4096);
    assert.equal(stats.cacheHits + stats.cacheMisses, 201);
    assert.ok(stats.cacheMisses <= 3, `misses ${stats.cacheMisses}`);
  });

  it("a snapshot shares frames until written", () => {
    const parent = new AddressSpace();
    for (let page = 0; page < 10; page++) parent.store8(page * 0x1000, 1);
    const child = parent.snapshot();
    child.store8(0, 2);
    assert.equal(child.stats().residentPages, 10);
    assert.equal(parent.load8(0), 1);
  });
});

describe("instruction fetch", () => {
  // Parcels near a page's end (one or both in the page), at the top of the low half (the
  // second parcel's address carries into the high half), and anywhere else.
  const fetchAddressArb = fc.oneof(
    fc.integer({ min: 0, max: 64 }).map((page) => BigInt(page * 4096 + 4090)),
    fc.constantFrom(0xfffffffan, 0xfffffffcn, 0xfffffffen, 0x1_0000_0ffen),
    fc.bigInt({ min: 0n, max: (1n << 48n) - 8n }).map((address) => address & ~1n),
  );
  const parcelArb = fc.integer({ min: 0, max: 0xffff });

  for (const backend of STATEFUL_BACKENDS) {
    it(`${backend}: fetchInstruction reads one or two parcels, and counts only what countAccesses reports`, () => {
      fc.assert(
        fc.property(fetchAddressArb, fc.array(parcelArb, { minLength: 3, maxLength: 3 }), fc.boolean(), (address, parcels, twice) => {
          const space = new AddressSpace({ backend });
          parcels.forEach((parcel, k) => space.store16(address + 2n * BigInt(k), parcel));
          const loadsBefore = space.stats().loads;
          const lo = lowOf(address);
          const hi = Number(address >> 32n);
          const first = space.access.fetchInstruction(lo, hi);
          if (twice) assert.equal(space.access.fetchInstruction(lo, hi), first); // on a warm page register
          const is32 = (parcels[0] & 3) === 3;
          assert.equal(first, is32 ? (parcels[0] | (parcels[1] << 16)) | 0 : parcels[0]);
          // The hot path counts nothing itself: its caller reports the parcels it fetched.
          assert.equal(space.stats().loads, loadsBefore);
          space.access.countAccesses((is32 ? 2 : 1) * (twice ? 2 : 1), 0);
          assert.equal(space.stats().loads - loadsBefore, (is32 ? 2 : 1) * (twice ? 2 : 1));
        }),
        { numRuns: 300 },
      );
    });
  }

  it("a tee shows its observer the parcels as separate two-byte reads", () => {
    const space = new AddressSpace({ backend: "paged" });
    space.store32(0xfffffffen, 0x1234_5673); // a 32-bit instruction whose second parcel is at 2^32
    const sink = new RecordingSink();
    const tee = new TeeAccess(space.access, sink);
    assert.equal(tee.fetchInstruction(-2, 0), 0x1234_5673);
    assert.deepEqual(
      sink.ops.map((op) => [op.write, op.width, op.address]),
      [
        [false, 2, 0xfffffffen],
        [false, 2, 0x1_0000_0000n],
      ],
    );
  });
});
