import { statSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from "node:worker_threads";
import { TraceFormatError } from "./format.js";
import type { StatsPartState, TraceStatsReport } from "./stats.js";
import { mergeStatsParts } from "./stats-parts.js";
import { openTrace } from "./trace-input.js";
import { readV2Index } from "./v2/parallel-decode.js";

/** What a part worker (stats-worker.ts) is started with. */
export interface StatsPartSetup {
  path: string;
  name: string;
  flags: number;
  chunkSeedBytes: number;
  maxChunkRecords: number;
  chunkOffsets: Float64Array;
  firstRecords: Float64Array;
  indexOffset: number;
  /** The chunks [firstChunk, endChunk) this worker replays. */
  firstChunk: number;
  endChunk: number;
  /** Where the worker posts its state or error. */
  port: MessagePort;
  /** Word 0 counts the workers that have posted; word 1 the chunks done, for progress. */
  done: Int32Array;
}

function isRegularFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    // The one pass opens it and names the problem.
    return false;
  }
}

/** A part worker that has posted nothing for this long is reported, not waited on forever. */
const STALL_LIMIT_MS = 600_000;
/** How often the waiting thread reports progress. */
const PROGRESS_INTERVAL_MS = 250;

/**
 * `trace stats` of a v2 file on `workers` threads, each over a range of chunks of about equal
 * records, merged into exactly what one pass gives (stats-parts.ts). Null when the trace is
 * not a v2 file that can be read at any offset with an intact index (a pipe, seed, a damaged
 * end): the caller reads it in one pass, which names any fault.
 */
export function collectStatsInParts(path: string, workers: number, onProgress?: (bytesDone: number, bytesTotal: number) => void): TraceStatsReport | null {
  // Only a regular file: opening a pipe here would take its first bytes from the one pass.
  if (path === "-" || !isRegularFile(path)) return null;
  const trace = openTrace(path);
  let index;
  try {
    if (trace.format !== "v2" || !trace.input.positioned) return null;
    try {
      index = readV2Index(trace.input);
    } catch (error) {
      if (error instanceof TraceFormatError) return null;
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
  const done = new Int32Array(new SharedArrayBuffer(8));
  const channels: MessageChannel[] = [];
  const threads: Worker[] = [];
  try {
    for (let part = 0; part < parts; part++) {
      const channel = new MessageChannel();
      channels.push(channel);
      const setup: StatsPartSetup = {
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
        port: channel.port2,
        done,
      };
      const thread = new Worker(new URL("./stats-worker.js", import.meta.url), { workerData: setup, transferList: [channel.port2] });
      thread.unref();
      threads.push(thread);
    }
    const started = Date.now();
    while (Atomics.load(done, 0) < parts) {
      Atomics.wait(done, 0, Atomics.load(done, 0), PROGRESS_INTERVAL_MS);
      onProgress?.(Math.round((Atomics.load(done, 1) / chunkCount) * trace.input.sizeBytes), trace.input.sizeBytes);
      if (Date.now() - started > STALL_LIMIT_MS) throw new Error(`${trace.input.name}: a stats worker stalled`);
    }
    const states: StatsPartState[] = [];
    for (const channel of channels) {
      const message = receiveMessageOnPort(channel.port1)?.message as { state?: StatsPartState; error?: { file: string; byteOffset: number; problem: string } | string } | undefined;
      if (message?.state === undefined) {
        const error = message?.error;
        if (typeof error === "object") throw new TraceFormatError(error.file, error.byteOffset, error.problem);
        throw new Error(`${trace.input.name}: ${error ?? "stats worker failed"}`);
      }
      states.push(message.state);
    }
    return mergeStatsParts(states);
  } finally {
    for (const channel of channels) channel.port1.close();
    for (const thread of threads) void thread.terminate();
  }
}
