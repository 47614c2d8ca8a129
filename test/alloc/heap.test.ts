import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import type { HeapWorkerInput } from "../workers/heap-worker.js";
import { Heap, HeapError } from "../../src/alloc/heap/heap.js";
import { CLASS_SIZES, classOf } from "../../src/alloc/heap/size-classes.js";
import { Bitmap, DESCRIPTOR_WORDS, DescriptorWord, Geometry, HeaderWord, WORKER_WORDS } from "../../src/alloc/heap/heap-layout.js";
import { metadataLayout } from "../../src/alloc/heap/heap-state.js";
import { BufferMemory } from "../../src/alloc/heap/block-memory.js";
import { spawnSync } from "node:child_process";
import { SpaceHeap } from "../../src/alloc/heap/space-heap.js";
import { allocationCalls, modelSteps, replayAgainstModel, byteBlockChecks } from "./heap-model.js";
import { AddressSpace } from "../../src/space/address-space.js";

const MiB = 1 << 20;

function snapshotOf(heap: Heap, buffer: ArrayBuffer | SharedArrayBuffer): Uint8Array {
  heap.check();
  return new Uint8Array(buffer).slice(0, 4 * MiB); // metadata and the first blocks
}

describe("size classes", () => {
  it("hold every size up to 256 KiB with at most 12.5% waste above 64 B", () => {
    for (let size = 1; size <= 256 * 1024; size++) {
      const block = CLASS_SIZES[classOf(size)];
      assert.ok(block >= size, `size ${size} got class ${block}`);
      if (classOf(size) > 0) assert.ok(CLASS_SIZES[classOf(size) - 1] < size, `size ${size}: a smaller class fits`);
      if (size > 64) assert.ok(block - size <= size / 8, `size ${size}: class ${block} wastes more than 12.5%`);
      assert.equal(block % 8, 0);
    }
  });
});

describe("Heap", () => {
  it("allocates from every tier, frees, and reuses", () => {
    const buffer = new ArrayBuffer(64 * MiB);
    const heap = new Heap(buffer);
    const initial = heap.stats().footprintBytes;
    const blocks = [1, 8, 24, 100, 1000, 1024, 5000, 65536, 256 * 1024, 300_000, 4 * MiB].map((size) => [heap.mallocOrThrow(size), size] as const);
    for (const [address, size] of blocks) {
      assert.equal(address % 8, 0);
      assert.ok(heap.usableSize(address) >= size);
      new Uint8Array(buffer, address, size).fill(0xab);
    }
    heap.check();
    let walked = 0;
    heap.walk(() => walked++);
    assert.equal(walked, blocks.length);
    for (const [address] of blocks) heap.free(address);
    heap.check();
    heap.trim();
    heap.check();
    assert.equal(heap.stats().liveBlocks, 0);
    assert.equal(heap.stats().footprintBytes, initial, "trim gives back every empty span and cached region");
  });

  it("starts on a buffer full of stale bytes exactly as on a fresh one (initialisation clears what is not zero)", () => {
    const run = (buffer: ArrayBuffer): { addresses: number[]; stats: string } => {
      const heap = new Heap(buffer);
      const addresses = [16, 100, 1000, 5000, 300_000].map((size) => heap.mallocOrThrow(size));
      heap.free(addresses[1]);
      addresses.push(heap.mallocOrThrow(90));
      heap.check();
      // A pointer into pages the heap never used: their stale bitmap bits must not make it a block.
      assert.throws(() => heap.free(8 * MiB + 64), HeapError);
      return { addresses, stats: JSON.stringify(heap.stats()) };
    };
    const stale = new ArrayBuffer(16 * MiB);
    new Uint8Array(stale).fill(0xa5);
    assert.deepEqual(run(stale), run(new ArrayBuffer(16 * MiB)));
  });

  it("spans up to 2 GiB: blocks at the top are positive offsets below 2^31; a larger buffer, maxBytes or region is a clear error", () => {
    const heap = new Heap(new ArrayBuffer(2 ** 31)); // virtual: only the pages written become resident
    const large: number[] = [];
    for (let address = heap.malloc(256 * MiB); address !== 0; address = heap.malloc(256 * MiB)) large.push(address);
    assert.ok(large.length >= 6 && large.at(-1)! + 256 * MiB <= 2 ** 31, `${large.length} large blocks`);
    const small = Array.from({ length: 100 }, () => heap.mallocOrThrow(40));
    for (const address of [...large, ...small]) assert.ok(address > 0 && address < 2 ** 31 && heap.usableSize(address) >= 40);
    heap.free(small[7]);
    assert.equal(heap.mallocOrThrow(40), small[7]);
    heap.check();
    assert.throws(() => new Heap(new WebAssembly.Memory({ initial: 1 }), { maxBytes: 3 * 2 ** 30 }), /maxBytes 3221225472: a heap spans at most 2 GiB/);
    assert.throws(() => new SpaceHeap(new AddressSpace(), 0x10000000n, 4 * 2 ** 30), /at most 2 GiB/);
    let big: ArrayBuffer | null = null;
    try {
      big = new ArrayBuffer(2 ** 31 + 16384);
    } catch {
      // this machine will not reserve it: nothing to test
    }
    if (big !== null) assert.throws(() => new Heap(big!), /a buffer of 2147500032 bytes: a heap spans at most 2 GiB/);
  });

  it("a freed small block waits in its worker's cache: the next malloc of the class gets it, misuse of it still fails, check() sees a corrupt cache", () => {
    const buffer = new ArrayBuffer(16 * MiB);
    const heap = new Heap(buffer);
    const words = new Int32Array(buffer);
    const blocks = Array.from({ length: 100 }, () => heap.mallocOrThrow(48));
    heap.free(blocks[10]);
    heap.free(blocks[20]);
    heap.check();
    assert.equal(heap.stats().liveBlocks, 98, "cached blocks are not live");
    // A double free, usableSize and realloc of a cached block are refused and change nothing.
    assert.throws(() => heap.free(blocks[20]), /not allocated/);
    assert.throws(() => heap.usableSize(blocks[10]), HeapError);
    assert.throws(() => heap.realloc(blocks[10], 64), HeapError);
    heap.check();
    // LIFO: the last block freed comes back first, then the one before.
    assert.equal(heap.malloc(41), blocks[20]);
    assert.equal(heap.malloc(48), blocks[10]);
    heap.check();
    // Overwriting a cached block's link (a write after free) is caught by check().
    heap.free(blocks[30]);
    heap.free(blocks[40]);
    heap.check();
    words[blocks[40] >>> 2] = blocks[50]; // now points at a live block
    assert.throws(() => heap.check(), /cache of class 48 B holds live block/);
    words[blocks[40] >>> 2] = blocks[30] + 4; // inside a block
    assert.throws(() => heap.check(), /cache of class 48 B holds .* not a block/);
    words[blocks[40] >>> 2] = blocks[30];
    heap.check();
    // trim() empties the cache into the spans: everything freed gives the footprint back.
    for (const address of blocks) if (address !== blocks[30] && address !== blocks[40]) heap.free(address);
    heap.trim();
    heap.check();
    assert.equal(heap.stats().liveBlocks, 0);
    assert.equal(heap.stats().footprintBytes, new Heap(new ArrayBuffer(16 * MiB)).stats().footprintBytes);
  });

  it("with blockCache off, a free goes straight back to its span (spans empty without trim)", () => {
    const sizes = { on: 0, off: 0 };
    for (const blockCache of [true, false]) {
      const heap = new Heap(new ArrayBuffer(16 * MiB), { blockCache });
      const initial = heap.stats().footprintBytes;
      const blocks = Array.from({ length: 200 }, () => heap.mallocOrThrow(1000));
      for (const address of blocks) heap.free(address);
      heap.check();
      assert.equal(heap.stats().liveBlocks, 0);
      sizes[blockCache ? "on" : "off"] = heap.stats().footprintBytes - initial;
      heap.trim();
      assert.equal(heap.stats().footprintBytes, initial);
    }
    // 200 blocks of 1000 B fill 13 spans of 16 blocks (4 pages); the cache (16 blocks) pins one, the spare is kept either way.
    const spanPages = 4;
    assert.equal(sizes.off, spanPages * (Geometry.PageBytes + 64 + Geometry.PageBytes / 64), "off: only the class's spare span stays (its pages, their descriptors and their share of the bitmap)");
    assert.ok(sizes.on > sizes.off, `on: cached blocks keep their span (${sizes.on} > ${sizes.off})`);
  });

  it("calloc zeroes (also memory a freed large block left dirty) and checks the product", () => {
    const buffer = new ArrayBuffer(32 * MiB);
    const heap = new Heap(buffer, { cacheSlots: 0 });
    const big = heap.malloc(2 * MiB);
    new Uint8Array(buffer, big, 2 * MiB).fill(7);
    heap.free(big);
    const zeroed = heap.calloc(2, MiB);
    assert.ok(new Uint8Array(buffer, zeroed, 2 * MiB).every((byte) => byte === 0));
    const small = heap.malloc(64);
    new Uint8Array(buffer, small, 64).fill(9);
    heap.free(small);
    const again = heap.calloc(8, 8);
    assert.ok(new Uint8Array(buffer, again, 64).every((byte) => byte === 0));
    assert.throws(() => heap.calloc(2 ** 40, 2 ** 20), /calloc\(1099511627776, 1048576\): .* overflows this heap/);
    assert.equal(heap.malloc(64 * MiB), 0, "more than the heap: 0");
    assert.throws(() => heap.mallocOrThrow(64 * MiB), /out of memory: malloc\(67108864\)/);
  });

  it("alignedAlloc honours any power-of-two alignment", () => {
    const heap = new Heap(new ArrayBuffer(64 * MiB));
    for (const alignment of [1, 8, 16, 64, 256, 4096, 65536, 1 << 17, 1 << 20]) {
      for (const size of [1, 100, 5000, 300_000]) {
        const address = heap.alignedAlloc(alignment, size);
        assert.ok(address > 0, `alignment ${alignment}, size ${size}`);
        assert.equal(address % alignment, 0, `alignment ${alignment}, size ${size}: ${address}`);
        assert.ok(heap.usableSize(address) >= size);
      }
    }
    heap.check();
    assert.throws(() => heap.alignedAlloc(24, 10), /alignment 24 is not a power of two/);
    const floats = heap.mallocAs(Float64Array, 100)!;
    floats.fill(1.5);
    assert.equal(floats.byteOffset % 8, 0);
    heap.free(floats.byteOffset);
  });

  it("realloc keeps contents, in place when it can", () => {
    const buffer = new ArrayBuffer(64 * MiB);
    const heap = new Heap(buffer, { cacheSlots: 0 });
    let address = heap.malloc(10);
    new Uint8Array(buffer, address, 10).set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    assert.equal(heap.realloc(address, 16), address, "same class");
    for (const size of [100, 5000, 400_000, 3 * MiB, 2 * MiB, 50]) {
      address = heap.realloc(address, size);
      assert.deepEqual([...new Uint8Array(buffer, address, 10)], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], `after realloc to ${size}`);
      heap.check();
    }
    const large = heap.malloc(MiB);
    assert.equal(heap.realloc(large, 2 * MiB), large, "grows into the free pages after it");
    assert.equal(heap.realloc(large, MiB + 1), large, "shrinks in place");
    heap.check();
  });

  it("refuses misuse with an error naming the address, and changes nothing", () => {
    const buffer = new ArrayBuffer(16 * MiB);
    const heap = new Heap(buffer);
    const small = heap.malloc(48);
    const large = heap.malloc(MiB);
    const freed = heap.malloc(48);
    heap.free(freed);
    const before = snapshotOf(heap, buffer);
    const cases: Array<[() => void, RegExp]> = [
      [() => heap.free(freed), /free\(0x[0-9a-f]+\): not allocated \(a double free\?\)/],
      [() => heap.free(small + 8), /free\(0x[0-9a-f]+\): an interior pointer into the 48-byte block at 0x/],
      [() => heap.free(large + 4096), /an interior pointer into the large block at 0x/],
      [() => heap.free(large + 65536), /an interior pointer into the large block/],
      [() => heap.free(100), /inside the heap's own metadata/],
      [() => heap.free(16 * MiB), /not an address in this heap/],
      [() => heap.free(-8), /not an address in this heap/],
      [() => heap.free(12 * MiB), /free\(0xc00000\): not allocated \(a page this heap has never used\)/],
      [() => heap.realloc(freed, 100), /realloc\(0x[0-9a-f]+\): not allocated/],
      [() => heap.malloc(-1), /malloc: size -1 is not a non-negative integer/],
      [() => heap.malloc(1.5), /not a non-negative integer/],
    ];
    for (const [misuse, message] of cases) {
      assert.throws(misuse, (error: unknown) => error instanceof HeapError && message.test(error.message), String(message));
      assert.deepEqual(snapshotOf(heap, buffer), before, `state changed by ${message}`);
    }
  });

  it("writes a worker's record when its slot is first claimed: a shared backing full of old bytes works with several workers", () => {
    const buffer = new SharedArrayBuffer(16 * MiB);
    new Uint8Array(buffer).fill(0xa5);
    const first = new Heap(buffer);
    const words = new Int32Array(buffer);
    assert.equal(words[HeaderWord.Workers + WORKER_WORDS + 1], 0xa5a5a5a5 | 0, "the second worker's record is untouched until it is claimed");
    const second = new Heap(buffer);
    const blocks = [first.malloc(40), second.malloc(40), first.malloc(5000), second.malloc(300_000)];
    assert.ok(blocks.every((address) => address !== 0));
    second.free(blocks[0]);
    first.free(blocks[1]);
    assert.equal(first.stats().attachedWorkers, 2);
    first.check();
    second.detach();
    const third = new Heap(buffer);
    third.free(blocks[3]);
    first.free(blocks[2]);
    third.check();
    assert.equal(third.stats().liveBlocks, 0);
  });

  it("places each metadata table so the first page of blocks has its entries at the start of a page, all within the metadata pages", () => {
    for (const maxBytes of [64 * 1024, MiB, 24 * MiB + 4096, 512 * MiB, 2 ** 31 - 4096, 2 ** 32]) {
      const { descriptorsWord, bitmapWord, metaPages } = metadataLayout(maxBytes);
      const wordsPerPage = Geometry.PageBytes / 4;
      assert.equal((descriptorsWord + metaPages * DESCRIPTOR_WORDS) % wordsPerPage, 0, `descriptors of ${maxBytes}`);
      assert.equal((bitmapWord + metaPages * Bitmap.WordsPerPage) % wordsPerPage, 0, `bitmap of ${maxBytes}`);
      assert.ok(descriptorsWord >= HeaderWord.DescriptorsStart && bitmapWord >= descriptorsWord + (maxBytes / Geometry.PageBytes) * DESCRIPTOR_WORDS, `tables of ${maxBytes} in order`);
      assert.ok(bitmapWord + Math.ceil(maxBytes / Bitmap.BytesPerWord) <= metaPages * wordsPerPage, `bitmap of ${maxBytes} ends within the metadata`);
    }
  });

  it("clears a page's metadata when it first takes the page: a backing full of old bytes works, and the metadata of pages never used is never touched", () => {
    const buffer = new ArrayBuffer(64 * MiB);
    new Uint8Array(buffer).fill(0xa5); // what an earlier user of the memory left
    const heap = new Heap(buffer);
    const words = new Int32Array(buffer);
    const blocks = Array.from({ length: 2000 }, (_, i) => heap.malloc(16 + (i % 97) * 8));
    const large = heap.malloc(3 * MiB);
    heap.check();
    const cleared = words[HeaderWord.ClearedPages];
    const pageCount = words[HeaderWord.PageCount];
    assert.ok(cleared > words[HeaderWord.MetaPages] && cleared < pageCount / 4, `cleared ${cleared} of ${pageCount} pages`);
    // The descriptor of the heap's last page but one, and the bitmap of its last pages: untouched.
    const descriptorsWord = words[HeaderWord.DescriptorsWord];
    assert.equal(words[descriptorsWord + (pageCount - 2) * DESCRIPTOR_WORDS], 0xa5a5a5a5 | 0);
    assert.equal(words[words[HeaderWord.BitmapWord] + (pageCount - 1) * Bitmap.WordsPerPage], 0xa5a5a5a5 | 0);
    // A pointer into a never-used page, whatever its old descriptor said, is refused.
    const unused = (pageCount - 2) * Geometry.PageBytes;
    assert.throws(() => heap.free(unused), /not allocated \(a page this heap has never used\)/);
    for (const block of blocks) heap.free(block);
    heap.free(large);
    // Growing past the cleared pages, in doublings: a large block near the end still works.
    const big = heap.malloc(40 * MiB);
    assert.notEqual(big, 0);
    assert.ok(words[HeaderWord.ClearedPages] >= (big + 40 * MiB) / Geometry.PageBytes);
    heap.free(big);
    heap.check();
  });

  for (const debug of [false, true]) it(`agrees with a model under random malloc/calloc/realloc/alignedAlloc/free${debug ? " (debug mode)" : ""} (fast-check)`, () => {
    const size = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: 0, max: 1024 }) },
      { weight: 3, arbitrary: fc.integer({ min: 1025, max: 256 * 1024 }) },
      { weight: 1, arbitrary: fc.integer({ min: 256 * 1024 + 1, max: 3 * MiB }) },
    );
    fc.assert(
      fc.property(modelSteps(size, ["malloc", "calloc", "aligned", "realloc", "free", "misuse", "double-free"], 80), (steps) => {
        const buffer = new ArrayBuffer(24 * MiB);
        const heap = new Heap(buffer, { cacheSlots: 4, cacheBytes: 8 * MiB, debug });
        const bytes = new Uint8Array(buffer);
        const initialFootprint = heap.stats().footprintBytes;
        const left = replayAgainstModel<number>(
          {
            null: 0,
            ...allocationCalls(heap),
            ...byteBlockChecks(bytes),
          },
          steps,
        );
        for (const address of left) heap.free(address);
        heap.trim();
        heap.check();
        assert.equal(heap.stats().liveBytes, 0);
        assert.equal(heap.stats().footprintBytes, initialFootprint, "freeing everything (and trim) returns the footprint to the start");
      }),
      { numRuns: debug ? 40 : 120 },
    );
  });

  it("debug mode: a canary catches overruns at free (nothing changed), freed memory is poisoned", () => {
    const buffer = new ArrayBuffer(16 * MiB);
    const heap = new Heap(buffer, { debug: true });
    const bytes = new Uint8Array(buffer);
    const block = heap.malloc(20);
    assert.equal(heap.usableSize(block), 20, "debug mode reports the size asked for");
    bytes.fill(1, block, block + 20);
    const moved = heap.realloc(block, 40);
    assert.ok(bytes.subarray(moved, moved + 20).every((b) => b === 1), "realloc keeps contents");
    assert.ok(bytes.subarray(block + 4, block + 24).every((b) => b === 0xdd), "the old block is poisoned");
    bytes[moved + 40] = 7; // one byte past the end
    const before = snapshotOf(heap, buffer);
    assert.throws(() => heap.free(moved), /free\(0x[0-9a-f]+\): buffer overrun past the 40-byte block: the canary at 0x[0-9a-f]+ was overwritten/);
    assert.deepEqual(snapshotOf(heap, buffer), before, "a refused free changes nothing");
    const large = heap.malloc(300_000);
    bytes[large + 300_000 + 2] ^= 0xff;
    assert.throws(() => heap.free(large), /overrun past the 300000-byte block/);
    bytes[large + 300_000 + 2] ^= 0xff;
    heap.free(large);
    const zeroed = heap.calloc(10, 10);
    assert.ok(bytes.subarray(zeroed, zeroed + 100).every((b) => b === 0));
    assert.equal(heap.alignedAlloc(4096, 100) % 4096, 0);
    heap.check();
    assert.equal(new Heap(buffer).usableSize(zeroed), 100, "a second handle sees the heap's debug mode");
  });

  it("workers share a SharedArrayBuffer heap: each frees blocks the others allocated, detached workers' spans are adopted", async () => {
    const buffer = new SharedArrayBuffer(64 * MiB);
    const heap = new Heap(buffer);
    const initialFootprint = heap.stats().footprintBytes;
    const bytes = new Uint8Array(buffer);
    let inherited: Array<[number, number]> = [];
    // Three rounds of two workers: each round frees what the last one left behind (blocks of
    // spans whose workers detached) and reuses the same two worker slots.
    for (let round = 0; round < 3; round++) {
      const mailbox = new SharedArrayBuffer((2 * (1024 + 2) + 1) * 4);
      const halves = [inherited.filter((_, i) => i % 2 === 0), inherited.filter((_, i) => i % 2 === 1)];
      const workers = [0, 1].map(
        (index) =>
          new Worker(new URL("../workers/heap-worker.js", import.meta.url), {
            workerData: { buffer, mailbox, index, blocks: 4000, maxBytes: round === 1 ? 70_000 : 2000, inherited: halves[index], tag: 2 * round + index + 1, peerTag: 2 * round + (1 - index) + 1 } satisfies HeapWorkerInput,
          }),
      );
      const results = await Promise.all(workers.map((worker) => once(worker, "message").then(([result]) => result as { held: Array<[number, number]>; received: number; error: string | null })));
      for (const result of results) {
        assert.equal(result.error, null, result.error ?? "");
        assert.equal(result.received, 2000, "every block the peer handed over was freed here");
      }
      heap.check();
      inherited = [...results[0].held, ...results[1].held];
      const stats = heap.stats();
      assert.equal(stats.liveBlocks, inherited.length);
      assert.equal(stats.attachedWorkers, 1, "the workers detached; only this thread's heap is attached");
    }
    // This thread frees the last round's blocks: into spans nobody owns (through the orphan inbox).
    for (const [address, tag] of inherited) {
      assert.equal(bytes[address], tag);
      heap.free(address);
    }
    assert.throws(() => heap.free(inherited[0][0]), /not allocated/, "a double free of a remote block is refused");
    heap.trim();
    heap.check();
    assert.equal(heap.stats().liveBlocks, 0);
    // The records of the two worker slots were touched, so they stay in the footprint.
    assert.equal(heap.stats().footprintBytes, initialFootprint + 2 * WORKER_WORDS * 4, "every span went back to the pages");
  });

  it("a block freed by another handle goes to its owner's inbox until the owner allocates again", () => {
    const buffer = new SharedArrayBuffer(16 * MiB);
    const owner = new Heap(buffer);
    const other = new Heap(buffer);
    assert.notEqual(owner.workerId, other.workerId);
    const blocks = Array.from({ length: 100 }, () => owner.malloc(48));
    for (const block of blocks) other.free(block);
    assert.equal(owner.stats().pendingRemoteFrees, 100);
    assert.equal(owner.stats().liveBlocks, 0);
    owner.check();
    assert.throws(() => other.free(blocks[5]), /not allocated/, "double free while the block waits in the inbox");
    assert.throws(() => owner.free(blocks[5]), /not allocated/);
    // The owner's span has room (bump), so the inbox waits until the class runs out.
    const again = Array.from({ length: 400 }, () => owner.malloc(48));
    assert.equal(new Set(again).size, 400);
    owner.check();
    for (const block of again) other.free(block);
    owner.trim();
    owner.check();
    assert.equal(owner.stats().pendingRemoteFrees, 0);
    other.detach();
    assert.throws(() => other.malloc(8), /detached/);
    assert.equal(owner.stats().attachedWorkers, 1);
    const handles = Array.from({ length: 15 }, () => new Heap(buffer));
    assert.throws(() => new Heap(buffer), /all 16 worker slots/);
    for (const handle of handles) handle.detach();
    owner.check();
  });

  it("grows a WebAssembly.Memory when full, and a second handle attaches to a SharedArrayBuffer heap", () => {
    const memory = new WebAssembly.Memory({ initial: 40, maximum: 400 });
    const heap = new Heap(memory, { maxBytes: 400 * 65536 });
    const blocks: number[] = [];
    for (let i = 0; i < 12; i++) blocks.push(heap.mallocOrThrow(MiB));
    assert.ok(memory.buffer.byteLength > 40 * 65536, "the memory grew");
    heap.check();
    for (const block of blocks) heap.free(block);
    heap.check();

    const shared = new SharedArrayBuffer(16 * MiB);
    const first = new Heap(shared);
    const block = first.malloc(200);
    const second = new Heap(shared);
    assert.equal(second.usableSize(block), 208);
    second.free(block);
    assert.throws(() => first.free(block), /not allocated/);
    first.check();
  });

  it("evicts a cached large block after cacheAgeOps large-block operations without reuse", () => {
    const evictionsWith = (options: { cacheAgeOps?: number }): number => {
      const heap = new Heap(new ArrayBuffer(64 * MiB), options);
      heap.free(heap.mallocOrThrow(MiB)); // cached
      heap.mallocOrThrow(2 * MiB); // too large for it: a miss, one operation later
      heap.mallocOrThrow(2 * MiB); // two operations later
      heap.check();
      return heap.stats().regionCache.evictions;
    };
    assert.equal(evictionsWith({}), 0);
    assert.equal(evictionsWith({ cacheAgeOps: 1 }), 1);
  });

  it("takes runs of 64 KiB or more in whole 64 KiB granules, granule-aligned, and from the lowest free run that fits", () => {
    const granuleBytes = 16 * Geometry.PageBytes;
    const heap = new Heap(new ArrayBuffer(64 * MiB), { cacheSlots: 0 });
    const large = [300 << 10, 260 << 10, 300 << 10, 270 << 10, 300 << 10].map((size) => heap.mallocOrThrow(size));
    // A medium class's span (four 70 KiB blocks) is a run of granules too: its first block starts one.
    const medium = heap.mallocOrThrow(70 << 10);
    for (const block of [...large, medium]) assert.equal(block % granuleBytes, 0, `block ${block} starts a granule`);
    for (const block of large) assert.equal(heap.usableSize(block) % granuleBytes, 0, `block ${block} is whole granules`);
    assert.equal(heap.usableSize(large[0]), 320 << 10);
    // Freed lower-first (a last-in-first-out bin would give the higher hole): a request
    // that fits either hole takes the lower one, then the other.
    heap.free(large[0]);
    heap.free(large[2]);
    heap.free(large[4]);
    assert.equal(heap.mallocOrThrow(290 << 10), large[0]);
    assert.equal(heap.mallocOrThrow(290 << 10), large[2]);
    heap.check(); // which also checks the bins' address order (as in every fuzz step below)
  });

  it("grows a large block in place into a cached run right after it, rather than move it", () => {
    const heap = new Heap(new ArrayBuffer(64 * MiB), { cachePolicy: "fixed" });
    const first = heap.mallocOrThrow(MiB);
    const second = heap.mallocOrThrow(MiB);
    heap.mallocOrThrow(MiB); // keeps the free pages away from the second block's end
    assert.equal(second, first + MiB, "adjacent");
    heap.free(second);
    assert.equal(heap.stats().regionCache.cachedBytes, MiB);
    assert.equal(heap.realloc(first, 2 * MiB), first, "grown in place");
    const { evictions, cachedBytes } = heap.stats().regionCache;
    assert.deepEqual([evictions, cachedBytes], [1, 0]);
    heap.check();
  });

  it("adaptive region cache: closes while growing blocks move (free pages let them grow in place), and opens again when freed sizes come back", () => {
    const heap = new Heap(new ArrayBuffer(256 * MiB), { cachePolicy: "adaptive" });
    const fixed = new Heap(new ArrayBuffer(256 * MiB), { cachePolicy: "fixed" });
    // Growing blocks, as realloc-grow: each grows by half until 4 MiB, then starts again.
    const grow = (target: Heap): void => {
      const blocks = Array.from({ length: 8 }, () => target.mallocOrThrow(300 * 1024));
      for (let step = 0; step < 2000; step++) {
        const index = step % blocks.length;
        const size = target.usableSize(blocks[index]);
        if (size > 4 * MiB) {
          target.free(blocks[index]);
          blocks[index] = target.mallocOrThrow(300 * 1024);
        } else blocks[index] = target.realloc(blocks[index], Math.ceil(size * 1.5));
      }
      for (const block of blocks) target.free(block);
      target.check();
    };
    grow(heap);
    grow(fixed);
    assert.equal(heap.stats().regionCache.slotLimit, 0, "closed");
    assert.equal(fixed.stats().regionCache.slotLimit, 16, "a fixed policy keeps its limit");
    // Now a cycle of the same two sizes, freed and allocated again: misses its ghosts would have served.
    const hitsBefore = heap.stats().regionCache.hits;
    for (let cycle = 0; cycle < 200; cycle++) {
      const a = heap.mallocOrThrow(MiB);
      const b = heap.mallocOrThrow(2 * MiB);
      heap.free(a);
      heap.free(b);
    }
    const { slotLimit, hits } = heap.stats().regionCache;
    assert.ok(slotLimit > 0, `opened again: ${slotLimit} slots`);
    assert.ok(hits - hitsBefore > 300, `${hits - hitsBefore} hits`);
    heap.check();
  });

  it("adaptive region cache: closes when it only evicts (every size used once), not when it also has hits", () => {
    const useEachSizeOnce = (target: Heap): void => {
      // Each request is larger than every cached run, so none is a hit.
      for (let i = 0; i < 200; i++) target.free(target.mallocOrThrow((260 << 10) + i * (64 << 10)));
      target.check();
    };
    const heap = new Heap(new ArrayBuffer(256 * MiB), { cachePolicy: "adaptive" });
    const fixed = new Heap(new ArrayBuffer(256 * MiB), { cachePolicy: "fixed" });
    useEachSizeOnce(heap);
    useEachSizeOnce(fixed);
    assert.equal(heap.stats().regionCache.hits, 0);
    assert.ok(heap.stats().regionCache.slotLimit < 16, `closed down to ${heap.stats().regionCache.slotLimit} slots`);
    assert.equal(fixed.stats().regionCache.slotLimit, 16);
    // The same evictions beside one size used over and over: windows with hits keep the limit.
    const reused = new Heap(new ArrayBuffer(256 * MiB), { cachePolicy: "adaptive" });
    for (let i = 0; i < 200; i++) {
      reused.free(reused.mallocOrThrow(MiB));
      reused.free(reused.mallocOrThrow((260 << 10) + i * (64 << 10)));
    }
    const { slotLimit, hits, evictions } = reused.stats().regionCache;
    assert.ok(evictions > 100 && hits > 100, `${evictions} evictions, ${hits} hits`);
    assert.equal(slotLimit, 16);
  });

  it("runs over any BlockMemory: pages are mapped when blocks take them and unmapped (then read as zero) when they go back", () => {
    const calls: string[] = [];
    class RecordingMemory extends BufferMemory {
      override mapPages(firstPage: number, pageCount: number): void {
        calls.push(`map ${firstPage}+${pageCount}`);
      }
      override unmapPages(firstPage: number, pageCount: number): boolean {
        calls.push(`unmap ${firstPage}+${pageCount}`);
        this.fill(firstPage << Geometry.PageShift, pageCount << Geometry.PageShift, 0);
        return true;
      }
    }
    const buffer = new ArrayBuffer(16 * MiB);
    const heap = new Heap(new RecordingMemory(buffer, buffer.byteLength), { cacheSlots: 0 });
    const block = heap.mallocOrThrow(MiB);
    const page = block >>> Geometry.PageShift;
    const pages = MiB >>> Geometry.PageShift;
    assert.deepEqual(calls, [`map ${page}+${pages}`]);
    new Uint8Array(buffer, block, MiB).fill(7);
    heap.free(block);
    assert.deepEqual(calls, [`map ${page}+${pages}`, `unmap ${page}+${pages}`]);
    const again = heap.calloc(1, MiB);
    assert.equal(again, block);
    assert.ok(new Uint8Array(buffer, again, MiB).every((byte) => byte === 0));
    heap.check();
  });

  it("keeps a block's links in the memory when its blocks are outside the views; a subclass of Heap is refused such a memory", () => {
    class OutsideMemory extends BufferMemory {
      override readonly blocksInViews = false;
      readonly blockWords = new Int32Array(this.words.length);
      override load32(address: number): number {
        return this.blockWords[address >>> 2];
      }
      override store32(address: number, value: number): void {
        this.blockWords[address >>> 2] = value;
      }
    }
    const buffer = new ArrayBuffer(4 * MiB);
    const memory = new OutsideMemory(buffer, buffer.byteLength);
    const heap = new Heap(memory);
    const blocks = Array.from({ length: 100 }, () => heap.mallocOrThrow(64));
    for (const block of blocks) heap.free(block);
    assert.ok(blocks.some((block) => memory.blockWords[block >>> 2] !== 0), "the free lists' links are in the memory's blocks");
    assert.ok(blocks.every((block) => memory.words[block >>> 2] === 0), "and not in its views");
    assert.deepEqual(Array.from({ length: 100 }, () => heap.mallocOrThrow(64)).sort(), [...blocks].sort());
    heap.check();
    class CountingHeap extends Heap {}
    assert.throws(() => new CountingHeap(new OutsideMemory(new ArrayBuffer(MiB), MiB)), /a subclass of Heap takes only a memory whose blocks are in its views/);
  });
});

describe("debug checks (MEMSPACE_DEBUG=1)", () => {
  // A child process: the switch is read once, when the module loads.
  const heapModule = new URL("../../src/alloc/heap/heap.js", import.meta.url).href;
  const corruptThenTrim = `
    import { Heap } from ${JSON.stringify(heapModule)};
    const buffer = new ArrayBuffer(8 << 20);
    const heap = new Heap(buffer);
    const address = heap.malloc(64);
    heap.free(address); // into the free-block cache: its span still counts it used
    const page = address >>> ${Geometry.PageShift};
    const words = new Int32Array(buffer);
    words[words[${HeaderWord.DescriptorsWord}] + (page << ${Geometry.DescriptorShift}) + ${DescriptorWord.Used}] = 0;
    try {
      heap.trim();
      console.log("no error");
    } catch (error) {
      console.log(error.message);
    }`;
  const run = (debug: string): string => {
    const child = spawnSync(process.execPath, ["--input-type=module", "-e", corruptThenTrim], { env: { ...process.env, MEMSPACE_DEBUG: debug }, encoding: "utf8" });
    assert.equal(child.status, 0, child.stderr);
    return child.stdout.trim();
  };

  it("catch a span whose used count was overwritten when a block goes back to it", () => {
    assert.match(run("1"), /^heap corrupt: span at page \d+ gets block 0x[0-9a-f]+ back with no block in use$/);
  });

  it("stay off without the switch: the same corruption goes unnoticed", () => {
    assert.equal(run("0"), "no error");
  });
});
