/**
 * A reusable barrier for worker threads in two Int32 words of shared memory (a count and a
 * generation): the last of `parties` to arrive resets the count and wakes the others.
 */
export function awaitBarrier(words: Int32Array, countIndex: number, generationIndex: number, parties: number): void {
  const generation = Atomics.load(words, generationIndex);
  if (Atomics.add(words, countIndex, 1) === parties - 1) {
    Atomics.store(words, countIndex, 0);
    Atomics.add(words, generationIndex, 1);
    Atomics.notify(words, generationIndex);
  } else {
    while (Atomics.load(words, generationIndex) === generation) Atomics.wait(words, generationIndex, generation);
  }
}
