/** What bench/frames.ts and its workers exchange. */
import type { FrameAllocatorKind } from "../src/alloc/frames/allocator-kinds.js";

export type FramesBenchmark = "bulk" | "repeat" | "rand";

export interface FramesWorkerInput {
  kind: FrameAllocatorKind;
  buffer: SharedArrayBuffer;
  /** Barrier words, then the shared array of held frames (rand). */
  control: SharedArrayBuffer;
  worker: number;
  workers: number;
  benchmark: FramesBenchmark;
  order: number;
  frameCount: number;
  /** get+put pairs per worker per run (repeat, rand). */
  pairs: number;
  /** bulk: fill-and-empty rounds per run (more for huge frames, so a run is long enough to time). */
  bulkRounds: number;
  runs: number;
  seed: number;
}

export interface FramesRunTiming {
  nsPerGet: number;
  nsPerPut: number;
  nsPerPair: number;
}

export const enum Barrier {
  Count = 0,
  Generation = 1,
  Words = 16,
}

export function controlBytes(heldSlots: number): number {
  return Barrier.Words * 4 + heldSlots * 4;
}
