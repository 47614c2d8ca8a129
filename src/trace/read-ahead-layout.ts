import type { MessagePort } from "node:worker_threads";

/** State word of one read-ahead slot. */
export const enum ChunkState {
  Empty = 0,
  Full = 1,
}

/**
 * Control words at the start of the shared buffer: a state word per slot, a length word per
 * slot (-1 after a read error), a cancel word and the next-chunk word (the index of the first
 * chunk nobody has claimed: the worker and the consuming thread claim chunks from it in order).
 */
export function controlWords(slotCount: number): number {
  return 2 * slotCount + 2;
}

/** Index of the cancel word: set to 1, it stops the worker. */
export function cancelWord(slotCount: number): number {
  return 2 * slotCount;
}

/** Index of the next-chunk word: the first chunk nobody has claimed. */
export function nextChunkWord(slotCount: number): number {
  return 2 * slotCount + 1;
}

/** What the read-ahead worker is started with. */
export interface ReadAheadSetup {
  /** The file to read. */
  path: string;
  /** The shared buffer: control words, then the slots. */
  buffer: SharedArrayBuffer;
  /** Number of slots in the ring. */
  slotCount: number;
  /** Bytes read into a slot per chunk. */
  chunkBytes: number;
  /** Byte index of slot 0's data; slot k's data starts slotBytes * k later. */
  firstDataByte: number;
  /** Bytes from one slot's data to the next slot's. */
  slotBytes: number;
  /** Where the worker posts the message of a read error. */
  errorPort: MessagePort;
}
