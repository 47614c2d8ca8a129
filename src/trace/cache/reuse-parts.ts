import { runParts } from "../parts.js";
import { ReuseDistance, type ReusePartState } from "./reuse-distance.js";

/**
 * Exact reuse distances of `blockSizeBytes` blocks of a v2 file, gathered on `workers`
 * threads, each over a range of chunks, and merged in order into what one pass gives. Null
 * when the trace is not a v2 regular file with an intact index: the caller reads it in one pass.
 */
export function collectReuseInParts(path: string, workers: number, blockSizeBytes: number, onProgress?: (bytesDone: number, bytesTotal: number) => void): ReuseDistance | null {
  const states = runParts<ReusePartState>(path, workers, new URL("./reuse-worker.js", import.meta.url), blockSizeBytes, onProgress);
  if (states === null) return null;
  const reuse = new ReuseDistance(blockSizeBytes);
  for (const state of states) reuse.mergePart(state);
  return reuse;
}
