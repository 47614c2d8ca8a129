/**
 * Analyses in parts: a v2 file's chunks cut into ranges of about equal records, one worker
 * thread a range, each posting the state of its analysis for an exact merge in order (the
 * trace statistics, stats-parts.ts; the report, report/collector.ts). This file runs the
 * workers (`runParts`) and is the frame of a worker's loop (`forEachPartChunk`).
 */
import { closeSync, openSync, statSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { TraceFormatError } from "./format.js";
import { openTrace } from "./trace-input.js";
import { ChunkProblem, type ChunkInfo } from "./v2/chunk-decoder.js";
import { ChunkFile } from "./v2/chunk-file.js";
import type { RecordSink } from "./output.js";
import { feedColumns } from "./records.js";
import { ChunkColumns } from "./v2/chunk-columns.js";
import { decodeColumns } from "./v2/chunk-decoder.js";
import type { ChunkReaderSetup } from "./v2/decode-layout.js";
import { readV2Index } from "./v2/parallel-decode.js";

/** What a part worker is started with. */
export interface PartSetup extends ChunkReaderSetup {
  /** The index of each chunk's first record. */
  firstRecords: Float64Array;
  /** The chunks [firstChunk, endChunk) this worker takes. */
  firstChunk: number;
  endChunk: number;
  /** The index of the part's first op in the whole trace (a modify is two ops: a read and a write). */
  firstOp: number;
  /** The analysis's own options. */
  options: unknown;
  /** Where the worker posts its state or error. */
  port: MessagePort;
  /** Word 0 counts the workers that have posted; word 1 the chunks done, for progress; word 2 is set when a part gives up. */
  done: Int32Array;
}

/**
 * Thrown by a part's analysis that cannot finish in parts (it would hold more than its
 * memory limit): every part stops, and runParts returns null, so the caller runs one pass.
 */
export class PartGaveUp extends Error {}

const enum DoneWord {
  Posted = 0,
  Chunks = 1,
  GaveUp = 2,
  Count = 3,
}

/** A part worker that has posted nothing for this long is reported, not waited on forever. */
const STALL_LIMIT_MS = 600_000;
/** How often the waiting thread reports progress. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * Runs `workerUrl` on `workers` threads over ranges of the chunks of the v2 file `path` and
 * returns their posted states in file order. Null when the trace is not a v2 regular file
 * with an intact index (a pipe, seed, a damaged end): the caller reads it in one pass, which
 * names any fault.
 */
export function runParts<State>(path: string, workers: number, workerUrl: URL, options: unknown, onProgress?: (bytesDone: number, bytesTotal: number) => void): State[] | null {
  // Only a regular file: opening a pipe here would take its first bytes from the one pass.
  if (path === "-" || !isRegularFile(path)) return null;
  const trace = openTrace(path);
  let index;
  let opsBefore: Float64Array;
  try {
    if (trace.format !== "v2" || !trace.input.positioned) return null;
    try {
      index = readV2Index(trace.input);
      opsBefore = opsBeforeChunks(trace.input.path, index.chunkOffsets, index.firstRecords, trace.v2Header!.maxChunkRecords, trace.v2Header!.chunkSeedBytes);
    } catch (error) {
      if (error instanceof TraceFormatError || error instanceof ChunkProblem) return null;
      throw error;
    }
  } finally {
    trace.input.close();
  }
  const header = trace.v2Header!;
  const chunkCount = index.chunkOffsets.length;
  const parts = Math.max(1, Math.min(workers, chunkCount));
  const totalRecords = chunkCount === 0 ? 0 : index.firstRecords[chunkCount - 1];
  // Cut where the chunks' first records pass each part's share.
  const cuts = [0];
  for (let part = 1; part < parts; part++) {
    let chunk = cuts[part - 1] + 1;
    while (chunk < chunkCount - (parts - part) && index.firstRecords[chunk] < (totalRecords * part) / parts) chunk++;
    cuts.push(chunk);
  }
  cuts.push(chunkCount);
  const done = new Int32Array(new SharedArrayBuffer(DoneWord.Count * 4));
  const channels: MessageChannel[] = [];
  const threads: Worker[] = [];
  try {
    for (let part = 0; part < parts; part++) {
      const channel = new MessageChannel();
      channels.push(channel);
      const setup: PartSetup = {
        path: trace.input.path,
        name: trace.input.name,
        flags: header.flags,
        chunkSeedBytes: header.chunkSeedBytes,
        maxChunkRecords: header.maxChunkRecords,
        chunkOffsets: index.chunkOffsets,
        firstRecords: index.firstRecords,
        indexOffset: index.indexOffset,
        firstChunk: cuts[part],
        endChunk: cuts[part + 1],
        firstOp: cuts[part] < chunkCount ? opsBefore[cuts[part]] : 0,
        options,
        port: channel.port2,
        done,
      };
      const thread = new Worker(workerUrl, { workerData: setup, transferList: [channel.port2] });
      thread.unref();
      threads.push(thread);
    }
    const started = Date.now();
    while (Atomics.load(done, DoneWord.Posted) < parts) {
      Atomics.wait(done, DoneWord.Posted, Atomics.load(done, DoneWord.Posted), PROGRESS_INTERVAL_MS);
      onProgress?.(chunkCount === 0 ? 0 : Math.round((Atomics.load(done, DoneWord.Chunks) / chunkCount) * trace.input.sizeBytes), trace.input.sizeBytes);
      if (Date.now() - started > STALL_LIMIT_MS) throw new Error(`${trace.input.name}: a part worker stalled`);
    }
    if (Atomics.load(done, DoneWord.GaveUp) !== 0) return null;
    const states: State[] = [];
    for (const channel of channels) {
      const message = receiveMessageOnPort(channel.port1)?.message as { state?: State; error?: { file: string; byteOffset: number; problem: string } | string } | undefined;
      if (message?.state === undefined) {
        const error = message?.error;
        if (typeof error === "object") throw new TraceFormatError(error.file, error.byteOffset, error.problem);
        throw new Error(`${trace.input.name}: ${error ?? "part worker failed"}`);
      }
      states.push(message.state);
    }
    return states;
  } finally {
    for (const channel of channels) channel.port1.close();
    for (const thread of threads) void thread.terminate();
  }
}

/** Ops before each chunk (records, plus one more for each modify: a read and a write), from the chunk headers. */
function opsBeforeChunks(path: string, chunkOffsets: Float64Array, firstRecords: Float64Array, maxChunkRecords: number, chunkSeedBytes: number): Float64Array {
  const ops = new Float64Array(chunkOffsets.length);
  const fd = openSync(path, "r");
  try {
    const chunks = new ChunkFile(fd, maxChunkRecords, chunkSeedBytes);
    let modifies = 0;
    for (let chunk = 0; chunk < chunkOffsets.length; chunk++) {
      ops[chunk] = firstRecords[chunk] + modifies;
      modifies += chunks.readHeader(chunkOffsets[chunk]).modifies;
    }
  } finally {
    closeSync(fd);
  }
  return ops;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    // The one pass opens it and names the problem.
    return false;
  }
}

/** Chunks a part reads just before its range, to warm an analysis's state up (its figures do not count them). */
export interface PartWarmUp {
  chunks: number;
  /** Called before the first warm-up chunk, if there is one. */
  start: () => void;
  /** Called when the range starts. */
  end: () => void;
}

/**
 * A part worker's loop: reads, checks and inflates each chunk of its range (after those of
 * `warmUp`) and hands it to `visit`, then posts `state()`; an error is posted instead, naming
 * the file, chunk and offset.
 */
export function forEachPartChunk<State>(setup: PartSetup, visit: (raw: Uint8Array, info: ChunkInfo, firstRecord: number) => void, state: () => State, warmUp?: PartWarmUp): void {
  const fd = openSync(setup.path, "r");
  let chunk = warmUp === undefined ? setup.firstChunk : Math.max(0, setup.firstChunk - warmUp.chunks);
  try {
    const chunks = new ChunkFile(fd, setup.maxChunkRecords, setup.chunkSeedBytes);
    if (chunk < setup.firstChunk) warmUp!.start();
    for (; chunk < setup.firstChunk; chunk++) {
      const { raw, info } = chunks.load(setup.chunkOffsets[chunk], setup.chunkOffsets[chunk + 1]);
      visit(raw, info, setup.firstRecords[chunk]);
    }
    warmUp?.end();
    for (; chunk < setup.endChunk; chunk++) {
      // Another part gave up: this one's state would not be merged.
      if (Atomics.load(setup.done, DoneWord.GaveUp) !== 0) return;
      const end = chunk + 1 < setup.chunkOffsets.length ? setup.chunkOffsets[chunk + 1] : setup.indexOffset;
      const { raw, info } = chunks.load(setup.chunkOffsets[chunk], end);
      visit(raw, info, setup.firstRecords[chunk]);
      Atomics.add(setup.done, DoneWord.Chunks, 1);
    }
    setup.port.postMessage({ state: state() });
  } catch (error) {
    if (error instanceof PartGaveUp) {
      Atomics.store(setup.done, DoneWord.GaveUp, 1);
      return;
    }
    const problem = error instanceof ChunkProblem ? new TraceFormatError(setup.name, setup.chunkOffsets[chunk], `chunk ${chunk}: ${error.message}`) : error;
    setup.port.postMessage({ error: problem instanceof TraceFormatError ? { file: problem.file, byteOffset: problem.byteOffset, problem: problem.problem } : String(problem instanceof Error ? problem.message : problem) });
  } finally {
    closeSync(fd);
    Atomics.add(setup.done, DoneWord.Posted, 1);
    Atomics.notify(setup.done, DoneWord.Posted);
  }
}

/** A part worker's loop for an analysis that takes records: each chunk decoded and fed to `sink` in order, then `state()` posted. */
export function feedPartRecords<State>(setup: PartSetup, sink: RecordSink, state: () => State, warmUp?: PartWarmUp): void {
  const columns = new ChunkColumns(setup.maxChunkRecords);
  forEachPartChunk(
    setup,
    (raw, info, firstRecord) => {
      decodeColumns(raw, info, setup.flags, columns);
      feedColumns(columns, firstRecord, sink);
    },
    state,
    warmUp,
  );
}
