/**
 * A child process of bench alloc (harness/child.ts): one JS allocator on one workload, a
 * warm-up run, the timed runs, a latency run (timed in batches), and the footprint in a
 * separate pass; prints a Sample.
 */
import { childJob, writeChildResult } from "../harness/child.js";
import { median } from "../harness/rounds.js";
import { watchNewBuffer } from "../resident.js";
import { createJsAllocator, HEAP_BYTES, JS_LOOP, loadThingMalloc, THING } from "./contestants.js";
import type { ChildJob, FeltFigures, Sample } from "./job.js";
import { latencyRun, minorFaults, peakRssBytes } from "./latency.js";
import { budgetedRun, failed, footprintPass, loopMemory, replay } from "./replay-loop.js";
import { buildWorkload } from "./workloads.js";

/** Child mode: one allocator on one workload, printed as JSON. */
export async function runOne({ workload, allocator: allocatorName, scale, runs, liveSlots, blockCache, cacheOptions, slowBudgetSeconds }: ChildJob): Promise<void> {
  const heapOptions = { blockCache, ...cacheOptions };
  const thingMalloc = allocatorName === THING ? await loadThingMalloc() : null;
  const sequence = buildWorkload(workload, scale, liveSlots);
  const rates: number[] = [];
  // One allocator for every run, as the C driver has one malloc: each sequence ends with
  // everything freed, so a run after the first starts on a warm, empty heap (its pages
  // already faulted in), and the replay's call targets stay the same (new closures per run
  // deoptimised it each time).
  const allocator = createJsAllocator(allocatorName, heapOptions, thingMalloc);
  const memory = loopMemory(sequence.ops, new Int32Array(sequence.slots), allocator.bytes);
  let felt: FeltFigures;
  if (allocatorName === THING) {
    // One timed run, no warm-up, within a time budget: its ratio is not in doubt.
    const faultsBefore = minorFaults();
    const sample = budgetedRun(allocator, sequence, memory, slowBudgetSeconds * 1000);
    felt = { minorFaults: minorFaults() - faultsBefore, peakRssBytes: peakRssBytes() };
    if (sample.completedOps !== undefined || sample.failure !== undefined) {
      writeChildResult({ ...sample, ...felt });
      return;
    }
    rates.push(sample.opsPerSec);
  } else {
    let faultsBefore = 0;
    for (let run = 0; run <= runs; run++) {
      if (run === 1) faultsBefore = minorFaults();
      const start = performance.now();
      try {
        replay(allocator, memory, 0, sequence.ops.length);
      } catch (error) {
        writeChildResult(failed(allocator, error));
        return;
      }
      const seconds = (performance.now() - start) / 1000;
      if (run > 0) rates.push(sequence.opCount / seconds);
    }
    const faultsPerRun = Math.round((minorFaults() - faultsBefore) / runs);
    felt = { ...latencyRun(allocator, memory, sequence), minorFaults: faultsPerRun, peakRssBytes: peakRssBytes() };
    if (allocatorName === JS_LOOP) {
      writeChildResult({ opsPerSec: Math.round(median(rates)), peakFootprintBytes: null, ...felt });
      return;
    }
  }
  // Footprint apart from timing, on an allocator of its own over a fresh buffer: sampled
  // after (groups of) ops, which the timed runs must not pay for, and the buffer's resident
  // bytes at the end (where the kernel can tell; else the allocator's own count stands in).
  const watch = watchNewBuffer(HEAP_BYTES);
  const accounted = Math.max(footprintPass(createJsAllocator(allocatorName, heapOptions, thingMalloc), sequence), 0);
  const sample: Sample = { opsPerSec: Math.round(median(rates)), peakFootprintBytes: watch.measure() ?? accounted, accountedFootprintBytes: accounted, ...felt };
  writeChildResult(sample);
}

const job = childJob<ChildJob>();
if (job !== undefined) await runOne(job);
