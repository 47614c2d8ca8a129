/**
 * One worker of `bench/alloc-threads.ts`: larson-style random replacement in a live set of
 * its own, on a heap shared with the other workers; a share of the blocks it replaces go to
 * the next worker to free (through a ring in shared memory) instead of being freed here.
 * With `locked`, every heap call holds one mutex (the design before per-worker spans).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../src/alloc/heap/heap.js";
import { lockMutex, unlockMutex } from "../src/alloc/futex-mutex.js";
import { Random } from "../src/util/random.js";
import { ControlWords, workerBarrier } from "./harness/threads.js";

export interface AllocThreadsInput {
  heap: SharedArrayBuffer;
  /** The barrier, then (from ControlWords.First) the lock and a ring per worker: [head, tail, slots...]. */
  control: SharedArrayBuffer;
  worker: number;
  workers: number;
  steps: number;
  liveSlots: number;
  locked: boolean;
  /** Of the blocks a worker replaces, the share (in 1/256ths) the next worker frees. */
  remoteShare256: number;
}

export const enum Control {
  Lock = ControlWords.First,
  /** A cache line past the lock, which the locked heap's calls contend for. */
  Rings = ControlWords.First + 16,
  RingSlots = 4096,
  RingWords = RingSlots + 2,
}

const input = workerData as AllocThreadsInput;
const heap = new Heap(input.heap);
const control = new Int32Array(input.control);
const random = new Random(101 + input.worker);
const slots = new Float64Array(input.liveSlots);
const bytes = new Uint8Array(input.heap);

function malloc(size: number): number {
  if (!input.locked) return heap.malloc(size);
  lockMutex(control, Control.Lock);
  const address = heap.malloc(size);
  unlockMutex(control, Control.Lock);
  return address;
}

function free(address: number): void {
  if (!input.locked) return heap.free(address);
  lockMutex(control, Control.Lock);
  heap.free(address);
  unlockMutex(control, Control.Lock);
}

function ring(worker: number): number {
  return Control.Rings + worker * Control.RingWords;
}

/** Hands a block to the next worker; false when its ring is full. */
function send(address: number): boolean {
  const base = ring((input.worker + 1) % input.workers);
  const head = Atomics.load(control, base);
  const tail = Atomics.load(control, base + 1);
  if (tail - head >= Control.RingSlots) return false;
  control[base + 2 + (tail % Control.RingSlots)] = address;
  Atomics.store(control, base + 1, tail + 1);
  return true;
}

function receive(): void {
  const base = ring(input.worker);
  let head = Atomics.load(control, base);
  const tail = Atomics.load(control, base + 1);
  while (head < tail) free(control[base + 2 + (head++ % Control.RingSlots)]);
  Atomics.store(control, base, head);
}

const barrier = workerBarrier(input.control, input.workers);

function run(steps: number): void {
  for (let step = 0; step < steps; step++) {
    const slot = random.below(input.liveSlots);
    const old = slots[slot];
    if (old !== 0) {
      if (input.workers === 1 || random.below(256) >= input.remoteShare256 || !send(old)) free(old);
    }
    const address = malloc(8 + random.below(1017));
    if (address === 0) throw new Error(`worker ${input.worker}: heap full at step ${step}`);
    bytes[address] = 1;
    slots[slot] = address;
    if ((step & 63) === 0) receive();
  }
}

run(input.steps); // warm-up
barrier();
const start = performance.now();
run(input.steps);
const elapsedMs = performance.now() - start;
barrier();
receive();
barrier();
receive();
for (const address of slots) if (address !== 0) free(address);
heap.detach();
// Each step is a malloc and (after the first fill) a free: two operations.
parentPort!.postMessage({ opsPerSec: (2 * input.steps) / (elapsedMs / 1000) });
