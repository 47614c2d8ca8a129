import type { FeltFigures } from "./job.js";
import type { Workload } from "./workloads.js";

/** One allocator on one workload: a row of the allocator benchmark, and a point of its chart. */
export interface AllocBenchRecord extends FeltFigures {
  workload: Workload;
  allocator: string;
  opsPerSec: number;
  /** null when not measured (a run cut short at its time budget). */
  peakFootprintBytes: number | null;
  peakLiveBytes: number;
  /** JS allocators: the footprint by the allocator's own count. */
  accountedFootprintBytes?: number;
  /** Set when the timed run stopped at its time budget: the ops it did (ops/s is over these). */
  completedOps?: number;
  /** ns per op less that of its replay loop with a do-nothing allocator (JS or C). */
  netNsPerOp?: number;
  failure?: string;
}
