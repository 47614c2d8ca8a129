/**
 * A part worker of `trace stats`: replays a range of a v2 file's chunks onto TraceStats made
 * for a part (parts.ts), and posts its part state (stats-parts.ts).
 */
import { workerData } from "node:worker_threads";
import { forEachPartChunk, type PartSetup } from "./parts.js";
import { ReplayTally } from "./replay-tally.js";
import { TraceStats } from "./stats.js";
import { replayPayload } from "./v2/replay-payload.js";

const setup = workerData as PartSetup;

/** In a function, so TurboFan optimizes the loop as a whole. */
function run(): void {
  const stats = new TraceStats({ part: true });
  const tally = new ReplayTally(setup.name);
  forEachPartChunk(setup, (raw, info, firstRecord) => replayPayload(stats, raw, info, setup.flags, firstRecord, tally), () => stats.partState());
}

run();
