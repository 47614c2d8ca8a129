/**
 * A decode worker: claims chunks in order from the shared next-chunk word, reads each from the
 * file at its indexed offset, checks and inflates it, and decodes it into its slot's columns
 * (or, for a consumer of payloads, builds its access runs there or copies its raw payload) once the consumer has freed
 * that slot (decode-layout.ts). Stops at the last chunk, on cancel, or at the first error,
 * which it posts before marking the slot failed.
 */
import { closeSync, openSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { TraceFormatError } from "../format.js";
import { ChunkColumns } from "./chunk-columns.js";
import { ChunkProblem, decodeColumns } from "./chunk-decoder.js";
import { ChunkFile } from "./chunk-file.js";
import { acceptWord, cancelWord, controlWordCount, countWords, filledWord, nextChunkWord, runWordsWord, Slot, slotByteOffset, type DecodeSetup } from "./decode-layout.js";
import { buildAccessRuns } from "./access-runs.js";
import { V2Layout } from "./layout.js";

const setup = workerData as DecodeSetup;
const control = new Int32Array(setup.buffer, 0, controlWordCount(setup.slotCount));
const cancel = cancelWord(setup.slotCount);
const chunkCount = setup.chunkOffsets.length;
const columnsBySlot: ChunkColumns[] = [];
const bytesBySlot: Uint8Array[] = [];
const runsBySlot: Int32Array[] = [];
for (let slot = 0; slot < setup.slotCount; slot++) {
  const offset = slotByteOffset(setup.slotCount, setup.slotBytes, slot);
  if (setup.payloads) {
    bytesBySlot.push(new Uint8Array(setup.buffer, offset, setup.slotBytes));
    runsBySlot.push(new Int32Array(setup.buffer, offset + V2Layout.ChunkHeaderBytes, (setup.slotBytes - V2Layout.ChunkHeaderBytes) >>> 2));
  } else columnsBySlot.push(new ChunkColumns(setup.maxChunkRecords, setup.buffer, offset));
}
let chunks: ChunkFile;

/**
 * Access runs pay when loads come in runs (instruction parcels, sweeps): there the consumer
 * replays them faster than it reads a seed file, and building them costs this thread less
 * than the consumer saves. Where fetches and data accesses interleave, runs are a load or
 * two long, building them costs more than the payload kernel on the consumer, and this
 * worker becomes the bottleneck. So a worker sends payloads while the last chunk it built
 * came to more than this many words a record (about one entry in three records), and tries
 * runs again every RUN_RETRY_CHUNKS chunks.
 */
const RUN_WORDS_PAID_PER_RECORD = 1;
const RUN_RETRY_CHUNKS = 16;
let lastRunsPaid = true;
let lastRunsTried = 0;

function runsPay(chunk: number): boolean {
  return lastRunsPaid || chunk - lastRunsTried >= RUN_RETRY_CHUNKS;
}

/**
 * Decodes chunk `chunk` into its slot's columns, or copies its header and raw payload there,
 * and puts its counts in the slot's count words.
 */
function decodeChunk(chunk: number, slot: number): void {
  const offset = setup.chunkOffsets[chunk];
  const end = chunk + 1 < chunkCount ? setup.chunkOffsets[chunk + 1] : setup.indexOffset;
  const where = `chunk ${chunk}`;
  try {
    const { raw, info } = chunks.load(offset, end);
    const runWords = setup.runs && runsPay(chunk) ? buildAccessRuns(raw, info, setup.flags, runsBySlot[slot]) : -1;
    if (runWords >= 0) lastRunsPaid = runWords <= info.records * RUN_WORDS_PAID_PER_RECORD;
    if (runWords >= 0 && !lastRunsPaid) lastRunsTried = chunk;
    control[runWordsWord(slot)] = runWords;
    if (setup.payloads) {
      bytesBySlot[slot].set(chunks.headerBytes, 0);
      if (runWords < 0) bytesBySlot[slot].set(raw, V2Layout.ChunkHeaderBytes);
    } else decodeColumns(raw, info, setup.flags, columnsBySlot[slot]);
    const counts = countWords(slot);
    control[counts] = info.records;
    control[counts + 1] = info.fetches;
    control[counts + 2] = info.writes;
    control[counts + 3] = info.modifies;
  } catch (error) {
    throw error instanceof ChunkProblem ? new TraceFormatError(setup.name, offset, `${where}: ${error.message}`) : error;
  }
}

/** The worker's loop, in a function so TurboFan optimizes it as a whole (top-level code it only on-stack-replaces). */
function run(): void {
  let fd = -1;
  let slot = 0;
  try {
    fd = openSync(setup.path, "r");
    chunks = new ChunkFile(fd, setup.maxChunkRecords, setup.chunkSeedBytes);
    for (;;) {
      const chunk = Atomics.add(control, nextChunkWord(setup.slotCount), 1);
      if (chunk >= chunkCount) break;
      slot = chunk % setup.slotCount;
      for (;;) {
        const accepts = Atomics.load(control, acceptWord(slot));
        if (accepts === chunk || Atomics.load(control, cancel) !== 0) break;
        Atomics.wait(control, acceptWord(slot), accepts);
      }
      if (Atomics.load(control, cancel) !== 0) break;
      decodeChunk(chunk, slot);
      Atomics.store(control, filledWord(slot), chunk);
      Atomics.notify(control, filledWord(slot));
    }
  } catch (error) {
    setup.errorPort.postMessage(error instanceof TraceFormatError ? { file: error.file, byteOffset: error.byteOffset, problem: error.problem } : String(error instanceof Error ? error.message : error));
    Atomics.store(control, filledWord(slot), Slot.Failed);
    Atomics.notify(control, filledWord(slot));
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

run();
