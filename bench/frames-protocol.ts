/** What bench/frames.ts and its workers exchange. */
import type { FrameAllocatorKind } from "../src/alloc/frames/allocator-kinds.js";

export type FramesBenchmark = "bulk" | "repeat" | "rand";

/**
 * The machine's own scaling, as a reference beside LLFree's: every worker runs the same
 * benchmark on an LLFree allocator of its own (its share of the frames, nothing shared,
 * rand's frames not shuffled across workers). Its 2w/1w is what two busy cores of this
 * machine give work that shares no memory at all.
 */
export const PRIVATE_CONTESTANT = "llfree-private";
export type FramesContestant = FrameAllocatorKind | typeof PRIVATE_CONTESTANT;

export interface FramesWorkerInput {
  kind: FramesContestant;
  /** The shared allocator (none for the private contestant). */
  buffer: SharedArrayBuffer | null;
  /** The barrier, then (from ControlWords.First) the shared array of held frames (rand). */
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

