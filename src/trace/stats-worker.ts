/**
 * A part worker of `trace stats`: replays a range of a v2 file's chunks onto TraceStats made
 * for a part, and posts its part state (stats-parts.ts) or its error.
 */
import { closeSync, openSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { TraceFormatError } from "./format.js";
import { ReplayTally } from "./replay-tally.js";
import { TraceStats } from "./stats.js";
import type { StatsPartSetup } from "./stats-parallel.js";
import { ChunkProblem } from "./v2/chunk-decoder.js";
import { ChunkFile } from "./v2/chunk-file.js";
import { replayPayload } from "./v2/replay-payload.js";

const setup = workerData as StatsPartSetup;

/** In a function, so TurboFan optimizes the loop as a whole. */
function run(): void {
  const stats = new TraceStats({ part: true });
  const tally = new ReplayTally(setup.name);
  const fd = openSync(setup.path, "r");
  let chunk = setup.firstChunk;
  try {
    const chunks = new ChunkFile(fd, setup.maxChunkRecords, setup.chunkSeedBytes);
    for (; chunk < setup.endChunk; chunk++) {
      const end = chunk + 1 < setup.chunkOffsets.length ? setup.chunkOffsets[chunk + 1] : setup.indexOffset;
      const { raw, info } = chunks.load(setup.chunkOffsets[chunk], end);
      replayPayload(stats, raw, info, setup.flags, setup.firstRecords[chunk], tally);
      Atomics.add(setup.done, 1, 1);
    }
    const state = stats.partState();
    setup.port.postMessage({ state });
  } catch (error) {
    const problem = error instanceof ChunkProblem ? new TraceFormatError(setup.name, setup.chunkOffsets[chunk], `chunk ${chunk}: ${error.message}`) : error;
    setup.port.postMessage({ error: problem instanceof TraceFormatError ? { file: problem.file, byteOffset: problem.byteOffset, problem: problem.problem } : String(problem instanceof Error ? problem.message : problem) });
  } finally {
    closeSync(fd);
    Atomics.add(setup.done, 0, 1);
    Atomics.notify(setup.done, 0);
  }
}

run();
