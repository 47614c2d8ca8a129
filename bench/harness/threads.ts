/**
 * Worker threads: a bench runs a configuration on fresh workers, which meet at a barrier in a
 * shared control buffer before each timed part, and each posts one result.
 */
import { once } from "node:events";
import { Worker } from "node:worker_threads";
import { awaitBarrier } from "../../src/util/barrier.js";

/**
 * The words of a control buffer: the barrier's count and generation first, the bench's own
 * words from First on (a cache line further, so that they do not share one with the barrier).
 */
export const enum ControlWords {
  BarrierCount = 0,
  BarrierGeneration = 1,
  First = 16,
}

/** A control buffer with `ownWords` Int32 words of the bench's own from ControlWords.First. */
export function controlBuffer(ownWords: number): SharedArrayBuffer {
  return new SharedArrayBuffer((ControlWords.First + ownWords) * 4);
}

/** In a worker: waits until all `workers` have come to the barrier of `control`. */
export function workerBarrier(control: SharedArrayBuffer, workers: number): () => void {
  const words = new Int32Array(control, 0, ControlWords.First);
  return () => awaitBarrier(words, ControlWords.BarrierCount, ControlWords.BarrierGeneration, workers);
}

/**
 * Starts `workers` threads of the script at `scriptUrl`, each given `input(worker)`, and
 * returns each one's first message once all have exited (so that the next configuration
 * starts on a quiet machine).
 */
export async function runWorkers<I, R>(scriptUrl: URL, workers: number, input: (worker: number) => I): Promise<R[]> {
  const threads = Array.from({ length: workers }, (_, worker) => new Worker(scriptUrl, { workerData: input(worker) }));
  const exits = threads.map((thread) => once(thread, "exit"));
  const results = await Promise.all(threads.map((thread) => once(thread, "message").then(([result]) => result as R)));
  await Promise.all(exits);
  return results;
}
