/**
 * A mutex in one Int32 word of shared memory (Drepper's futex mutex): 0 unlocked, 1 locked,
 * 2 locked with waiters. Spins briefly, then sleeps in Atomics.wait until the holder wakes
 * it. Workers on the same SharedArrayBuffer use it with the same word.
 */
const SPINS_BEFORE_SLEEP = 100;

/** Locks the mutex in `words[index]`, sleeping in Atomics.wait while another thread holds it. */
export function lockMutex(words: Int32Array, index: number): void {
  for (let spin = 0; spin < SPINS_BEFORE_SLEEP; spin++) {
    if (Atomics.compareExchange(words, index, 0, 1) === 0) return;
  }
  while (Atomics.exchange(words, index, 2) !== 0) Atomics.wait(words, index, 2);
}

/** Unlocks the mutex in `words[index]` and wakes one waiter, if any. */
export function unlockMutex(words: Int32Array, index: number): void {
  if (Atomics.exchange(words, index, 0) === 2) Atomics.notify(words, index, 1);
}
