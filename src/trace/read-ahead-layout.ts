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

export function cancelWord(slotCount: number): number {
  return 2 * slotCount;
}

export function nextChunkWord(slotCount: number): number {
  return 2 * slotCount + 1;
}

export interface ReadAheadSetup {
  path: string;
  buffer: SharedArrayBuffer;
  slotCount: number;
  chunkBytes: number;
  /** Byte index of slot 0's data; slot k's data starts slotBytes * k later. */
  firstDataByte: number;
  slotBytes: number;
  errorPort: MessagePort;
}
