/**
 * The model both heap property tests replay their random steps against: a Map of live
 * blocks, each tagged with a byte that must survive until the block is freed. The heap side
 * is an adapter, so the same steps drive a Heap (number addresses) and a SpaceHeap (64-bit
 * bigint addresses in an AddressSpace).
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { HeapError } from "../../src/alloc/heap/heap.js";

export type ModelStep =
  | { kind: "malloc"; size: number }
  | { kind: "calloc"; size: number }
  | { kind: "aligned"; size: number; shift: number }
  | { kind: "realloc"; size: number; pick: number }
  | { kind: "free"; pick: number }
  | { kind: "double-free"; pick: number }
  | { kind: "misuse"; pick: number; offset: number };

/** Misuse offsets up to this many bytes are near a block's start (and may pass its end); larger ones land inside it. */
const NEAR_OFFSET_BYTES = 64;

/** What the model needs of a heap; `null` is its null address. */
export interface ModelHeap<A extends number | bigint> {
  null: A;
  malloc(sizeBytes: number): A;
  calloc(sizeBytes: number): A;
  alignedAlloc(alignment: number, sizeBytes: number): A;
  realloc(address: A, sizeBytes: number): A;
  free(address: A): void;
  check(): void;
  /** `address` plus `bytes`. */
  offset(address: A, bytes: number): A;
  /** Marks the block's bytes (or the ones the test can afford to) with `tag`. */
  stamp(address: A, sizeBytes: number, tag: number): void;
  holds(address: A, sizeBytes: number, tag: number): boolean;
  /** After a realloc from `oldSize` to `newSize`: the kept bytes that stamp() covered still hold `tag`. */
  keeps(address: A, oldSize: number, newSize: number, tag: number): boolean;
  /** Whether the block reads as zeros (calloc). */
  zeroed(address: A, sizeBytes: number): boolean;
}

/** The model's block operations over a heap whose blocks are bytes of `bytes` at their addresses. */
export function byteBlockChecks(bytes: Uint8Array): Pick<ModelHeap<number>, "offset" | "stamp" | "holds" | "keeps" | "zeroed"> {
  return {
    offset: (address, n) => address + n,
    stamp: (address, sizeBytes, tag) => void bytes.fill(tag, address, address + sizeBytes),
    holds: (address, sizeBytes, tag) => bytes.subarray(address, address + sizeBytes).every((b) => b === tag),
    keeps: (address, oldSize, newSize, tag) => bytes.subarray(address, address + Math.min(oldSize, newSize)).every((b) => b === tag),
    zeroed: (address, sizeBytes) => bytes.subarray(address, address + sizeBytes).every((b) => b === 0),
  };
}

/** A Heap's or SpaceHeap's own calls, as the model drives them (both share these names). */
export function allocationCalls<A extends number | bigint>(heap: {
  malloc(sizeBytes: number): A;
  calloc(count: number, sizeBytes: number): A;
  alignedAlloc(alignment: number, sizeBytes: number): A;
  realloc(address: A, sizeBytes: number): A;
  free(address: A): void;
  check(): void;
}): Pick<ModelHeap<A>, "malloc" | "calloc" | "alignedAlloc" | "realloc" | "free" | "check"> {
  return {
    malloc: (sizeBytes) => heap.malloc(sizeBytes),
    calloc: (sizeBytes) => heap.calloc(1, sizeBytes),
    alignedAlloc: (alignment, sizeBytes) => heap.alignedAlloc(alignment, sizeBytes),
    realloc: (address, sizeBytes) => heap.realloc(address, sizeBytes),
    free: (address) => heap.free(address),
    check: () => heap.check(),
  };
}

/** Random steps of the given kinds. */
export function modelSteps(size: fc.Arbitrary<number>, kinds: ReadonlyArray<ModelStep["kind"]>, maxLength: number): fc.Arbitrary<ModelStep[]> {
  const all: Record<ModelStep["kind"], fc.Arbitrary<ModelStep>> = {
    malloc: fc.record({ kind: fc.constant("malloc" as const), size }),
    calloc: fc.record({ kind: fc.constant("calloc" as const), size }),
    aligned: fc.record({ kind: fc.constant("aligned" as const), size, shift: fc.integer({ min: 3, max: 18 }) }),
    realloc: fc.record({ kind: fc.constant("realloc" as const), size, pick: fc.nat() }),
    free: fc.record({ kind: fc.constant("free" as const), pick: fc.nat() }),
    // Near a block's start, or (above NEAR_OFFSET_BYTES) anywhere inside it: deep in a large block.
    misuse: fc.record({ kind: fc.constant("misuse" as const), pick: fc.nat(), offset: fc.oneof(fc.integer({ min: 1, max: NEAR_OFFSET_BYTES }), fc.integer({ min: NEAR_OFFSET_BYTES + 1, max: 1 << 30 })) }),
    "double-free": fc.record({ kind: fc.constant("double-free" as const), pick: fc.nat() }),
  };
  return fc.array(fc.oneof(...kinds.map((kind) => all[kind])), { maxLength });
}

/**
 * Replays `steps`, checking after each one that check() passes, no two live blocks overlap
 * and every live block still holds its tag; returns the live blocks left (for the caller to
 * free and check the footprint).
 */
export function replayAgainstModel<A extends number | bigint>(heap: ModelHeap<A>, steps: ModelStep[]): A[] {
  const live = new Map<A, { size: number; tag: number }>();
  const freed: A[] = [];
  let tag = 1;
  const pick = (n: number): A | undefined => [...live.keys()][n % Math.max(1, live.size)];
  for (const step of steps) {
    if (step.kind === "malloc" || step.kind === "calloc" || step.kind === "aligned") {
      const address = step.kind === "aligned" ? heap.alignedAlloc(1 << step.shift, step.size) : step.kind === "malloc" ? heap.malloc(step.size) : heap.calloc(step.size);
      if (address === heap.null) continue;
      if (step.kind === "aligned") assert.equal(Number(BigInt(address) % BigInt(1 << step.shift)), 0, "alignment holds");
      if (step.kind === "calloc") assert.ok(heap.zeroed(address, step.size), "calloc zeroes");
      tag = (tag % 250) + 1;
      heap.stamp(address, step.size, tag);
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
      if (moved === heap.null) continue; // out of memory: the old block stays
      assert.ok(heap.keeps(moved, block.size, step.size, block.tag), "contents survive realloc");
      live.delete(address);
      heap.stamp(moved, step.size, block.tag);
      live.set(moved, { size: step.size, tag: block.tag });
    } else if (step.kind === "free") {
      const address = pick(step.pick);
      if (address === undefined) continue;
      heap.free(address);
      live.delete(address);
      freed.push(address);
    } else if (step.kind === "double-free") {
      // A block freed before (in a free-block cache, a span's free list or given back) and not handed out again.
      const candidates = freed.filter((address) => !live.has(address));
      const address = candidates[step.pick % Math.max(1, candidates.length)];
      if (address === undefined) continue;
      assert.throws(() => heap.free(address), HeapError);
    } else {
      const address = pick(step.pick);
      if (address === undefined) continue;
      if (step.offset <= NEAR_OFFSET_BYTES) {
        assert.throws(() => heap.free(heap.offset(address, step.offset)), HeapError);
      } else {
        const size = live.get(address)!.size;
        if (size < 2) continue;
        const inside = heap.offset(address, 1 + (step.offset % (size - 1)));
        assert.throws(() => heap.free(inside), (error: unknown) => error instanceof HeapError && /an interior pointer/.test(error.message), `free of ${inside} inside the ${size}-byte block at ${address}`);
      }
    }
    heap.check();
    const spans = [...live].map(([address, block]) => [address, heap.offset(address, Math.max(block.size, 1))] as const).sort((a, b) => (a[0] < b[0] ? -1 : 1));
    for (let i = 1; i < spans.length; i++) assert.ok(spans[i][0] >= spans[i - 1][1], "blocks overlap");
    for (const [address, block] of live) assert.ok(heap.holds(address, block.size, block.tag), `block at ${address} was overwritten`);
  }
  return [...live.keys()];
}
