/** What bench alloc and its child processes exchange: the job a child runs, and the sample it prints. */
import type { HeapOptions } from "../../src/alloc/heap/heap.js";
import type { JsAllocatorName } from "./contestants.js";
import type { Workload } from "./workloads.js";

/**
 * @thi.ng/malloc's first-fit free list makes it 100-10,000x slower on the churn workloads
 * (linear in the live set): its one timed run stops after this long (`--budget` seconds),
 * and its ops/s is over the ops it did. The live set was still growing then, so the figure
 * flatters it.
 */
export const SLOW_RUN_BUDGET_SECONDS = 30;

/** What a child process measures: one allocator on one workload. */
export interface ChildJob {
  workload: Workload;
  allocator: JsAllocatorName;
  scale: number;
  runs: number;
  liveSlots?: number;
  blockCache: boolean;
  /** memspace: the region cache's policy and limits (bench alloc-policy sweeps them); the Heap's defaults if absent. */
  cacheOptions?: Pick<HeapOptions, "cachePolicy" | "cacheSlots" | "cacheAgeOps">;
  slowBudgetSeconds: number;
}

/** Per-op latency in ns, from timed batches of ops (bench/alloc/latency.ts). */
export interface LatencyFigures {
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

/** What users feel beside throughput; absent for a run cut at its time budget (no latency run). */
export interface FeltFigures extends Partial<LatencyFigures> {
  /** Minor page faults during the timed runs, per run. */
  minorFaults?: number;
  /** The process's peak resident set (VmHWM), its own code and runtime included. */
  peakRssBytes?: number;
}

/** One measurement of one allocator on one workload (a child's result line, or the C driver's). */
export interface Sample extends FeltFigures {
  opsPerSec: number;
  peakFootprintBytes: number | null;
  accountedFootprintBytes?: number;
  completedOps?: number;
  /** Why the allocator could not finish the workload (out of memory), if it could not. */
  failure?: string;
}
