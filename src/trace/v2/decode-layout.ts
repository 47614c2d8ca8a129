import type { MessagePort } from "node:worker_threads";
import { ChunkColumns } from "./chunk-columns.js";
import { maxRawBytes } from "./chunk-decoder.js";
import { V2Layout } from "./layout.js";
import { maxRunWords } from "./access-runs.js";

/**
 * The shared memory of parallel decoding: control words, then one area per slot, holding a
 * chunk decoded into ChunkColumns or, for a consumer of payloads, its header and raw payload.
 * Chunk c goes to slot c % slotCount. Per slot, `accept` holds the chunk the slot may take
 * next (the consumer advances it by slotCount when done with a chunk) and `filled` the chunk
 * it holds decoded (Slot.Empty when none, Slot.Failed after an error). Workers claim chunks
 * from the next-chunk word, so each chunk is decoded once, by whichever worker is free.
 */
export const enum Slot {
  Empty = -1,
  Failed = -2,
}

/**
 * Control words per slot: accept, filled, the decoded chunk's record, fetch, write and modify
 * counts, and the words of its access runs (-1: the slot holds the raw payload instead).
 */
const WORDS_PER_SLOT = 7;

/** Control words: those of each slot, then the next-chunk word and the cancel word. */
export function controlWordCount(slotCount: number): number {
  return WORDS_PER_SLOT * slotCount + 2;
}

/** Index of slot `slot`'s accept word. */
export function acceptWord(slot: number): number {
  return WORDS_PER_SLOT * slot;
}

/** Index of slot `slot`'s filled word. */
export function filledWord(slot: number): number {
  return WORDS_PER_SLOT * slot + 1;
}

/** Index of slot `slot`'s first count word: records, then fetches, writes and modifies. */
export function countWords(slot: number): number {
  return WORDS_PER_SLOT * slot + 2;
}

/** Index of slot `slot`'s run-words word: how many words of access runs follow the chunk header, or -1. */
export function runWordsWord(slot: number): number {
  return WORDS_PER_SLOT * slot + 6;
}

/** Index of the next-chunk word. */
export function nextChunkWord(slotCount: number): number {
  return WORDS_PER_SLOT * slotCount;
}

/** Index of the cancel word: non-zero stops the workers. */
export function cancelWord(slotCount: number): number {
  return WORDS_PER_SLOT * slotCount + 1;
}

/**
 * Bytes of one slot: columns for `capacity` records, or the most a chunk header and then its
 * raw payload or its access runs take (`runs`: whether workers build runs).
 */
export function slotBytesFor(payloads: boolean, runs: boolean, capacity: number): number {
  if (!payloads) return ChunkColumns.bytesFor(capacity);
  const body = Math.max(maxRawBytes(capacity), runs ? maxRunWords(capacity) * 4 : 0);
  return Math.ceil((V2Layout.ChunkHeaderBytes + body) / 8) * 8;
}

/** Where slot `slot` starts in the shared buffer (`slotBytes` from slotBytesFor). */
export function slotByteOffset(slotCount: number, slotBytes: number, slot: number): number {
  const controlBytes = Math.ceil((controlWordCount(slotCount) * 4) / 8) * 8;
  return controlBytes + slot * slotBytes;
}

/** Bytes of the whole shared buffer. */
export function sharedBytes(slotCount: number, slotBytes: number): number {
  return slotByteOffset(slotCount, slotBytes, slotCount);
}

/** What a worker that reads a v2 file's chunks by their indexed offsets is started with. */
export interface ChunkReaderSetup {
  /** The v2 trace, and its name for error messages. */
  path: string;
  name: string;
  /** The file header's flags and limits. */
  flags: number;
  chunkSeedBytes: number;
  maxChunkRecords: number;
  /** File offset of each chunk, and where the chunks end (the index's offset). */
  chunkOffsets: Float64Array;
  indexOffset: number;
}

/** What a decoder of chunks into slots needs (slot-decoder.ts). */
export interface SlotSetup extends ChunkReaderSetup {
  buffer: SharedArrayBuffer;
  slotCount: number;
  /** Whether slots take raw payloads (header, then payload) rather than decoded columns. */
  payloads: boolean;
  /** Whether, for payloads, workers build access runs where the chunk allows (header, then runs). */
  runs: boolean;
  /** Bytes of a slot (slotBytesFor). */
  slotBytes: number;
}

/** What a decode worker is started with. */
export interface DecodeSetup extends SlotSetup {
  /** Where the worker posts the message of an error. */
  errorPort: MessagePort;
}
