import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AddressSpace } from "../../src/space/address-space.js";
import { MemoryFault } from "../../src/space/protection.js";
import { HeapError } from "../../src/alloc/heap/heap.js";
import { SpaceHeap } from "../../src/alloc/heap/space-heap.js";
import { allocationCalls, modelSteps, replayAgainstModel } from "./heap-model.js";

const MiB = 1 << 20;
const BASE = 0x7f12_3450_0000n; // above 2^32: the high half of every address matters

describe("SpaceHeap (a heap in an AddressSpace region)", () => {
  it("allocates from every tier at 64-bit addresses, blocks hold data in the space, and trim gives every frame back", () => {
    const space = new AddressSpace({ backend: "paged" });
    const heap = new SpaceHeap(space, BASE, 256 * MiB);
    const initial = heap.stats().footprintBytes;
    const sizes = [1, 8, 24, 100, 1000, 1024, 5000, 65536, 256 * 1024, 300_000, 4 * MiB];
    const blocks = sizes.map((size, i) => {
      const address = heap.mallocOrThrow(size);
      assert.ok(address >= BASE && address + BigInt(size) <= BASE + 256n * BigInt(MiB));
      assert.equal(address % 8n, 0n);
      space.fill(address, size, i + 1);
      return { address, size, tag: i + 1 };
    });
    for (const block of blocks) {
      const bytes = space.read(block.address, block.size);
      assert.ok(bytes.every((b) => b === block.tag), `block of ${block.size} B kept its bytes`);
    }
    heap.check();
    let walked = 0;
    heap.walk((address) => {
      assert.ok(blocks.some((b) => b.address === address));
      walked++;
    });
    assert.equal(walked, blocks.length);
    for (const block of blocks) heap.free(block.address);
    heap.trim();
    heap.check();
    assert.equal(heap.stats().liveBlocks, 0);
    assert.equal(heap.stats().footprintBytes, initial);
    assert.equal(space.stats().residentPages, 0, "every page went back: unmapping released the frames");
    assert.equal(space.regions().length, 0, "nothing of the heap is mapped any more");
  });

  it("maps what it uses: in a strict space blocks are accessible, a freed large block is unmapped (use after free faults)", () => {
    const space = new AddressSpace({ backend: "paged", strict: true });
    const heap = new SpaceHeap(space, BASE, 64 * MiB, { cacheSlots: 0 });
    const small = heap.malloc(40);
    space.store64(small, 0x1122334455667788n);
    assert.equal(space.load64(small), 0x1122334455667788n);
    const large = heap.malloc(2 * MiB);
    space.store32(large + BigInt(2 * MiB - 4), 7);
    heap.free(large);
    assert.throws(() => space.load32(large), MemoryFault, "the freed large block's pages are unmapped");
    const zeroed = heap.calloc(MiB, 2);
    assert.ok(space.read(zeroed, 2 * MiB).every((b) => b === 0), "calloc gives zeroes");
    heap.check();
  });

  it("refuses misuse naming the 64-bit address, and changes nothing", () => {
    const space = new AddressSpace();
    const heap = new SpaceHeap(space, BASE, 16 * MiB);
    const block = heap.malloc(64);
    const name = `0x${block.toString(16).padStart(16, "0")}`;
    assert.throws(() => heap.free(block + 8n), (error: Error) => error instanceof HeapError && error.message.includes(`0x${(block + 8n).toString(16).padStart(16, "0")}`) && /interior/.test(error.message));
    assert.throws(() => heap.free(BASE - 8n), /not in this heap's region/);
    assert.throws(() => heap.free(BASE + 32n * BigInt(MiB)), /not in this heap's region/);
    heap.free(block);
    assert.throws(() => heap.free(block), (error: Error) => error.message.includes(name) && /not allocated/.test(error.message));
    heap.check();
    assert.throws(() => new SpaceHeap(space, BASE + 2048n, 16 * MiB), /multiple of 4096/);
    assert.throws(() => new SpaceHeap(space, (1n << 64n) - 4096n, 8192), /past the top/);
    assert.throws(() => heap.alignedAlloc(1 << 30, 100), /finer than this heap's base/);
    assert.equal(heap.alignedAlloc(1 << 20, 100) % BigInt(1 << 20), 0n);
  });

  it("random malloc/calloc/alignedAlloc/realloc/free and misuse keep contents and never overlap (fast-check, against a model)", () => {
    const size = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 300, max: 70_000 }), fc.integer({ min: 200_000, max: 1_200_000 }));
    fc.assert(
      fc.property(modelSteps(size, ["malloc", "calloc", "aligned", "realloc", "free", "misuse", "double-free"], 40), fc.boolean(), (steps, debug) => {
        const space = new AddressSpace({ backend: "paged" });
        const heap = new SpaceHeap(space, BASE, 32 * MiB, { cacheSlots: 2, cacheBytes: 4 * MiB, debug });
        // Each block holds its tag in its first and last byte (and, for small ones, all of them).
        const left = replayAgainstModel<bigint>(
          {
            null: 0n,
            ...allocationCalls<bigint>(heap),
            offset: (address, n) => address + BigInt(n),
            stamp: (address, sizeBytes, tag) => {
              if (sizeBytes === 0) return;
              if (sizeBytes <= 512) space.fill(address, sizeBytes, tag);
              else {
                space.store8(address, tag);
                space.store8(address + BigInt(sizeBytes - 1), tag);
              }
            },
            holds: (address, sizeBytes, tag) => {
              if (sizeBytes === 0) return true;
              if (sizeBytes <= 512) return space.read(address, sizeBytes).every((b) => b === tag);
              return space.load8(address) === tag && space.load8(address + BigInt(sizeBytes - 1)) === tag;
            },
            // Stamps cover every byte of small blocks, the ends of large ones: compare what both cover.
            keeps: (address, oldSize, newSize, tag) => {
              const kept = Math.min(oldSize, newSize);
              if (kept === 0) return true;
              if (oldSize <= 512) return space.read(address, kept).every((b) => b === tag);
              return space.load8(address) === tag && (newSize < oldSize || space.load8(address + BigInt(oldSize - 1)) === tag);
            },
            zeroed: (address, sizeBytes) => space.read(address, Math.min(sizeBytes, 4096)).every((b) => b === 0),
          },
          steps,
        );
        for (const address of left) heap.free(address);
        heap.trim();
        heap.check();
        assert.equal(space.stats().residentPages, 0, "trim released every frame");
      }),
      { numRuns: 40 },
    );
  });
});
