import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameAllocator } from "../../src/alloc/frames/frame-allocator.js";
import { SpaceHeap } from "../../src/alloc/heap/space-heap.js";
import { AddressSpace } from "../../src/space/address-space.js";
import { MemoryFault } from "../../src/space/protection.js";
import { withTempDir } from "../helpers.js";

const PAGE_BYTES = 4096;
const HUGE_BYTES = 2 * 1024 * 1024;
const HUGE_PAGES = HUGE_BYTES / PAGE_BYTES;
/** A 2 MiB-aligned address high enough to need both halves of a 64-bit address. */
const BASE = 0x1234_0000_0000n;

function backedSpace(frames = 4 * HUGE_PAGES, strict = false): { space: AddressSpace; allocator: FrameAllocator } {
  const allocator = FrameAllocator.create({ frames, backed: true });
  return { space: new AddressSpace({ frames: allocator, strict }), allocator };
}

/** Takes every frame, then gives back all but one frame of each 2 MiB child: much is free, no order-9 run is. */
function fragment(allocator: FrameAllocator): void {
  const taken: number[] = [];
  for (let frame = allocator.get(0); frame >= 0; frame = allocator.get(0)) taken.push(frame);
  for (const frame of taken) if (frame % HUGE_PAGES !== 0) allocator.put(frame, 0);
}

describe("huge frames on the paged backend", () => {
  it("backs each 2 MiB-aligned run inside the range with one huge leaf from an order-9 run", () => {
    const { space, allocator } = backedSpace();
    const freeBefore = allocator.freeFrames();
    // 5 MiB from 1 MiB past BASE: only the runs at BASE + 2 MiB and BASE + 4 MiB lie inside whole.
    assert.equal(space.mapHuge(BASE + 0x10_0000n, 5 * 1024 * 1024), 2);
    assert.equal(space.mapHuge(BASE, 3 * HUGE_BYTES), 1, "runs that are leaves already are left as they are");
    assert.equal(space.stats().hugeLeaves, 3);
    assert.equal(space.stats().touchedPages, 3 * HUGE_PAGES);
    assert.equal(allocator.freeFrames(), freeBefore - 3 * HUGE_PAGES);
    // Every page of a leaf resolves through it, and an access may cross pages inside it.
    space.store64(BASE + BigInt(HUGE_BYTES) - 4n, 0x1122334455667788n);
    space.store32(BASE + 2n * BigInt(HUGE_BYTES) + 0x7_fffen, 0xcafef00d);
    assert.equal(space.load64(BASE + BigInt(HUGE_BYTES) - 4n), 0x1122334455667788n);
    assert.equal(space.load32(BASE + 2n * BigInt(HUGE_BYTES) + 0x7_fffen), 0xcafef00d);
    assert.equal(space.load8(BASE + 5n * BigInt(PAGE_BYTES)), 0);
    // Writes went to the huge frames: no 4 KiB frame was taken.
    assert.equal(allocator.freeFrames(), freeBefore - 3 * HUGE_PAGES);
    assert.equal(space.stats().hugeLeaves, 3);
  });

  it("falls back to 4 KiB frames when no order-9 run is free, and on a run already holding data", () => {
    const { space, allocator } = backedSpace();
    space.store8(BASE + 3n * BigInt(PAGE_BYTES), 7);
    assert.equal(space.mapHuge(BASE, HUGE_BYTES), 0, "a run with data keeps its 4 KiB pages");
    fragment(allocator);
    assert.ok(allocator.freeFrames() > HUGE_PAGES);
    assert.equal(space.mapHuge(BASE + BigInt(HUGE_BYTES), HUGE_BYTES), 0);
    assert.equal(space.stats().hugeLeaves, 0);
    space.store32(BASE + BigInt(HUGE_BYTES) + 8n, 0xabcdef01);
    assert.equal(space.load32(BASE + BigInt(HUGE_BYTES) + 8n), 0xabcdef01);
    assert.equal(space.load8(BASE + 3n * BigInt(PAGE_BYTES)), 7);
  });

  it("splits a shared leaf into private 4 KiB pages on the first write after a snapshot", () => {
    const { space, allocator } = backedSpace();
    space.mapHuge(BASE, HUGE_BYTES);
    space.store32(BASE + 0x1000n, 0x11111111);
    space.store32(BASE + 0x1f_f000n, 0x22222222);
    const snapshot = space.snapshot();
    const freeAfterFork = allocator.freeFrames();
    space.store32(BASE + 0x1000n, 0x33333333);
    assert.equal(space.stats().hugeLeaves, 0);
    assert.equal(snapshot.stats().hugeLeaves, 1);
    assert.equal(allocator.freeFrames(), freeAfterFork - HUGE_PAGES);
    assert.equal(space.load32(BASE + 0x1000n), 0x33333333);
    assert.equal(space.load32(BASE + 0x1f_f000n), 0x22222222);
    assert.equal(snapshot.load32(BASE + 0x1000n), 0x11111111);
    // The snapshot now owns the huge frame alone: it writes in place.
    snapshot.store32(BASE + 0x1f_f000n, 0x44444444);
    assert.equal(snapshot.stats().hugeLeaves, 1);
    assert.equal(space.load32(BASE + 0x1f_f000n), 0x22222222);
  });

  it("leaves a shared leaf, the counts and the free frames as they were when a split finds too few frames", () => {
    // One leaf and 100 frames more: the copy-on-write split after the snapshot needs 512.
    const { space, allocator } = backedSpace(HUGE_PAGES * 2);
    space.mapHuge(BASE, HUGE_BYTES);
    space.store32(BASE + 0x2000n, 0x55555555);
    const hold: number[] = [];
    while (allocator.freeFrames() > 100) hold.push(allocator.get(0));
    const snapshot = space.snapshot();
    const before = { free: allocator.freeFrames(), stats: space.stats() };
    for (let attempt = 0; attempt < 3; attempt++) assert.throws(() => space.store32(BASE + 0x2000n, 0x66666666));
    assert.equal(allocator.freeFrames(), before.free, "no frame leaked by the failed splits");
    assert.deepEqual(space.stats(), before.stats);
    assert.equal(space.load32(BASE + 0x2000n), 0x55555555);
    // With the frames back, the same write splits the leaf.
    for (const frame of hold) allocator.put(frame, 0);
    space.store32(BASE + 0x2000n, 0x66666666);
    assert.equal(space.load32(BASE + 0x2000n), 0x66666666);
    assert.equal(snapshot.load32(BASE + 0x2000n), 0x55555555);
    assert.equal(space.stats().hugeLeaves, 0);
    assert.equal(space.stats().touchedPages, HUGE_PAGES);
  });

  it("splits a leaf on a partial discard and gives a whole discarded leaf back as one run", () => {
    const { space, allocator } = backedSpace();
    const freeBefore = allocator.freeFrames();
    space.map(BASE, 2 * HUGE_BYTES, "rw-");
    space.mapHuge(BASE, 2 * HUGE_BYTES);
    space.store32(BASE + 0x4000n, 5);
    space.store32(BASE + 0x5000n, 6);
    space.unmap(BASE + 0x5000n, PAGE_BYTES);
    assert.equal(space.stats().hugeLeaves, 1);
    assert.equal(space.stats().residentPages, 2 * HUGE_PAGES - 1);
    assert.equal(space.load32(BASE + 0x4000n), 5);
    assert.equal(space.load32(BASE + 0x5000n), 0);
    space.unmap(BASE + BigInt(HUGE_BYTES), HUGE_BYTES);
    assert.equal(space.stats().hugeLeaves, 0);
    space.unmap(BASE, HUGE_BYTES);
    assert.equal(allocator.freeFrames(), freeBefore);
    // The freed runs are whole again: huge frames can be had once more.
    assert.equal(space.mapHuge(BASE, 2 * HUGE_BYTES), 2);
  });

  it("round-trips an image of a space with huge leaves", () => {
    const { space } = backedSpace();
    space.map(BASE, HUGE_BYTES, "rw-");
    space.mapHuge(BASE, HUGE_BYTES);
    space.store64(BASE + 0x12_3458n, 0x0102030405060708n);
    space.store8(BASE + 0x1f_ffffn, 0x99);
    withTempDir((folder) => {
      const path = join(folder, "space.img");
      space.save(path);
      const loaded = AddressSpace.load(path);
      assert.equal(loaded.load64(BASE + 0x12_3458n), 0x0102030405060708n);
      assert.equal(loaded.load8(BASE + 0x1f_ffffn), 0x99);
      assert.deepEqual(loaded.read(BASE, HUGE_BYTES), space.read(BASE, HUGE_BYTES));
      assert.deepEqual(loaded.regions(), space.regions());
    });
  });

  it("keeps strict-mode protections on the pages of a leaf", () => {
    const { space } = backedSpace(4 * HUGE_PAGES, true);
    space.map(BASE, HUGE_BYTES, "rw-");
    assert.equal(space.mapHuge(BASE, HUGE_BYTES), 1);
    space.protect(BASE + 0x3000n, PAGE_BYTES, "r--");
    space.store8(BASE + 0x2fffn, 1);
    assert.throws(() => space.store8(BASE + 0x3000n, 1), MemoryFault);
    assert.throws(() => space.load8(BASE + BigInt(HUGE_BYTES)), MemoryFault);
    assert.equal(space.load8(BASE + 0x2fffn), 1);
  });

  it("gives a SpaceHeap's large blocks huge frames, every whole 2 MiB of them: a block of 2 MiB or more starts 2 MiB aligned", () => {
    const { space, allocator } = backedSpace(8 * HUGE_PAGES);
    const heap = new SpaceHeap(space, BASE, 64 * 1024 * 1024);
    const freeBefore = allocator.freeFrames();
    heap.malloc(40 * 1024); // a span first, so that the next free page is not 2 MiB aligned
    const block = heap.malloc(6 * 1024 * 1024);
    assert.equal(block % BigInt(HUGE_BYTES), 0n, "2 MiB aligned");
    const leaves = space.stats().hugeLeaves;
    assert.equal(leaves, 3, "3 leaves for 6 MiB");
    assert.equal(allocator.freeFrames(), freeBefore - leaves * HUGE_PAGES);
    space.store32(block + 0x30_0000n, 0xfeedface);
    assert.equal(space.load32(block + 0x30_0000n), 0xfeedface);
    assert.equal(allocator.freeFrames(), freeBefore - leaves * HUGE_PAGES);
  });

  it("places large blocks on any page where the space has no huge frames, or the heap's base is not 2 MiB aligned", () => {
    const unaligned = backedSpace(8 * HUGE_PAGES).space;
    const heap = new SpaceHeap(unaligned, BASE + 0x4000n, 32 * 1024 * 1024);
    heap.malloc(40 * 1024);
    assert.notEqual((heap.malloc(4 * 1024 * 1024) - BASE) % BigInt(HUGE_BYTES), 0n);
    const mapOnly = new SpaceHeap(new AddressSpace({ backend: "map" }), BASE, 32 * 1024 * 1024);
    mapOnly.malloc(40 * 1024);
    assert.notEqual(mapOnly.malloc(4 * 1024 * 1024) % BigInt(HUGE_BYTES), 0n);
  });

  it("holds the same contents as a 4 KiB-backed space under any sequence of operations", () => {
    const runs = 3;
    const spanBytes = runs * HUGE_BYTES;
    const offsetArb = fc.integer({ min: 0, max: spanBytes - 8 });
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant("mapHuge" as const), run: fc.integer({ min: 0, max: runs - 1 }) }),
      fc.record({ kind: fc.constant("store" as const), offset: offsetArb, width: fc.constantFrom(1, 2, 4, 8), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
      fc.record({ kind: fc.constant("discard" as const), page: fc.integer({ min: 0, max: runs * HUGE_PAGES - 1 }), pages: fc.integer({ min: 1, max: 2 * HUGE_PAGES }) }),
      fc.record({ kind: fc.constant("snapshot" as const) }),
      fc.record({ kind: fc.constant("load" as const), offset: offsetArb }),
    );
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 40 }), (ops) => {
        let { space: huge } = backedSpace(8 * HUGE_PAGES);
        let plain = new AddressSpace();
        const snapshots: [AddressSpace, AddressSpace][] = [];
        for (const op of ops) {
          if (op.kind === "mapHuge") huge.mapHuge(BASE + BigInt(op.run * HUGE_BYTES), HUGE_BYTES);
          else if (op.kind === "store") {
            const at = BASE + BigInt(op.offset);
            const value = op.value & ((1n << BigInt(op.width * 8)) - 1n);
            for (const space of [huge, plain]) {
              if (op.width === 8) space.store64(at, value);
              else if (op.width === 4) space.store32(at, Number(value));
              else if (op.width === 2) space.store16(at, Number(value));
              else space.store8(at, Number(value));
            }
          } else if (op.kind === "discard") {
            const pages = Math.min(op.pages, runs * HUGE_PAGES - op.page);
            for (const space of [huge, plain]) space.fill(BASE + BigInt(op.page * PAGE_BYTES), pages * PAGE_BYTES, 0);
          } else if (op.kind === "snapshot") {
            // Keep the old pair and go on writing in the forks.
            snapshots.push([huge, plain]);
            huge = huge.snapshot();
            plain = plain.snapshot();
          } else assert.equal(huge.load64(BASE + BigInt(op.offset)), plain.load64(BASE + BigInt(op.offset)));
        }
        for (const [left, right] of [[huge, plain], ...snapshots]) assert.deepEqual(left.read(BASE, spanBytes), right.read(BASE, spanBytes));
      }),
      { numRuns: 40 },
    );
  });
});
