/**
 * Huge frames behind large blocks: a SpaceHeap's 256 MiB of 8 MiB blocks on three spaces,
 *   huge:     frames from a FrameAllocator with free order-9 runs (each 2 MiB run one huge leaf);
 *   4k:       the default private frame store (4 KiB frames, one page-table entry each);
 *   fallback: a FrameAllocator fragmented so that no order-9 run is free (huge frames asked for, 4 KiB got).
 * Phases: malloc (maps, and asks for huge frames), first touch (a store every 64 bytes), sweep (a load
 * every 64 bytes), random (8-byte loads at random 8-byte-aligned offsets), fork-write (a snapshot, then one
 * store per 2 MiB of one block: the copy-on-write cost). Prints milliseconds per phase (best of the rounds) and the
 * page-table entries (4 KiB entries plus huge leaves).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/huge-frames.js [rounds]
 */
import { FrameAllocator } from "../src/alloc/frames/frame-allocator.js";
import { SpaceHeap } from "../src/alloc/heap/space-heap.js";
import { AddressSpace } from "../src/space/address-space.js";

const MIB = 1024 * 1024;
const PAGE_BYTES = 4096;
const HUGE_PAGES = 512;
const BLOCK_BYTES = 8 * MIB;
const BLOCK_COUNT = 32;
const HEAP_BYTES = 512 * MIB;
/** The heap's region: 2 MiB aligned, high half 0x10, so a region offset is the low half. */
const HEAP_HIGH = 0x10;
const HEAP_BASE = BigInt(HEAP_HIGH) << 32n;
const STRIDE_BYTES = 64;
const RANDOM_LOADS = 4_000_000;
const HUGE_RUN_BYTES = HUGE_PAGES * PAGE_BYTES;
/** Frames of the allocators: the blocks, the heap's small pages, and room for the copies of one block's leaves. */
const POOL_FRAMES = (BLOCK_COUNT * BLOCK_BYTES) / PAGE_BYTES + 16 * HUGE_PAGES;
const CONFIGS = ["huge", "4k", "fallback"] as const;
type Config = (typeof CONFIGS)[number];

function spaceFor(config: Config): AddressSpace {
  if (config === "4k") return new AddressSpace();
  const allocator = FrameAllocator.create({ frames: config === "fallback" ? POOL_FRAMES + POOL_FRAMES / HUGE_PAGES : POOL_FRAMES, backed: true });
  if (config === "fallback") {
    // Every frame taken, then all but one frame of each 2 MiB child given back.
    const taken: number[] = [];
    for (let frame = allocator.get(0); frame >= 0; frame = allocator.get(0)) taken.push(frame);
    for (const frame of taken) if (frame % HUGE_PAGES !== 0) allocator.put(frame, 0);
  }
  return new AddressSpace({ frames: allocator });
}

function timed(body: () => void): number {
  const start = performance.now();
  body();
  return performance.now() - start;
}

function randomOffsets(): Int32Array {
  const offsets = new Int32Array(RANDOM_LOADS);
  let state = 0x2545f491;
  for (let k = 0; k < RANDOM_LOADS; k++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    offsets[k] = ((state >>> 0) % ((BLOCK_COUNT * BLOCK_BYTES) / 8)) * 8;
  }
  return offsets;
}

function runOnce(config: Config, offsets: Int32Array): Record<string, number> {
  const space = spaceFor(config);
  const heap = new SpaceHeap(space, HEAP_BASE, HEAP_BYTES);
  const blockLows: number[] = [];
  const times: Record<string, number> = {};
  times.malloc = timed(() => {
    for (let k = 0; k < BLOCK_COUNT; k++) blockLows.push(Number(heap.mallocOrThrow(BLOCK_BYTES) - HEAP_BASE));
  });
  const access = space.access;
  times.touch = timed(() => {
    for (const low of blockLows) for (let at = 0; at < BLOCK_BYTES; at += STRIDE_BYTES) access.store32(low + at, HEAP_HIGH, at);
  });
  let sum = 0;
  times.sweep = timed(() => {
    for (const low of blockLows) for (let at = 0; at < BLOCK_BYTES; at += STRIDE_BYTES) sum = (sum + access.load32(low + at, HEAP_HIGH)) | 0;
  });
  // Offsets over the blocks as if they were one array: block k / 8 MiB, then the offset in it.
  times.random = timed(() => {
    for (let k = 0; k < RANDOM_LOADS; k++) {
      const offset = offsets[k];
      sum = (sum + access.load64(blockLows[(offset / BLOCK_BYTES) | 0] + (offset % BLOCK_BYTES), HEAP_HIGH)) | 0;
    }
  });
  const stats = space.stats();
  times.entries = stats.touchedPages - stats.hugeLeaves * HUGE_PAGES + stats.hugeLeaves;
  times.hugeLeaves = stats.hugeLeaves;
  times["fork-write"] = timed(() => {
    space.snapshot();
    for (let at = 0; at < BLOCK_BYTES; at += HUGE_RUN_BYTES) access.store32(blockLows[0] + at, HEAP_HIGH, 1);
  });
  if (sum === 0x7fffffff) console.log("");
  return times;
}

const rounds = Number(process.argv[2] ?? 3);
const offsets = randomOffsets();
const best = new Map<Config, Record<string, number>>();
for (let round = 0; round < rounds; round++) {
  for (const config of CONFIGS) {
    const times = runOnce(config, offsets);
    const previous = best.get(config);
    if (previous === undefined) best.set(config, times);
    else for (const key of Object.keys(times)) previous[key] = Math.min(previous[key], times[key]);
  }
}
const phases = ["malloc", "touch", "sweep", "random", "fork-write"];
console.log(`${BLOCK_COUNT} x ${BLOCK_BYTES / MIB} MiB blocks, best of ${rounds} rounds (ms)`);
console.log(["config", ...phases, "table entries", "huge leaves"].join("\t"));
for (const config of CONFIGS) {
  const times = best.get(config)!;
  console.log([config, ...phases.map((phase) => times[phase].toFixed(1)), times.entries, times.hugeLeaves].join("\t"));
}
