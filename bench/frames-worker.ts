/**
 * One worker of `bench/frames.ts`: attaches to the allocator, then for each run (the first
 * is a warm-up) meets the other workers at a barrier, does its share of the benchmark and
 * times it. Reports ns per get, per put and per get+put pair for every run.
 */
import { parentPort, workerData } from "node:worker_threads";
import { attachFrameAllocator } from "../src/alloc/frames/allocator-kinds.js";
import { FrameAllocator } from "../src/alloc/frames/frame-allocator.js";
import { Random } from "../src/util/random.js";
import { PRIVATE_CONTESTANT, type FramesRunTiming, type FramesWorkerInput } from "./frames-protocol.js";
import { ControlWords, workerBarrier } from "./harness/threads.js";

const input = workerData as FramesWorkerInput;
const isPrivate = input.kind === PRIVATE_CONTESTANT;
const allocator = isPrivate
  ? FrameAllocator.create({ frames: Math.floor(input.frameCount / input.workers) }, { worker: 0, workers: 1 })
  : attachFrameAllocator(input.kind as Exclude<typeof input.kind, typeof PRIVATE_CONTESTANT>, input.buffer!, input.worker, input.workers);
const barrier = workerBarrier(input.control, input.workers);
const sharedHeld = new Int32Array(input.control, ControlWords.First * 4);
const runFrames = 1 << input.order;
/** Each worker's share of half of memory, in runs of 2^order frames. */
const share = Math.floor(input.frameCount / 2 / input.workers / runFrames);
const myHeld = sharedHeld.subarray(input.worker * share, (input.worker + 1) * share);
const random = new Random(input.seed + input.worker);

function getOrDie(): number {
  const frame = allocator.get(input.order);
  if (frame < 0) throw new Error(`${input.kind}: get(${input.order}) failed with ${allocator.freeFrames()} frames free`);
  return frame;
}

function fillShare(): void {
  for (let i = 0; i < share; i++) myHeld[i] = getOrDie();
}

function emptyShare(): void {
  for (let i = 0; i < share; i++) allocator.put(myHeld[i], input.order);
}

function bulk(): FramesRunTiming {
  let getMs = 0;
  let putMs = 0;
  for (let round = 0; round < input.bulkRounds; round++) {
    barrier();
    const start = performance.now();
    fillShare();
    getMs += performance.now() - start;
    barrier();
    const middle = performance.now();
    emptyShare();
    putMs += performance.now() - middle;
  }
  const ops = share * input.bulkRounds;
  return { nsPerGet: (getMs * 1e6) / ops, nsPerPut: (putMs * 1e6) / ops, nsPerPair: ((getMs + putMs) * 1e6) / ops };
}

/** Half of memory allocated, then get+put pairs (repeat: the frame just freed; rand: random ones). */
function pairs(randomFrames: boolean): FramesRunTiming {
  fillShare();
  barrier();
  if (randomFrames && input.worker === 0 && !isPrivate) {
    // Frames change hands: each worker frees frames other workers allocated.
    const total = share * input.workers;
    for (let i = total - 1; i > 0; i--) {
      const j = random.below(i + 1);
      const frame = sharedHeld[i];
      sharedHeld[i] = sharedHeld[j];
      sharedHeld[j] = frame;
    }
  }
  barrier();
  const start = performance.now();
  if (randomFrames) {
    for (let i = 0; i < input.pairs; i++) {
      const slot = random.below(share);
      allocator.put(myHeld[slot], input.order);
      myHeld[slot] = getOrDie();
    }
  } else {
    for (let i = 0; i < input.pairs; i++) allocator.put(getOrDie(), input.order);
  }
  const elapsedMs = performance.now() - start;
  barrier();
  emptyShare();
  const nsPerPair = (elapsedMs * 1e6) / input.pairs;
  return { nsPerGet: Number.NaN, nsPerPut: Number.NaN, nsPerPair };
}

const timings: FramesRunTiming[] = [];
for (let run = 0; run < input.runs; run++) {
  barrier();
  timings.push(input.benchmark === "bulk" ? bulk() : pairs(input.benchmark === "rand"));
}
if (isPrivate && allocator.allocatedFrames() !== 0) throw new Error(`private allocator of worker ${input.worker}: ${allocator.allocatedFrames()} frames still allocated after the run`);
parentPort!.postMessage(timings);
