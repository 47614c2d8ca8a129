/**
 * What users feel of an allocator beside its throughput: per-op latency percentiles, the
 * minor page faults of a run, and the process's peak resident set. The C driver
 * (bench/native/alloc-driver.c) measures the same way.
 */
import { readFileSync } from "node:fs";
import type { LatencyFigures } from "./job.js";
import { replay, type LoopMemory } from "./replay-loop.js";
import type { JsAllocator } from "./contestants.js";
import type { OpSequence } from "./workloads.js";

/**
 * Ops per timed batch (LATENCY_BATCH_OPS in the C driver too). Batches, not single ops: a
 * clock read (performance.now() about 75 ns here, clock_gettime about 20) costs more than a
 * small malloc (5-20 ns), so timing each op would measure the clock. At 256 ops a batch the
 * clock adds about 0.3 ns an op in JS (at 64, 1.2: a sixth of memspace's tiny-churn op). A
 * batch's time over its ops is each of its ops' latency: a slow op shows as its excess over
 * the batch, diluted 256-fold, so the percentiles are of batch means, a lower bound on the
 * single-op tail.
 */
export const LATENCY_BATCH_OPS = 256;

/** Nearest-rank percentile of sorted values; `fraction` in (0, 1]. */
function percentile(sorted: Float64Array, fraction: number): number {
  return sorted[Math.max(0, Math.ceil(fraction * sorted.length) - 1)];
}

/** To 0.1 ns, as the table shows them. */
const tenths = (ns: number): number => Math.round(ns * 10) / 10;

/** p50, p99, p99.9 and max of per-op latencies (ns; sorted in place). */
export function latencyFigures(perOpNs: Float64Array): LatencyFigures {
  perOpNs.sort();
  return {
    p50Ns: tenths(percentile(perOpNs, 0.5)),
    p99Ns: tenths(percentile(perOpNs, 0.99)),
    p999Ns: tenths(percentile(perOpNs, 0.999)),
    maxNs: tenths(perOpNs[perOpNs.length - 1]),
  };
}

/**
 * One run of the sequence in batches of LATENCY_BATCH_OPS, each timed: apart from the timed
 * runs, so that the clock reads do not count in ops/s. One clock read a batch boundary (the
 * end of one batch starts the next). Twice, the first not kept: the timed runs called replay
 * a few times only, each for the whole sequence (it runs on-stack-replaced code), so its
 * first thousands of short calls run baseline code, 2-3x slower.
 */
export function latencyRun(allocator: JsAllocator, memory: LoopMemory, sequence: OpSequence): LatencyFigures {
  batchLatencies(allocator, memory, sequence);
  return latencyFigures(batchLatencies(allocator, memory, sequence));
}

/** Each batch's time over its ops, in ns. */
function batchLatencies(allocator: JsAllocator, memory: LoopMemory, sequence: OpSequence): Float64Array {
  const batchInts = LATENCY_BATCH_OPS * 3;
  const batches = Math.ceil(sequence.opCount / LATENCY_BATCH_OPS);
  const perOpNs = new Float64Array(batches);
  let before = performance.now();
  for (let batch = 0; batch < batches; batch++) {
    const from = batch * batchInts;
    const to = Math.min(from + batchInts, sequence.ops.length);
    replay(allocator, memory, from, to);
    const after = performance.now();
    perOpNs[batch] = ((after - before) * 1e6) / ((to - from) / 3);
    before = after;
  }
  return perOpNs;
}

/** The minor page faults this process has taken so far. */
export function minorFaults(): number {
  return process.resourceUsage().minorPageFault;
}

/**
 * The peak resident set of this process (VmHWM): unlike getrusage's maxRSS, which keeps the
 * parent's peak across exec (a bench child of a large node parent would report the parent's),
 * it starts afresh at exec. maxRSS where /proc is missing.
 */
export function peakRssBytes(): number {
  try {
    const kib = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
    if (kib !== null) return Number(kib[1]) * 1024;
  } catch {
    // No /proc: maxRSS below.
  }
  return process.resourceUsage().maxRSS * 1024;
}
