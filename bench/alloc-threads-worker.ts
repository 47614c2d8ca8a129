/**
 * One worker of `bench/alloc-threads.ts`, on a heap shared with the other workers. The
 * workloads (bench/alloc-threads-workloads.ts defines them; the C driver
 * bench/native/alloc-threads-driver.c runs the same ones on malloc):
 * - larson: random replacement in a live set of its own; a share of the blocks it replaces
 *   go to the next worker to free (through a ring in shared memory);
 * - cache-thrash: allocate a small object, write it many times, free it, over and over;
 *   an allocator that gives two threads objects on one cache line makes them fight for it
 *   (active false sharing);
 * - cache-scratch: the same, after freeing an object the parent allocated next to the other
 *   workers' objects; an allocator that hands the freed object straight back to this
 *   thread shares its line with the others (passive false sharing);
 * - xmalloc: batches of blocks allocated here and freed by the next worker (producer and
 *   consumer frees across threads).
 * With `locked`, every heap call holds one mutex (the design before per-worker spans).
 */
import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../src/alloc/heap/heap.js";
import { lockMutex, unlockMutex } from "../src/alloc/futex-mutex.js";
import { Random } from "../src/util/random.js";
import { ControlWords, workerBarrier } from "./harness/threads.js";
import type { ThreadWorkload, ThreadWorkloadParameters } from "./alloc-threads-workloads.js";

export interface AllocThreadsInput {
  workload: ThreadWorkload;
  parameters: ThreadWorkloadParameters;
  heap: SharedArrayBuffer;
  /** The barrier, then (from ControlWords.First) the lock and a ring per worker: [head, tail, slots...]. */
  control: SharedArrayBuffer;
  worker: number;
  workers: number;
  locked: boolean;
  /** cache-scratch: the object the parent allocated for this worker, which it frees first. */
  scratchObject: number;
}

export interface AllocThreadsResult {
  /** Time of the timed run, ms. */
  elapsedMs: number;
  /** Heap calls (mallocs and frees) in the timed run. */
  operations: number;
}

export const enum Control {
  Lock = ControlWords.First,
  /** xmalloc: workers done with a pass, which go on freeing what they are sent until all are. */
  Done = ControlWords.First + 8,
  /** A cache line past the lock, which the locked heap's calls contend for. */
  Rings = ControlWords.First + 16,
  RingSlots = 4096,
  RingWords = RingSlots + 2,
}

const input = workerData as AllocThreadsInput;
const parameters = input.parameters;
const heap = new Heap(input.heap);
const control = new Int32Array(input.control);
const random = new Random(101 + input.worker);
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

function mallocOrThrow(size: number): number {
  const address = malloc(size);
  if (address === 0) throw new Error(`worker ${input.worker}: heap full`);
  return address;
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

/** Frees what the previous worker sent; returns how many. */
function receive(): number {
  const base = ring(input.worker);
  let head = Atomics.load(control, base);
  const tail = Atomics.load(control, base + 1);
  const first = head;
  while (head < tail) free(control[base + 2 + (head++ % Control.RingSlots)]);
  Atomics.store(control, base, head);
  return head - first;
}

const larsonSlots = new Float64Array(input.workload === "larson" ? parameters.liveSlots : 0);

/** Returns the heap calls made. */
function larson(): number {
  const steps = parameters.steps;
  const remoteShare256 = parameters.remoteShare256;
  const liveSlots = parameters.liveSlots;
  let calls = 0;
  for (let step = 0; step < steps; step++) {
    const slot = random.below(liveSlots);
    const old = larsonSlots[slot];
    if (old !== 0) {
      // A block sent on is freed by the next worker, which counts it.
      if (input.workers === 1 || random.below(256) >= remoteShare256 || !send(old)) {
        free(old);
        calls++;
      }
    }
    const address = mallocOrThrow(parameters.minBytes + random.below(parameters.maxBytes - parameters.minBytes + 1));
    bytes[address] = 1;
    larsonSlots[slot] = address;
    calls++;
    if ((step & 63) === 0) calls += receive();
  }
  return calls;
}

/** The write loop of cache-thrash and cache-scratch: `repetitions` passes over the object's bytes. */
function writeObject(address: number, objectBytes: number, repetitions: number): void {
  for (let pass = 0; pass < repetitions; pass++) {
    for (let at = 0; at < objectBytes; at++) bytes[address + at] = pass;
  }
}

function cacheThrash(): number {
  for (let iteration = 0; iteration < parameters.iterations; iteration++) {
    const address = mallocOrThrow(parameters.objectBytes);
    writeObject(address, parameters.objectBytes, parameters.repetitions);
    free(address);
  }
  return 2 * parameters.iterations;
}

/** Batches of `batchBlocks` blocks go to the next worker, which frees them. */
const xmallocBatch = new Float64Array(input.workload === "xmalloc" ? parameters.batchBlocks : 0);

function xmalloc(): number {
  let calls = 0;
  for (let batch = 0; batch < parameters.batches; batch++) {
    for (let block = 0; block < parameters.batchBlocks; block++) {
      const address = mallocOrThrow(parameters.minBytes + random.below(parameters.maxBytes - parameters.minBytes + 1));
      bytes[address] = 1;
      xmallocBatch[block] = address;
    }
    calls += parameters.batchBlocks;
    for (let block = 0; block < parameters.batchBlocks; block++) {
      const address = xmallocBatch[block];
      if (input.workers === 1) free(address);
      else {
        // A full ring waits for its consumer, freeing what this worker was sent meanwhile.
        while (!send(address)) calls += receive();
      }
    }
    if (input.workers === 1) calls += parameters.batchBlocks;
    calls += receive();
  }
  // Another worker may still wait for room in this one's ring.
  xmallocPasses++;
  Atomics.add(control, Control.Done, 1);
  while (Atomics.load(control, Control.Done) < xmallocPasses * input.workers) calls += receive();
  return calls;
}

let xmallocPasses = 0;

function run(): number {
  switch (input.workload) {
    case "larson":
      return larson();
    case "cache-thrash":
      return cacheThrash();
    case "cache-scratch":
      return cacheThrash();
    case "xmalloc":
      return xmalloc();
  }
}

const barrier = workerBarrier(input.control, input.workers);

if (input.workload !== "cache-scratch") run(); // warm-up (cache-scratch's first free is the point: it runs once)
// Whatever the warm-up sent on is freed before the timed run.
barrier();
receive();
barrier();
const start = performance.now();
if (input.workload === "cache-scratch") free(input.scratchObject);
const operations = run() + (input.workload === "cache-scratch" ? 1 : 0);
const elapsedMs = performance.now() - start;
// The last blocks sent on: freed once every worker has stopped sending (not timed).
barrier();
receive();
barrier();
for (const address of larsonSlots) if (address !== 0) free(address);
heap.detach();
parentPort!.postMessage({ elapsedMs, operations } satisfies AllocThreadsResult);
