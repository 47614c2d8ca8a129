/**
 * The allocator benchmark's workloads: fixed seeded operation sequences over numbered
 * slots, so every allocator (ours, @thi.ng/malloc, and the C driver for glibc, mimalloc and
 * jemalloc) replays exactly the same requests. Each op is three Int32s: kind, slot, size.
 */
import { Random } from "../../src/util/random.js";

export const enum AllocOp {
  Malloc = 1,
  Free = 2,
  Realloc = 3,
  /** Write a byte in every 4 KiB page of the slot's block (the `vm` workload). */
  Touch = 4,
}

export const WORKLOADS = ["larson", "tiny-churn", "alloc-test", "vm", "realloc-grow", "mixed", "cycle-1k", "cycle-16k", "cycle-1m"] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface OpSequence {
  ops: Int32Array;
  opCount: number;
  slots: number;
  /** The most bytes the sequence has live at once (requested sizes). */
  peakLiveBytes: number;
}

class Builder {
  private ops: number[] = [];
  private live: number[];
  private liveBytes = 0;
  peakLiveBytes = 0;

  constructor(readonly slots: number) {
    this.live = new Array<number>(slots).fill(-1);
  }

  isLive(slot: number): boolean {
    return this.live[slot] >= 0;
  }

  sizeOf(slot: number): number {
    return this.live[slot];
  }

  malloc(slot: number, size: number): void {
    this.ops.push(AllocOp.Malloc, slot, size);
    this.live[slot] = size;
    this.account(size);
  }

  free(slot: number): void {
    this.ops.push(AllocOp.Free, slot, 0);
    this.account(-this.live[slot]);
    this.live[slot] = -1;
  }

  realloc(slot: number, size: number): void {
    this.ops.push(AllocOp.Realloc, slot, size);
    this.account(size - this.live[slot]);
    this.live[slot] = size;
  }

  touch(slot: number): void {
    this.ops.push(AllocOp.Touch, slot, this.live[slot]);
  }

  finish(): OpSequence {
    for (let slot = 0; slot < this.slots; slot++) if (this.isLive(slot)) this.free(slot);
    return { ops: Int32Array.from(this.ops), opCount: this.ops.length / 3, slots: this.slots, peakLiveBytes: this.peakLiveBytes };
  }

  private account(bytes: number): void {
    this.liveBytes += bytes;
    this.peakLiveBytes = Math.max(this.peakLiveBytes, this.liveBytes);
  }
}

/** alloc-test's live set: the original's `maxItems = 1 << 18` on one thread. */
const ALLOC_TEST_SLOTS = 1 << 18;

/** Random replacement in a live set: each step frees the slot's block (if any) and allocates anew. */
function replacement(builder: Builder, random: Random, steps: number, size: () => number): void {
  for (let step = 0; step < steps; step++) {
    const slot = random.below(builder.slots);
    if (builder.isLive(slot)) builder.free(slot);
    builder.malloc(slot, size());
  }
}

/**
 * The Heap's own tiers, one a workload: each cycle allocates `blocks` blocks of `sizeBytes`,
 * then frees them in the order they came; cycles enough for about `steps` mallocs.
 */
function cycles(builder: Builder, steps: number, sizeBytes: number): void {
  for (let cycle = 0; cycle < Math.max(1, Math.round(steps / builder.slots)); cycle++) {
    for (let slot = 0; slot < builder.slots; slot++) builder.malloc(slot, sizeBytes);
    for (let slot = 0; slot < builder.slots; slot++) builder.free(slot);
  }
}

/**
 * `liveSlots` overrides the size of the live set of the random-replacement workloads (larson:
 * 10,000 blocks, as in mimalloc-bench; alloc-test: 2^18, as the original alloc-test run by
 * mimalloc-bench keeps on one thread). Footprint/live depends on it: a small live set is
 * dominated by each size class's partly filled page.
 */
export function buildWorkload(workload: Workload, scale: number, liveSlots?: number): OpSequence {
  const random = new Random(0x5eed + WORKLOADS.indexOf(workload));
  const steps = Math.round(scale);
  switch (workload) {
    case "larson": {
      const builder = new Builder(liveSlots ?? 10_000);
      replacement(builder, random, steps, () => 8 + random.below(1017));
      return builder.finish();
    }
    case "alloc-test": {
      // Pareto (alpha 1.5) from 8 B, capped at 1 KiB: many small, a long tail.
      const builder = new Builder(liveSlots ?? ALLOC_TEST_SLOTS);
      replacement(builder, random, steps, () => Math.min(1024, Math.floor(8 / Math.pow(1 - random.next(), 1 / 1.5))));
      return builder.finish();
    }
    case "tiny-churn": {
      // LIFO: a stack of 16-64 B blocks that grows and shrinks in bursts.
      const builder = new Builder(4_096);
      let depth = 0;
      for (let step = 0; step < steps; step++) {
        const push = depth === 0 || (depth < builder.slots && random.below(2) === 0);
        const burst = 1 + random.below(32);
        for (let i = 0; i < burst; i++) {
          if (push && depth < builder.slots) builder.malloc(depth++, 16 + random.below(49));
          else if (!push && depth > 0) builder.free(--depth);
        }
      }
      return builder.finish();
    }
    case "vm": {
      const builder = new Builder(8);
      for (let step = 0; step < steps / 64; step++) {
        const slot = random.below(builder.slots);
        if (builder.isLive(slot)) builder.free(slot);
        builder.malloc(slot, 2 << 20);
        builder.touch(slot);
      }
      return builder.finish();
    }
    case "realloc-grow": {
      const builder = new Builder(64);
      for (let step = 0; step < steps / 4; step++) {
        const slot = random.below(builder.slots);
        if (!builder.isLive(slot)) builder.malloc(slot, 16);
        else if (builder.sizeOf(slot) > 1 << 20) builder.free(slot);
        else builder.realloc(slot, Math.ceil(builder.sizeOf(slot) * 1.5));
      }
      return builder.finish();
    }
    case "cycle-1k": {
      // 100 x 1 KiB: a small size class, its blocks from one span.
      const builder = new Builder(100);
      cycles(builder, steps, 1 << 10);
      return builder.finish();
    }
    case "cycle-16k": {
      // 100 x 16 KiB: a medium class, a page a block.
      const builder = new Builder(100);
      cycles(builder, steps, 16 << 10);
      return builder.finish();
    }
    case "cycle-1m": {
      // 10 x 1 MiB: large blocks, runs of pages (the region cache's reuse).
      const builder = new Builder(10);
      cycles(builder, steps, 1 << 20);
      return builder.finish();
    }
    case "mixed": {
      // Log-uniform from 8 B to 4 MiB.
      const builder = new Builder(200);
      replacement(builder, random, steps / 4, () => Math.floor(8 * Math.pow(2, random.next() * 19)));
      return builder.finish();
    }
  }
}
