/**
 * The access stream the cache simulator and the reuse-distance analysis consume: instruction
 * fetches, data reads and data writes, each an address (two u32 halves, as the replay kernel
 * passes them) and a size in bytes. Input adapters turn a trace or a lackey log into calls.
 */

/**
 * A consumer of accesses, one method per kind (fetch, read, write), so that the instruction
 * and data sides stay apart. `lo` and `hi` are the address's low and high 32 bits (int32 or u32
 * both accepted); `sizeBytes` is at least 1. An access ends at or below 2^64 - 1.
 */
export interface AccessSink {
  /** An instruction fetch of `sizeBytes` bytes at the address. */
  fetch(lo: number, hi: number, sizeBytes: number): void;
  /** A data read. */
  read(lo: number, hi: number, sizeBytes: number): void;
  /** A data write. */
  write(lo: number, hi: number, sizeBytes: number): void;
}

/** The inputs an access stream is read from: an interchange trace, or Valgrind lackey output. */
export type AccessInputFormat = "trace" | "lackey";

/** The formats `--format` takes. */
export const ACCESS_INPUT_FORMATS: readonly AccessInputFormat[] = ["trace", "lackey"];
