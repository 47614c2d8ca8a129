import { parentPort, workerData } from "node:worker_threads";
import { FrameAllocator } from "../../src/alloc/frames/frame-allocator.js";
import { Participant } from "../../src/alloc/interleaving.js";
import { Random } from "../../src/util/random.js";

/**
 * A test worker on a shared FrameAllocator. "interleaved": a fixed number of seeded random
 * gets and puts, each step scheduled by the coordinator. "stress": free-running for a time
 * budget, moving between random fill levels. Either way it reports the runs it holds.
 */
export interface FramesWorkerInput {
  mode: "interleaved" | "stress";
  buffer: SharedArrayBuffer;
  control: SharedArrayBuffer | null;
  index: number;
  workers: number;
  seed: number;
  ops: number;
  durationMs: number;
  /** A run allocated by the test that every worker tries to free: exactly one may. */
  victim: number;
  /** Counts workers past their victim attempt: none goes on (and might get the victim frame again) until all are. */
  victimGate: SharedArrayBuffer | null;
}

export interface FramesWorkerOutput {
  held: Array<[frame: number, order: number]>;
  victimFreed: boolean;
  gets: number;
  puts: number;
  failedGets: number;
  error: string | null;
}

const ORDERS = [0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10];

const input = workerData as FramesWorkerInput;
const allocator = FrameAllocator.attach(input.buffer, { worker: input.index, workers: input.workers });
const participant = input.control === null ? null : new Participant(input.control, input.index);
allocator.setSyncHook(participant);
const random = new Random(input.seed * 7919 + input.index);
const output: FramesWorkerOutput = { held: [], victimFreed: false, gets: 0, puts: 0, failedGets: 0, error: null };

function step(wantMore: boolean): void {
  if (wantMore || output.held.length === 0) {
    const order = ORDERS[random.below(ORDERS.length)];
    const frame = allocator.get(order);
    if (frame < 0) {
      output.failedGets++;
      return;
    }
    if (frame % (1 << order) !== 0 || frame + (1 << order) > allocator.frameCount) throw new Error(`get(${order}) returned misaligned frame ${frame}`);
    output.held.push([frame, order]);
    output.gets++;
  } else {
    const at = random.below(output.held.length);
    const [frame, order] = output.held[at];
    output.held[at] = output.held[output.held.length - 1];
    output.held.pop();
    allocator.put(frame, order);
    output.puts++;
  }
}

try {
  participant?.point();
  if (input.victim >= 0) {
    try {
      allocator.put(input.victim, 0);
      output.victimFreed = true;
    } catch {
      // Another worker freed it first: the expected outcome for all but one.
    }
    const gate = new Int32Array(input.victimGate!);
    Atomics.add(gate, 0, 1);
    while (Atomics.load(gate, 0) < input.workers) participant?.point();
  }
  if (input.mode === "interleaved") {
    for (let i = 0; i < input.ops; i++) {
      participant?.point();
      step(random.next() < 0.55);
    }
  } else {
    const end = Date.now() + input.durationMs;
    let targetHeld = 0;
    for (let i = 0; Date.now() < end; i++) {
      if (i % 1000 === 0) targetHeld = random.below(allocator.frameCount / 8);
      step(output.held.length < targetHeld);
    }
  }
} catch (error) {
  output.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
} finally {
  participant?.done();
  parentPort!.postMessage(output);
}
