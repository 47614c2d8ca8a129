/**
 * A part worker of `trace cache`: feeds a range of a v2 file's chunks to a CachePart, warmed
 * up on the chunk before it (or, for the range at the trace's start, to a whole
 * CacheHierarchy), and posts its result for the merge in order (cache-parts.ts).
 */
import { workerData } from "node:worker_threads";
import { feedPartRecords, type PartSetup } from "../parts.js";
import { CachePart, type CachePartOptions, type CachePartResult } from "./cache-parts.js";
import { CacheHierarchy } from "./hierarchy.js";

/**
 * Chunks before its range a part warms its first level on: one holds 100,000s of accesses,
 * enough to fill every set of a first-level cache that the range is likely to use.
 */
const WARM_UP_CHUNKS = 1;

const setup = workerData as PartSetup;
const options = setup.options as CachePartOptions;
if (setup.firstChunk === 0) {
  const whole = new CacheHierarchy(options.shape);
  feedPartRecords(setup, whole, (): CachePartResult => ({ whole: whole.state() }));
} else {
  const part = new CachePart(options.shape, options.llStreamLimitWords);
  const warmUp = { chunks: WARM_UP_CHUNKS, start: () => part.startWarmUp(), end: () => part.startRange() };
  feedPartRecords(setup, part, (): CachePartResult => ({ part: part.partState() }), warmUp);
}
