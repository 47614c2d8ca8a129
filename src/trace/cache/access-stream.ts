/**
 * The access stream the cache simulator and the reuse-distance analysis consume: instruction
 * fetches, data reads and data writes, each an address (two u32 halves, as the replay kernel
 * passes them) and a size in bytes. Input adapters turn a trace or a lackey log into calls.
 */
import type { RecordSink } from "../output.js";

/**
 * A consumer of accesses: the trace's RecordSink (fetch, read, write, each an address as two
 * u32 halves and a size in bytes); the simulator ignores write values.
 */
export type AccessSink = RecordSink;

/** The inputs an access stream is read from: an interchange trace, or Valgrind lackey output. */
export type AccessInputFormat = "trace" | "lackey";

/** The formats `--format` takes. */
export const ACCESS_INPUT_FORMATS: readonly AccessInputFormat[] = ["trace", "lackey"];
