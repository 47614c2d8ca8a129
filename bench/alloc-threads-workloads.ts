/**
 * The workloads of `bench alloc-threads`, with the figures both drivers take (the JS worker,
 * bench/alloc-threads-worker.ts, and the C driver, bench/native/alloc-threads-driver.c, in
 * the order of `driverArguments`). cache-thrash and cache-scratch are Hoard's false-sharing
 * tests as mimalloc-bench runs them (its repetitions cut 100-fold so that a run takes
 * seconds, not minutes, in JavaScript); xmalloc is Lever and Boreham's producer/consumer
 * test; larson is the replacement pattern of bench alloc, with remote frees.
 */
export const THREAD_WORKLOADS = ["larson", "cache-thrash", "cache-scratch", "xmalloc"] as const;
export type ThreadWorkload = (typeof THREAD_WORKLOADS)[number];

export interface ThreadWorkloadParameters {
  /** larson: replacements per worker, the live blocks each keeps, the share of replaced blocks the next worker frees (1/256ths). */
  steps: number;
  liveSlots: number;
  remoteShare256: number;
  /** larson and xmalloc: block sizes, uniform in [minBytes, maxBytes]. */
  minBytes: number;
  maxBytes: number;
  /** cache-thrash and cache-scratch: objects each worker allocates, their size, and passes of writes over each. */
  iterations: number;
  objectBytes: number;
  repetitions: number;
  /** xmalloc: batches each worker allocates and hands to the next, and blocks a batch. */
  batches: number;
  batchBlocks: number;
}

/** The parameters for `workload`, scaled down by `quick`; larson takes `steps` and `remotePercent`. */
export function threadWorkloadParameters(workload: ThreadWorkload, options: { steps: number; remotePercent: number; quick: boolean }): ThreadWorkloadParameters {
  const scale = options.quick ? 10 : 1;
  return {
    steps: options.steps,
    liveSlots: 10_000,
    remoteShare256: Math.round((options.remotePercent * 256) / 100),
    minBytes: 8,
    maxBytes: workload === "xmalloc" ? 64 : 1024,
    iterations: 1000,
    objectBytes: 8,
    repetitions: 20_000 / scale,
    batches: 4000 / scale,
    batchBlocks: 256,
  };
}

/** The C driver's arguments after the workload name and thread count. */
export function driverArguments(parameters: ThreadWorkloadParameters): string[] {
  const p = parameters;
  return [p.steps, p.liveSlots, p.remoteShare256, p.minBytes, p.maxBytes, p.iterations, p.objectBytes, p.repetitions, p.batches, p.batchBlocks].map(String);
}

/** What one run reports: the timed run's wall time and the heap calls it made (all workers). */
export interface ThreadRunResult {
  elapsedMs: number;
  operations: number;
}
