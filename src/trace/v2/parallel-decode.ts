import { closeSync, openSync } from "node:fs";
import { crc32 } from "node:zlib";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { TraceFormatError } from "../format.js";
import type { InputFile } from "../reader.js";
import { ChunkColumns } from "./chunk-columns.js";
import { chunkError, type ChunkVisitor, type PayloadVisitor, type V2FileHeader, type V2ReadResult } from "./reader.js";
import { readChunkHeader } from "./chunk-decoder.js";
import { acceptWord, cancelWord, controlWordCount, countWords, filledWord, nextChunkWord, runWordsWord, sharedBytes, Slot, slotByteOffset, slotBytesFor, type DecodeSetup, type SlotSetup } from "./decode-layout.js";
import { SlotDecoder } from "./slot-decoder.js";
import { getUint64, V2Layout } from "./layout.js";

/** Where a v2 file's chunks are, from its index. */
export interface V2Index {
  /** File offset of each chunk. */
  chunkOffsets: Float64Array;
  /** Index of the first record of each chunk. */
  firstRecords: Float64Array;
  /** Where the index starts (the chunks end there). */
  indexOffset: number;
}

/** Reads and checks the trailer and the index of a v2 file that can be read at any offset. */
export function readV2Index(input: InputFile): V2Index {
  const name = input.name;
  const size = input.sizeBytes;
  const trailerAt = size - V2Layout.TrailerBytes;
  const trailer = new Uint8Array(V2Layout.TrailerBytes);
  if (trailerAt < V2Layout.FileHeaderBytes || input.readFully(trailer, 0, trailer.length, trailerAt) < trailer.length) {
    throw new TraceFormatError(name, Math.max(trailerAt, 0), "truncated: no trailer");
  }
  const trailerView = new DataView(trailer.buffer);
  if (trailerView.getUint32(V2Layout.TrailerMagicAt, true) !== V2Layout.TrailerMagic || trailerView.getUint32(V2Layout.TrailerCrcAt, true) !== crc32(trailer.subarray(0, V2Layout.TrailerCrcAt))) {
    throw new TraceFormatError(name, trailerAt, "bad trailer (the file is cut short or corrupt)");
  }
  const indexOffset = getUint64(trailerView, 0);
  const indexBytes = trailerAt - indexOffset;
  if (indexOffset < V2Layout.FileHeaderBytes || indexBytes < V2Layout.IndexHeaderBytes + V2Layout.IndexCrcBytes) throw new TraceFormatError(name, trailerAt, "trailer points outside the file");
  const index = new Uint8Array(indexBytes);
  input.readFully(index, 0, indexBytes, indexOffset);
  const view = new DataView(index.buffer);
  const chunkCount = view.getUint32(4, true);
  const crcAt = V2Layout.IndexHeaderBytes + chunkCount * V2Layout.IndexEntryBytes;
  if (view.getUint32(0, true) !== V2Layout.IndexMagic || crcAt + V2Layout.IndexCrcBytes !== indexBytes || view.getUint32(crcAt, true) !== crc32(index.subarray(0, crcAt))) {
    throw new TraceFormatError(name, indexOffset, "bad index (corrupt, or not where the trailer points)");
  }
  const chunkOffsets = new Float64Array(chunkCount);
  const firstRecords = new Float64Array(chunkCount);
  for (let chunk = 0; chunk < chunkCount; chunk++) {
    const at = V2Layout.IndexHeaderBytes + chunk * V2Layout.IndexEntryBytes;
    chunkOffsets[chunk] = getUint64(view, at);
    firstRecords[chunk] = getUint64(view, at + 8);
    const previous = chunk === 0 ? V2Layout.FileHeaderBytes - 1 : chunkOffsets[chunk - 1];
    if (chunkOffsets[chunk] <= previous || chunkOffsets[chunk] >= indexOffset || (chunk === 0 && chunkOffsets[0] !== V2Layout.FileHeaderBytes)) {
      throw new TraceFormatError(name, indexOffset, `index entry ${chunk} is out of order or outside the chunks`);
    }
  }
  return { chunkOffsets, firstRecords, indexOffset };
}

/**
 * Slots: per worker, one being decoded and one decoded and waiting; then some the consumer
 * can decode into when it would otherwise wait (decodeV2Parallel).
 */
const SLOTS_PER_WORKER = 2;
const CONSUMER_SLOTS = 2;
/** A decode worker that delivers nothing for this long is reported, not waited on forever. */
const STALL_LIMIT_MS = 120_000;
const STALL_CHECK_INTERVAL_MS = 1000;

/**
 * What the consumer of a parallel decode takes: decoded columns, or raw payloads (the workers
 * only read, check and inflate), or, with `visitRuns`, access runs wherever a chunk allows
 * (access-runs.ts) and raw payloads for the other chunks.
 */
export type ChunkConsumer = { payloads: false; visit: ChunkVisitor } | { payloads: true; visit: PayloadVisitor; visitRuns?: RunsVisitor };

/** Called with a chunk's access runs (`wordCount` words, valid only during the call), its first record index and chunk number. */
export type RunsVisitor = (words: Int32Array, wordCount: number, firstRecord: number, chunkNumber: number) => void;

/**
 * Decodes a v2 file's chunks on `workers` worker threads, each chunk into a slot of shared
 * memory, and hands them to the consumer on this thread in file order: decoding (inflate,
 * and varints for columns) overlaps whatever the consumer does. When the next chunk is not
 * decoded yet, this thread does not wait while a chunk within the slots is unclaimed: it
 * claims and decodes it itself, so the work balances between the threads whichever side is
 * slower, and the first chunk starts while the workers are still starting. The file must be
 * seekable (it is read by its `index`, from readV2Index); each chunk is checked as in a
 * sequential read. `consumerDecodes` false leaves all decoding to the workers (for tests of
 * the workers' own paths).
 */
export function decodeV2Parallel(input: InputFile, header: V2FileHeader, index: V2Index, workers: number, consumer: ChunkConsumer, onProgress?: (bytesDone: number) => void, consumerDecodes = true): V2ReadResult {
  if (workers < 1 && !consumerDecodes) throw new RangeError("no thread to decode: 0 workers and the consumer decodes nothing");
  const chunkCount = index.chunkOffsets.length;
  const slotCount = workers * SLOTS_PER_WORKER + CONSUMER_SLOTS;
  const capacity = header.maxChunkRecords;
  const runs = consumer.payloads && consumer.visitRuns !== undefined;
  const slotBytes = slotBytesFor(consumer.payloads, runs, capacity);
  const buffer = new SharedArrayBuffer(sharedBytes(slotCount, slotBytes));
  const control = new Int32Array(buffer, 0, controlWordCount(slotCount));
  for (let slot = 0; slot < slotCount; slot++) {
    control[acceptWord(slot)] = slot;
    control[filledWord(slot)] = Slot.Empty;
  }
  const columnsBySlot: ChunkColumns[] = [];
  const bytesBySlot: Uint8Array[] = [];
  const runsBySlot: Int32Array[] = [];
  for (let slot = 0; slot < slotCount; slot++) {
    const offset = slotByteOffset(slotCount, slotBytes, slot);
    if (consumer.payloads) {
      bytesBySlot.push(new Uint8Array(buffer, offset, slotBytes));
      runsBySlot.push(new Int32Array(buffer, offset + V2Layout.ChunkHeaderBytes, (slotBytes - V2Layout.ChunkHeaderBytes) >>> 2));
    } else columnsBySlot.push(new ChunkColumns(capacity, buffer, offset));
  }
  // A channel per worker: a port can be handed to one thread only.
  const errors: MessageChannel[] = [];
  const threads: Worker[] = [];
  const result: V2ReadResult = { header, chunks: chunkCount, fetches: 0, reads: 0, writes: 0, modifies: 0, bytes: input.sizeBytes };
  const slotSetup: SlotSetup = {
    path: input.path,
    name: input.name,
    flags: header.flags,
    chunkSeedBytes: header.chunkSeedBytes,
    maxChunkRecords: capacity,
    chunkOffsets: index.chunkOffsets,
    indexOffset: index.indexOffset,
    buffer,
    slotCount,
    payloads: consumer.payloads,
    runs,
    slotBytes,
  };
  let fd = -1;
  try {
    for (let worker = 0; worker < Math.min(workers, chunkCount); worker++) {
      const channel = new MessageChannel();
      errors.push(channel);
      const setup: DecodeSetup = { ...slotSetup, errorPort: channel.port2 };
      threads.push(startWorker(setup, [channel.port2]));
    }
    if (consumerDecodes) fd = openSync(input.path, "r");
    const stealer = consumerDecodes ? new ChunkStealer(new SlotDecoder(slotSetup, control, fd), control, slotCount, chunkCount) : null;
    for (let chunk = 0; chunk < chunkCount; chunk++) {
      const slot = chunk % slotCount;
      waitFilled(control, slot, chunk, input.name, errors, stealer);
      const counts = countWords(slot);
      result.fetches += control[counts + 1];
      result.writes += control[counts + 2];
      result.modifies += control[counts + 3];
      result.reads += control[counts] - control[counts + 1] - control[counts + 2] - control[counts + 3];
      const runWords = control[runWordsWord(slot)];
      if (consumer.payloads && runWords >= 0) {
        consumer.visitRuns!(runsBySlot[slot], runWords, index.firstRecords[chunk], chunk);
      } else if (consumer.payloads) {
        const bytes = bytesBySlot[slot];
        try {
          // The worker checked the header; read again here, it costs a 60-byte CRC.
          const info = readChunkHeader(bytes, 0, capacity, header.chunkSeedBytes);
          consumer.visit(bytes.subarray(V2Layout.ChunkHeaderBytes, V2Layout.ChunkHeaderBytes + info.rawBytes), info, index.firstRecords[chunk], chunk);
        } catch (error) {
          throw chunkError(error, input.name, index.chunkOffsets[chunk], `chunk ${chunk}`);
        }
      } else {
        const columns = columnsBySlot[slot];
        columns.count = control[counts];
        columns.flags = header.flags;
        consumer.visit(columns, index.firstRecords[chunk], chunk);
      }
      Atomics.store(control, filledWord(slot), Slot.Empty);
      Atomics.store(control, acceptWord(slot), chunk + slotCount);
      Atomics.notify(control, acceptWord(slot));
      onProgress?.(chunk + 1 < chunkCount ? index.chunkOffsets[chunk + 1] : input.sizeBytes);
    }
  } finally {
    if (fd >= 0) closeSync(fd);
    Atomics.store(control, cancelWord(slotCount), 1);
    for (let slot = 0; slot < slotCount; slot++) Atomics.notify(control, acceptWord(slot));
    for (const channel of errors) channel.port1.close();
    for (const thread of threads) void thread.terminate();
  }
  return result;
}

function startWorker(setup: DecodeSetup, transfer: import("node:worker_threads").MessagePort[]): Worker {
  const thread = new Worker(new URL("./decode-worker.js", import.meta.url), { workerData: setup, transferList: transfer });
  thread.unref();
  return thread;
}

/** The consumer's side of decoding: it takes unclaimed chunks on itself rather than wait. */
class ChunkStealer {
  private readonly nextWord: number;

  constructor(
    private readonly decoder: SlotDecoder,
    private readonly control: Int32Array,
    private readonly slotCount: number,
    private readonly chunkCount: number,
  ) {
    this.nextWord = nextChunkWord(slotCount);
  }

  /**
   * Claims and decodes the next unclaimed chunk if its slot is free (the consumer, at chunk
   * `consuming`, is done with the chunk the slot held); false when there is none to take.
   */
  tryDecode(consuming: number): boolean {
    const control = this.control;
    const next = Atomics.load(control, this.nextWord);
    if (next >= this.chunkCount || next >= consuming + this.slotCount) return false;
    if (Atomics.compareExchange(control, this.nextWord, next, next + 1) !== next) return true;
    const slot = next % this.slotCount;
    if (control[acceptWord(slot)] !== next) throw new Error(`slot ${slot} is not free for chunk ${next}`);
    this.decoder.decode(next, slot);
    Atomics.store(control, filledWord(slot), next);
    return true;
  }
}

/**
 * Waits until slot `slot` holds chunk `chunk`, decoding unclaimed chunks meanwhile; a failed
 * worker's error is rethrown here.
 */
function waitFilled(control: Int32Array, slot: number, chunk: number, name: string, errors: readonly MessageChannel[], stealer: ChunkStealer | null): void {
  const started = Date.now();
  for (;;) {
    const filled = Atomics.load(control, filledWord(slot));
    if (filled === chunk) return;
    if (filled !== Slot.Failed && stealer !== null && stealer.tryDecode(chunk)) continue;
    if (filled === Slot.Failed) {
      let message: { file: string; byteOffset: number; problem: string } | string | undefined;
      for (const channel of errors) message ??= receiveMessageOnPort(channel.port1)?.message as typeof message;
      if (typeof message === "object") throw new TraceFormatError(message.file, message.byteOffset, message.problem);
      throw new Error(`${name}: ${message ?? "decode worker failed"}`);
    }
    Atomics.wait(control, filledWord(slot), filled, STALL_CHECK_INTERVAL_MS);
    if (Date.now() - started > STALL_LIMIT_MS) throw new Error(`${name}: decode worker stalled at chunk ${chunk}`);
  }
}
