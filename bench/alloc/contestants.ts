/**
 * The allocator benchmark's contestants: the JS allocators (the memspace Heap, @thi.ng/malloc's
 * MemPool, the floor allocator and the JS replay loop's do-nothing allocator), each driven through JsAllocator,
 * and the native ones the C driver runs (glibc, and mimalloc and jemalloc by LD_PRELOAD).
 */
import { join } from "node:path";
import type * as ThingMalloc from "@thi.ng/malloc";
import { Heap, type HeapOptions } from "../../src/alloc/heap/heap.js";
import { importOptional } from "../harness/optional-package.js";
import { floorAllocator } from "./floor-allocator.js";

/** Each JS allocator's buffer. */
export const HEAP_BYTES = 512 << 20;
const LIB_DIR = "/usr/lib/x86_64-linux-gnu";
export const NATIVE: Array<{ name: string; preload: string | null }> = [
  { name: "glibc", preload: null },
  { name: "mimalloc", preload: join(LIB_DIR, "libmimalloc.so.2") },
  { name: "jemalloc", preload: join(LIB_DIR, "libjemalloc.so.2") },
];
/**
 * Beside the allocators, each replay loop with an allocator that does nothing (every block is
 * the same one): what the loop itself costs per op, in JS and in C, so the table can show
 * what each allocator adds to its loop ("net ns/op").
 */
export const JS_LOOP = "loop-js";
export const C_LOOP = "loop-c";
export const THING = "thi.ng";
/** The least a JS allocator can do on the same loop (floor-allocator.ts): a yardstick for the JS heaps. */
export const FLOOR = "floor-js";
/** floor-js with the Heap's one misuse check on free (a live bit per granule): what that check alone costs. */
export const FLOOR_CHECKED = "floor-js-checked";
/** THING's package: a devDependency, so an installed memspace runs without it unless it is installed. */
export const THING_PACKAGE = "@thi.ng/malloc";
export const JS_ALLOCATORS = ["memspace", THING, FLOOR, FLOOR_CHECKED, JS_LOOP] as const;
/** The block the loops' do-nothing allocators hand out: past the null address, 8-aligned. */
const LOOP_BLOCK_ADDRESS = 64;
export type JsAllocatorName = (typeof JS_ALLOCATORS)[number];
/** Every allocator the bench knows, as --allocators names them. */
export const ALLOCATORS = [...JS_ALLOCATORS, ...NATIVE.map((native) => native.name), C_LOOP];

/** The one interface both JS allocators are driven through (addresses are byte offsets). */
export interface JsAllocator {
  bytes: Uint8Array;
  malloc(size: number): number;
  free(address: number): void;
  realloc(address: number, size: number): number;
  peakFootprintBytes(): number;
  /** Footprint now (for an untimed pass that tracks the peak op by op). */
  sampleFootprint(): number;
}

export type ThingMallocModule = typeof ThingMalloc;

export function loadThingMalloc(): Promise<ThingMallocModule | null> {
  return importOptional<ThingMallocModule>(THING_PACKAGE);
}

/** `thingMalloc`: THING_PACKAGE, loaded by the caller (needed for THING only). */
export function createJsAllocator(name: JsAllocatorName, heapOptions: HeapOptions, thingMalloc: ThingMallocModule | null): JsAllocator {
  if (name === "memspace") {
    const buffer = new ArrayBuffer(HEAP_BYTES);
    const heap = new Heap(buffer, heapOptions);
    return {
      bytes: new Uint8Array(buffer),
      malloc: (size) => heap.malloc(size),
      free: (address) => heap.free(address),
      realloc: (address, size) => heap.realloc(address, size),
      peakFootprintBytes: () => heap.stats().peakFootprintBytes,
      sampleFootprint: () => heap.footprintBytes(),
    };
  }
  if (name === FLOOR || name === FLOOR_CHECKED) {
    const floor = floorAllocator(HEAP_BYTES, name === FLOOR_CHECKED);
    return { ...floor, peakFootprintBytes: floor.footprintBytes, sampleFootprint: floor.footprintBytes };
  }
  if (name === JS_LOOP) {
    return {
      bytes: new Uint8Array(HEAP_BYTES),
      malloc: () => LOOP_BLOCK_ADDRESS,
      free: () => {},
      realloc: () => LOOP_BLOCK_ADDRESS,
      peakFootprintBytes: () => 0,
      sampleFootprint: () => 0,
    };
  }
  if (thingMalloc === null) throw new Error(`${THING_PACKAGE} is not installed`);
  // Footprint: MemPool's "top" (its bump pointer: memory beyond it was never used),
  // sampled by footprintPass.
  const pool = new thingMalloc.MemPool({ size: HEAP_BYTES });
  return {
    bytes: new Uint8Array(pool.buf),
    malloc: (size) => pool.malloc(size),
    free: (address) => void pool.free(address),
    realloc: (address, size) => pool.realloc(address, size),
    peakFootprintBytes: () => pool.stats().top,
    sampleFootprint: () => pool.stats().top,
  };
}
