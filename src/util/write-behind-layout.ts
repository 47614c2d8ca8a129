import type { MessagePort } from "node:worker_threads";

/** State word of one write-behind slot. */
export const enum SlotState {
  /** The producer may fill it. */
  Free = 0,
  /** Handed to the writer thread; its length word says how many bytes. */
  Full = 1,
}

/** What the stop word asks of the writer thread. */
export const enum StopRequest {
  Run = 0,
  /** Write every slot handed over, then end. */
  Finish = 1,
  /** End after the write under way, if any (the output is being discarded). */
  Abandon = 2,
}

/**
 * Control words of a write-behind ring: a state word per slot, a length word per slot, then
 * the stop word (StopRequest), the error word (set by the writer thread after a failed write,
 * whose message it posts on its error port), the started word (set once the writer thread
 * runs) and the done word (set as it ends: it touches the file no more).
 */
export function controlWords(slotCount: number): number {
  return 2 * slotCount + 4;
}

/** Index of the stop word. */
export function stopWord(slotCount: number): number {
  return 2 * slotCount;
}

/** Index of the error word. */
export function errorWord(slotCount: number): number {
  return 2 * slotCount + 1;
}

/** Index of the started word. */
export function startedWord(slotCount: number): number {
  return 2 * slotCount + 2;
}

/** Index of the done word. */
export function doneWord(slotCount: number): number {
  return 2 * slotCount + 3;
}

/** What the writer thread is started with. */
export interface WriteBehindSetup {
  /** The open file descriptor to append to (the process's: threads share descriptors). */
  fd: number;
  /** The control words (controlWords). */
  control: SharedArrayBuffer;
  /** The slots' bytes: slot k starts at k * slotBytes. */
  data: SharedArrayBuffer;
  slotCount: number;
  slotBytes: number;
  /** Where the writer thread posts the message of a failed write. */
  errorPort: MessagePort;
}
