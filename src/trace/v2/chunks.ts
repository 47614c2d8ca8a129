import { availableParallelism } from "node:os";
import type { InputFile } from "../reader.js";
import { TraceFormatError } from "../format.js";
import { decodeV2Parallel, readV2Index, type ChunkConsumer, type RunsVisitor, type V2Index } from "./parallel-decode.js";
import { readV2Payloads, readV2Sequential, type ChunkVisitor, type PayloadVisitor, type V2FileHeader, type V2ReadResult } from "./reader.js";

/** Options of `forEachV2Chunk`. */
export interface ChunkReadOptions {
  /**
   * Worker threads that decode chunks while this thread consumes them: 0 decodes here, in
   * order. Default: the cores but one (at least 1, at most 4). Only files that can be read at
   * any offset are decoded in parallel; pipes are read in order.
   */
  decodeWorkers?: number;
  /** Called after each chunk with the bytes done and the input's size (0 when unknown). */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

/** Decode workers most machines gain from: the main thread consumes, the others decode. */
export function defaultDecodeWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Hands every chunk of a v2 trace to `visit`, in order, decoded here or on worker threads. */
export function forEachV2Chunk(input: InputFile, header: V2FileHeader, visit: ChunkVisitor, options: ChunkReadOptions = {}): V2ReadResult {
  return readChunks(input, header, { payloads: false, visit }, options);
}

/**
 * Hands every chunk's raw payload to `visit`, in order, inflated here or on worker threads:
 * for a consumer that reads the columns straight from the payload (the replay kernel). With
 * `visitRuns`, decode workers build a chunk's access runs where they can (access-runs.ts)
 * and hand those instead; chunks read on this thread always come as payloads.
 */
export function forEachV2Payload(input: InputFile, header: V2FileHeader, visit: PayloadVisitor, options: ChunkReadOptions = {}, visitRuns?: RunsVisitor): V2ReadResult {
  return readChunks(input, header, { payloads: true, visit, visitRuns }, options);
}

function readChunks(input: InputFile, header: V2FileHeader, consumer: ChunkConsumer, options: ChunkReadOptions): V2ReadResult {
  const workers = options.decodeWorkers ?? defaultDecodeWorkers();
  const onProgress = options.onProgress;
  const progress = onProgress === undefined ? undefined : (done: number) => onProgress(done, input.sizeBytes);
  if (workers > 0 && input.positioned) {
    let index: V2Index | null = null;
    try {
      index = readV2Index(input);
    } catch (error) {
      // A damaged or cut-off end: the sequential read below finds and names the first fault.
      if (!(error instanceof TraceFormatError)) throw error;
    }
    if (index !== null) return decodeV2Parallel(input, header, index, workers, consumer, progress);
  }
  return consumer.payloads ? readV2Payloads(input, () => consumer.visit, progress) : readV2Sequential(input, consumer.visit, progress);
}
