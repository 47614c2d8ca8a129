/** A worker thread of the frame-allocator crash-test child (see frames-crash-test.ts). */
import { workerData } from "node:worker_threads";
import { FrameAllocator } from "../alloc/frames/frame-allocator.js";
import { CRASH_TEST_WORKERS, runFramesWorker } from "./frames-crash-test.js";

const { buffer, journal, worker, seed, started } = workerData as { buffer: SharedArrayBuffer; journal: string; worker: number; seed: number; started: Int32Array };
const allocator = FrameAllocator.attach(buffer, { worker, workers: CRASH_TEST_WORKERS });
Atomics.add(started, 0, 1);
Atomics.notify(started, 0);
runFramesWorker(allocator, journal, seed);
