import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { Heap, HeapError } from "../../src/alloc/heap/heap.js";
import { Geometry } from "../../src/alloc/heap/heap-layout.js";
import { allocationCalls, modelSteps, replayAgainstModel, byteBlockChecks } from "./heap-model.js";

const KiB = 1 << 10;
const MiB = 1 << 20;
const WASM_PAGE_BYTES = 64 * KiB;

/** Fills `bytes` with a pattern no heap would write (a hash of each offset). */
function guardPattern(bytes: Uint8Array, from: number, to: number): void {
  for (let i = from; i < to; i++) bytes[i] = (Math.imul(i, 0x9e3779b1) >>> 24) | 1;
}

/** Whether `bytes` still holds the guard pattern in [from, to). */
function holdsGuard(bytes: Uint8Array, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (bytes[i] !== ((Math.imul(i, 0x9e3779b1) >>> 24) | 1)) return false;
  return true;
}

describe("a Heap over a region [start, end) of a buffer", () => {
  for (const debug of [false, true]) it(`never touches the bytes outside the region under random malloc/calloc/realloc/alignedAlloc/free${debug ? " (debug mode)" : ""} (fast-check)`, () => {
    const size = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 1024 }) },
      { weight: 3, arbitrary: fc.integer({ min: 1025, max: 256 * KiB }) },
      { weight: 1, arbitrary: fc.integer({ min: 256 * KiB + 1, max: 3 * MiB }) },
    );
    const start = MiB;
    const end = 13 * MiB;
    fc.assert(
      fc.property(modelSteps(size, ["malloc", "calloc", "aligned", "realloc", "free", "misuse", "double-free"], 60), (steps) => {
        const buffer = new ArrayBuffer(14 * MiB);
        const bytes = new Uint8Array(buffer);
        guardPattern(bytes, 0, start);
        guardPattern(bytes, end, buffer.byteLength);
        const heap = new Heap(buffer, { start, end, cacheSlots: 4, cacheBytes: 4 * MiB, debug });
        const left = replayAgainstModel<number>(
          {
            null: 0,
            ...allocationCalls(heap),
            malloc: (sizeBytes) => {
              const address = heap.malloc(sizeBytes);
              assert.ok(address === 0 || (address >= start && address + sizeBytes <= end), `block ${address} of ${sizeBytes} bytes is inside the region`);
              return address;
            },
            ...byteBlockChecks(bytes),
          },
          steps,
        );
        heap.walk((address, usableBytes) => assert.ok(address >= start && address + usableBytes <= end, `live block ${address} (${usableBytes} bytes) inside the region`));
        for (const address of left) heap.free(address);
        heap.trim();
        heap.check();
        assert.equal(heap.stats().liveBytes, 0);
        assert.ok(holdsGuard(bytes, 0, start), "the bytes below the region are untouched");
        assert.ok(holdsGuard(bytes, end, buffer.byteLength), "the bytes above the region are untouched");
      }),
      { numRuns: debug ? 25 : 80 },
    );
  });

  it("returns addresses into the whole buffer, takes them back, and names them in its errors", () => {
    const buffer = new ArrayBuffer(8 * MiB);
    const start = 2 * MiB;
    const heap = new Heap(buffer, { start, end: 6 * MiB });
    const block = heap.mallocOrThrow(100);
    assert.ok(block > start && block < 6 * MiB);
    new Uint8Array(buffer, block, 100).fill(9);
    assert.equal(heap.usableSize(block), 104);
    const moved = heap.realloc(block, 5000);
    assert.ok(moved > start && new Uint8Array(buffer, moved, 100).every((b) => b === 9), "realloc copies the block's bytes");
    const large = heap.mallocOrThrow(MiB);
    assert.equal((large - start) % Geometry.PageBytes, 0);
    const typed = heap.mallocAs(Float64Array, 4)!;
    assert.ok(typed.byteOffset > start, "mallocAs views the block at its address in the buffer");
    typed[0] = 1.5;
    assert.equal(new Float64Array(buffer, typed.byteOffset, 1)[0], 1.5);
    heap.free(typed.byteOffset);
    heap.free(large);
    heap.free(0); // null is ignored, as ever
    assert.throws(() => heap.free(moved + 8), /free\(0x[0-9a-f]+\): an interior pointer/);
    heap.free(moved);
    assert.throws(() => heap.free(moved), new RegExp(`free\\(0x${moved.toString(16)}\\): not allocated`));
    assert.throws(() => heap.free(start - 8), /free\(0x1ffff8\): not an address in this heap \(0x200000 \.\./);
    assert.throws(() => heap.free(start), /free\(0x200000\): inside the heap's own metadata/);
    assert.throws(() => heap.alignedAlloc(4 * MiB, 10), /alignment 4194304: this heap's region starts at 0x200000, not a multiple of it/);
    assert.ok(heap.alignedAlloc(2 * MiB, 10) % (2 * MiB) === 0);
    heap.check();
  });

  it("refuses an unaligned region, one past the buffer, and one too small for its metadata, with clear errors", () => {
    const buffer = new ArrayBuffer(4 * MiB);
    assert.throws(() => new Heap(buffer, { start: 100 }), (error: unknown) => error instanceof HeapError && /start 100 is not a multiple of 4096 bytes/.test(error.message));
    assert.throws(() => new Heap(buffer, { start: MiB, end: 3 * MiB + 8 }), /end 3145736 is not a multiple of 4096 bytes/);
    assert.throws(() => new Heap(buffer, { start: -4096 }), /start -4096 is not a multiple/);
    assert.throws(() => new Heap(buffer, { start: MiB, end: 8 * MiB }), /end 8388608 is past the buffer's 4194304 bytes/);
    assert.throws(() => new Heap(buffer, { start: 4 * MiB }), /start 4194304 is past the buffer's 4194304 bytes/);
    assert.throws(() => new Heap(buffer, { start: 2 * MiB, end: MiB }), /start 2097152 is not below end 1048576/);
    assert.throws(() => new Heap(buffer, { start: MiB, end: MiB + 32 * KiB }), /a heap needs more than \d+ bytes \(its metadata alone takes that much\); got 32768/);
    assert.throws(() => new Heap(new WebAssembly.Memory({ initial: 1 }), { start: 64 * KiB, maxBytes: 64 * KiB }), /start 65536 is not below the memory's limit \(maxBytes\) 65536/);
  });

  it("shares a region of a SharedArrayBuffer between workers attached with the same start", () => {
    const buffer = new SharedArrayBuffer(8 * MiB);
    const bytes = new Uint8Array(buffer);
    guardPattern(bytes, 0, MiB);
    const first = new Heap(buffer, { start: MiB });
    const second = new Heap(buffer, { start: MiB });
    const block = first.mallocOrThrow(64);
    assert.ok(block > MiB);
    second.free(block); // to its owner's inbox
    first.detach();
    second.check();
    assert.ok(holdsGuard(bytes, 0, MiB), "the bytes below the region are untouched");
  });
});

describe("a Heap over a region of a WebAssembly.Memory", () => {
  it("grows the memory when the region is its tail (no end), keeping the bytes below", () => {
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 512 });
    const start = 128 * KiB;
    guardPattern(new Uint8Array(memory.buffer), 0, start);
    const heap = new Heap(memory, { start, maxBytes: 32 * MiB });
    const formatted = memory.buffer.byteLength;
    assert.ok(formatted > start, "the heap grew the memory for its metadata");
    const large = heap.mallocOrThrow(4 * MiB);
    assert.ok(memory.buffer.byteLength >= large + 4 * MiB && memory.buffer.byteLength > formatted, "and for a block past its end");
    new Uint8Array(memory.buffer, large, 4 * MiB).fill(3);
    heap.free(large);
    heap.check();
    assert.ok(holdsGuard(new Uint8Array(memory.buffer), 0, start), "the bytes below the region are untouched");
    assert.equal(heap.malloc(40 * MiB), 0, "past maxBytes: out of memory");
  });

  it("reports out of memory (0) in a region with an end, without growing the memory", () => {
    const memory = new WebAssembly.Memory({ initial: 64, maximum: 512 });
    const start = MiB;
    const end = 2 * MiB;
    const bytes = new Uint8Array(memory.buffer);
    guardPattern(bytes, 0, start);
    guardPattern(bytes, end, memory.buffer.byteLength);
    const heap = new Heap(memory, { start, end });
    assert.equal(heap.malloc(2 * MiB), 0, "a block larger than the region");
    const blocks: number[] = [];
    for (let block = heap.malloc(4 * KiB); block !== 0; block = heap.malloc(4 * KiB)) blocks.push(block);
    assert.ok(blocks.length > 100 && blocks.every((block) => block >= start && block + 4 * KiB <= end));
    assert.equal(memory.buffer.byteLength, 64 * WASM_PAGE_BYTES, "the memory did not grow");
    for (const block of blocks) heap.free(block);
    heap.check();
    assert.ok(holdsGuard(bytes, 0, start) && holdsGuard(bytes, end, memory.buffer.byteLength), "the bytes outside the region are untouched");
  });

  it("keeps working after the memory is grown under it (a module's own memory.grow), once refreshed", () => {
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 512 });
    const start = MiB;
    const end = 2 * MiB;
    const heap = new Heap(memory, { start, end });
    const blocks: [block: number, size: number, fill: number][] = [];
    for (let index = 0; index < 200; index++) {
      const size = 16 + ((index * 37) % 3000);
      const block = heap.malloc(size);
      new Uint8Array(memory.buffer, block, size).fill(index & 0xff);
      blocks.push([block, size, index & 0xff]);
    }
    // The module grows the memory for its own use: the heap's views were of the old buffer.
    memory.grow(8);
    assert.throws(() => heap.free(blocks[0][0]), (error: unknown) => error instanceof HeapError && /grew under the heap\): call refresh\(\)/.test(error.message));
    heap.refresh();
    heap.check();
    for (const [block] of blocks.splice(0, 100)) heap.free(block);
    for (let index = 200; index < 300; index++) {
      const block = heap.malloc(64);
      new Uint8Array(memory.buffer, block, 64).fill(index & 0xff);
      blocks.push([block, 64, index & 0xff]);
    }
    heap.check();
    for (const [block, size, fill] of blocks) {
      assert.ok(heap.usableSize(block) >= size);
      assert.ok(new Uint8Array(memory.buffer, block, size).every((byte) => byte === fill), `block ${block}`);
    }
    assert.equal(memory.buffer.byteLength, 48 * WASM_PAGE_BYTES);
  });
});
