import type { MessagePort } from "node:worker_threads";

/** State word of one read-ahead slot. */
export const enum ChunkState {
  Empty = 0,
  Full = 1,
}

/**
 * Control words at the start of the shared buffer: a state word per slot, a length word per
 * slot (-1 after a read error), and one cancel word.
 */
export function controlWords(slotCount: number): number {
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
  /** The slot and file offset the worker starts at (the main thread reads what lies before). */
  firstSlot: number;
  firstFileOffset: number;
  errorPort: MessagePort;
}
