/**
 * Waiting on a worker thread through a shared word: in timed slices, so a worker that died
 * without a word is reported instead of waited on forever.
 */

/** A worker that changes nothing for this long is reported as stalled. */
const WORKER_STALL_LIMIT_MS = 120_000;
/** How often a wait wakes to check WORKER_STALL_LIMIT_MS. */
const STALL_CHECK_INTERVAL_MS = 1000;

/** Waits while `words[index]` holds `value`; after WORKER_STALL_LIMIT_MS throws an Error saying `what` stalled. */
export function waitWhileWord(words: Int32Array, index: number, value: number, what: string): void {
  const started = Date.now();
  while (Atomics.load(words, index) === value) {
    Atomics.wait(words, index, value, STALL_CHECK_INTERVAL_MS);
    if (Date.now() - started > WORKER_STALL_LIMIT_MS) throw new Error(`${what} stalled (no progress in ${WORKER_STALL_LIMIT_MS / 1000} s)`);
  }
}
