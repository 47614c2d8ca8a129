/** The heap's one error type, in its own module so that every layer of the heap can throw it. */

/** A misuse of the heap (a bad pointer, a double free, a bad size) or a corrupt heap ("heap corrupt: ..."). */
export class HeapError extends Error {
  /** "HeapError", as errors name their class. */
  override name = "HeapError";
}
