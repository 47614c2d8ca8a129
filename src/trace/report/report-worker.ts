/**
 * A part worker of `trace report`: feeds a range of a v2 file's chunks to a ReportCollector
 * made for a part (parts.ts), and posts its part state for the merge (collector.ts).
 */
import { workerData } from "node:worker_threads";
import { forEachPartChunk, type PartSetup } from "../parts.js";
import { feedColumns } from "../records.js";
import { ChunkColumns } from "../v2/chunk-columns.js";
import { decodeColumns } from "../v2/chunk-decoder.js";
import { ReportCollector, type ReportCollectorOptions } from "./collector.js";

const setup = workerData as PartSetup;

/** In a function, so TurboFan optimizes the loop as a whole. */
function run(): void {
  const options = setup.options as ReportCollectorOptions;
  const collector = new ReportCollector({ ...options, firstOp: setup.firstOp, part: true });
  const columns = new ChunkColumns(setup.maxChunkRecords);
  forEachPartChunk(
    setup,
    (raw, info, firstRecord) => {
      decodeColumns(raw, info, setup.flags, columns);
      feedColumns(columns, firstRecord, collector);
    },
    () => collector.partState(),
  );
}

run();
