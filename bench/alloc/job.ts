/** What bench alloc and its child processes exchange: the job a child runs, and the sample it prints. */
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
  slowBudgetSeconds: number;
}

/** One measurement of one allocator on one workload (a child's result line, or the C driver's). */
export interface Sample {
  opsPerSec: number;
  peakFootprintBytes: number | null;
  accountedFootprintBytes?: number;
  completedOps?: number;
  /** Why the allocator could not finish the workload (out of memory), if it could not. */
  failure?: string;
}
