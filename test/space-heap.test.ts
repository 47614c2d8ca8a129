import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AddressSpace } from "../src/space/address-space.js";
import { MemoryFault } from "../src/space/protection.js";
import { HeapError } from "../src/alloc/heap/heap.js";
import { SpaceHeap } from "../src/alloc/heap/space-heap.js";

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
    assert.throws(() => new SpaceHeap(space, BASE + 4096n, 16 * MiB), /multiple of 16384/);
    assert.throws(() => new SpaceHeap(space, (1n << 64n) - 16384n, 32768), /past the top/);
    assert.throws(() => heap.alignedAlloc(1 << 30, 100), /finer than this heap's base/);
    assert.equal(heap.alignedAlloc(1 << 20, 100) % BigInt(1 << 20), 0n);
  });

  it("random malloc/calloc/realloc/free sequences keep contents and never overlap (fast-check, against a model)", () => {
    const size = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 300, max: 70_000 }), fc.integer({ min: 200_000, max: 1_200_000 }));
    const op = fc.oneof(
      fc.record({ kind: fc.constant("malloc" as const), size }),
      fc.record({ kind: fc.constant("calloc" as const), size }),
      fc.record({ kind: fc.constant("realloc" as const), size, pick: fc.nat() }),
      fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), fc.boolean(), (ops, debug) => {
        const space = new AddressSpace({ backend: "paged" });
        const heap = new SpaceHeap(space, BASE, 32 * MiB, { cacheSlots: 2, cacheBytes: 4 * MiB, debug });
        const live = new Map<bigint, { size: number; tag: number }>();
        let tag = 0;
        const pick = (n: number): bigint | undefined => [...live.keys()][n % Math.max(1, live.size)];
        // Each block holds its tag in its first and last byte (and, for small ones, all of them).
        const stamp = (address: bigint, sizeBytes: number, value: number): void => {
          if (sizeBytes === 0) return;
          if (sizeBytes <= 512) space.fill(address, sizeBytes, value);
          else {
            space.store8(address, value);
            space.store8(address + BigInt(sizeBytes - 1), value);
          }
        };
        const holds = (address: bigint, sizeBytes: number, value: number): boolean => {
          if (sizeBytes === 0) return true;
          if (sizeBytes <= 512) return space.read(address, sizeBytes).every((b) => b === value);
          return space.load8(address) === value && space.load8(address + BigInt(sizeBytes - 1)) === value;
        };
        for (const step of ops) {
          if (step.kind === "malloc" || step.kind === "calloc") {
            const address = step.kind === "malloc" ? heap.malloc(step.size) : heap.calloc(1, step.size);
            if (address === 0n) continue;
            if (step.kind === "calloc" && step.size <= 4096) assert.ok(space.read(address, step.size).every((b) => b === 0), "calloc zeroes");
            tag = (tag % 250) + 1;
            stamp(address, step.size, tag);
            live.set(address, { size: step.size, tag });
          } else if (step.kind === "realloc") {
            const address = pick(step.pick);
            if (address === undefined) continue;
            const block = live.get(address)!;
            const moved = heap.realloc(address, step.size);
            if (step.size === 0) {
              live.delete(address);
              continue;
            }
            if (moved === 0n) continue;
            if (step.size >= block.size) assert.ok(holds(moved, block.size, block.tag), "contents survive realloc");
            live.delete(address);
            stamp(moved, step.size, block.tag);
            live.set(moved, { size: step.size, tag: block.tag });
          } else {
            const address = pick(step.pick);
            if (address === undefined) continue;
            heap.free(address);
            live.delete(address);
          }
          heap.check();
          const spans = [...live].map(([address, block]) => [address, address + BigInt(Math.max(block.size, 1))] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
          for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], "blocks overlap");
          for (const [address, block] of live) assert.ok(holds(address, block.size, block.tag), `block at ${address} was overwritten`);
        }
        for (const address of live.keys()) heap.free(address);
        heap.trim();
        heap.check();
        assert.equal(space.stats().residentPages, 0, "trim released every frame");
      }),
      { numRuns: 40 },
    );
  });
});
