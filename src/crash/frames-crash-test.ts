import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { FrameAllocator } from "../alloc/frames/frame-allocator.js";
import { Random } from "../util/random.js";
import { Journal } from "../durable/journal.js";
import type { Durability } from "../durable/medium.js";

/**
 * The frame-allocator kill test. A child process runs random gets and puts on a persistent
 * allocator from several worker threads at once, each keeping a journal of what it holds
 * (a run is journalled after get returns, and its removal before put is called); the
 * parent kills the process with SIGKILL, then reopens the allocator (recovery) and checks
 * it against the journals: every run a worker holds is allocated as such, and at most one
 * run per worker (its in-flight step) is allocated but held by nobody.
 */
const enum Step {
  Get = 1,
  Put = 2,
}
const JOURNAL_FIELDS = 3;
const ORDERS = [0, 0, 0, 0, 1, 2, 3, 5, 9];
/** Frames in the crash-test allocator: 2^16 4 KiB frames. */
export const CRASH_TEST_FRAMES = 1 << 16;
/** Worker threads in the child (this machine has 2 cores; the code takes any number). */
export const CRASH_TEST_WORKERS = 2;
/** How often the child checks whether its workers have started. */
const WORKER_START_POLL_MS = 100;
/** A worker puts more often once it holds this many runs, so the pool does not run dry. */
const MANY_HELD_RUNS = 3000;
/** Chance of a put rather than a get, in percent: normally, and once MANY_HELD_RUNS are held. */
const PUT_PERCENT = 45;
const PUT_PERCENT_WHEN_MANY = 70;

/** Paths in `dir` of the allocator file and of one journal per worker thread. */
export function framesFiles(dir: string): { allocator: string; journals: string[] } {
  return {
    allocator: join(dir, "frames.img"),
    journals: Array.from({ length: CRASH_TEST_WORKERS }, (_, worker) => join(dir, `frames.journal.${worker}`)),
  };
}

/** The runs the journal says the child holds: frame -> order. */
export function heldRuns(journalPath: string): Map<number, number> {
  const held = new Map<number, number>();
  for (const [step, frame, order] of Journal.read(journalPath, JOURNAL_FIELDS)) {
    if (step === Step.Get) held.set(frame, order);
    else held.delete(frame);
  }
  return held;
}

/**
 * Child: opens the allocator, starts the other workers (threads attached to the same
 * buffer, writing to the same file), calls `ready` once all are working, and works too.
 * Never returns; the parent kills it.
 */
export function runFramesChild(dir: string, seed: number, durability: Durability, ready: () => void): never {
  const files = framesFiles(dir);
  const allocator = FrameAllocator.open(files.allocator, { frames: CRASH_TEST_FRAMES, durability }, { worker: 0, workers: CRASH_TEST_WORKERS });
  const started = new Int32Array(new SharedArrayBuffer(4));
  for (let worker = 1; worker < CRASH_TEST_WORKERS; worker++) {
    new Worker(new URL("./frames-crash-worker.js", import.meta.url), { workerData: { buffer: allocator.buffer, journal: files.journals[worker], worker, seed, started } });
  }
  while (Atomics.load(started, 0) < CRASH_TEST_WORKERS - 1) Atomics.wait(started, 0, Atomics.load(started, 0), WORKER_START_POLL_MS);
  ready();
  return runFramesWorker(allocator, files.journals[0], seed);
}

/** One worker's endless random gets and puts, journalled. */
export function runFramesWorker(allocator: FrameAllocator, journalPath: string, seed: number): never {
  const held = heldRuns(journalPath);
  Journal.rewrite(journalPath, JOURNAL_FIELDS, [...held].map(([frame, order]) => [Step.Get, frame, order]));
  const journal = new Journal(journalPath, JOURNAL_FIELDS);
  const runs = [...held];
  const random = new Random(seed * 7 + allocator.worker);
  for (;;) {
    if (runs.length > 0 && random.below(100) < (runs.length > MANY_HELD_RUNS ? PUT_PERCENT_WHEN_MANY : PUT_PERCENT)) {
      const at = random.below(runs.length);
      const [frame, order] = runs[at];
      runs[at] = runs[runs.length - 1];
      runs.pop();
      journal.append(Step.Put, frame, order);
      allocator.put(frame, order);
    } else {
      const order = ORDERS[random.below(ORDERS.length)];
      const frame = allocator.get(order);
      if (frame < 0) continue;
      journal.append(Step.Get, frame, order);
      runs.push([frame, order]);
    }
  }
}

/** What the check after one kill found. */
export interface FramesCrashCheck {
  /** Whether opening the allocator ran crash recovery. */
  recovered: boolean;
  /** How long recovery took, in milliseconds. */
  recoveryMs: number;
  /** Runs allocated that the child did not hold: its in-flight step. Reclaimed by the check. */
  lostRuns: number;
  /** Each inconsistency between the recovered allocator and the journals, in words. */
  violations: string[];
}

/** Parent, after a kill: recover, compare with the journal, reclaim lost runs, close cleanly. */
export function checkFramesAfterCrash(dir: string): FramesCrashCheck {
  const files = framesFiles(dir);
  const allocator = FrameAllocator.open(files.allocator, { frames: CRASH_TEST_FRAMES }, { worker: 0, workers: 1 });
  const held = new Map<number, number>();
  for (const journal of files.journals) for (const [frame, order] of heldRuns(journal)) held.set(frame, order);
  const violations: string[] = [];
  try {
    allocator.check();
  } catch (error) {
    violations.push(`after recovery: ${(error as Error).message}`);
  }
  for (const [frame, order] of held) {
    const actual = allocator.orderOf(frame);
    if (actual !== order) violations.push(`the child holds frame ${frame} (order ${order}) but after recovery it is ${actual >= 0 ? `a run of order ${actual}` : actual === -1 ? "free" : "inside another run"}`);
  }
  const lost: Array<[number, number]> = [];
  allocator.forEachRun((frame, order) => {
    if (held.get(frame) !== order) lost.push([frame, order]);
  });
  for (const [frame, order] of lost) allocator.put(frame, order);
  const recovery = allocator.recovery;
  allocator.close();
  return { recovered: recovery !== null, recoveryMs: recovery?.milliseconds ?? 0, lostRuns: lost.length, violations };
}
