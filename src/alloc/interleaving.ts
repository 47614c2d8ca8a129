import { Random } from "../util/random.js";
import type { SyncHook } from "./frames/sync-hook.js";

/**
 * Deterministic interleaving of real worker threads, for replayable race tests. Each worker
 * installs a `Participant` as its allocator's sync hook; at every synchronisation point it
 * stops until the coordinator, which picks the next worker to run with a seeded PRNG, lets
 * it go. Exactly one worker runs at a time, so a schedule (and any race it exposes) is a
 * function of the seed alone.
 *
 * Control buffer: per worker a state word and a grant counter.
 */
const enum WorkerState {
  Running = 0,
  Waiting = 1,
  Done = 2,
}

/** A zeroed control buffer for `workerCount` workers: a state word and a grant counter each. */
export function createControlBuffer(workerCount: number): SharedArrayBuffer {
  return new SharedArrayBuffer(workerCount * 2 * 4);
}

/** The worker side: a sync hook that waits for its turn. */
export class Participant implements SyncHook {
  private readonly states: Int32Array;
  private readonly grants: Int32Array;

  /** Worker `index`'s side of the control buffer `control`. */
  constructor(control: SharedArrayBuffer, private readonly index: number) {
    const workerCount = control.byteLength / 8;
    this.states = new Int32Array(control, 0, workerCount);
    this.grants = new Int32Array(control, workerCount * 4, workerCount);
  }

  /** A synchronisation point: reports this worker waiting, then blocks until the coordinator grants its next step. */
  point(): void {
    const grant = Atomics.load(this.grants, this.index);
    Atomics.store(this.states, this.index, WorkerState.Waiting);
    Atomics.notify(this.states, this.index);
    while (Atomics.load(this.grants, this.index) === grant) Atomics.wait(this.grants, this.index, grant);
  }

  /** The worker is finished (call it in a finally, or the coordinator waits for it). */
  done(): void {
    Atomics.store(this.states, this.index, WorkerState.Done);
    Atomics.notify(this.states, this.index);
  }
}

/**
 * The coordinator side: runs until every worker is done, granting one step at a time to a
 * worker chosen by the seeded PRNG. Returns the number of steps. Blocks the calling thread
 * (fine for a test's main thread: workers do not need its event loop).
 */
export function coordinate(control: SharedArrayBuffer, seed: number, stallMs = 20_000): number {
  const workerCount = control.byteLength / 8;
  const states = new Int32Array(control, 0, workerCount);
  const grants = new Int32Array(control, workerCount * 4, workerCount);
  const random = new Random(seed);
  const runnable: number[] = [];
  for (let steps = 0; ; steps++) {
    runnable.length = 0;
    for (let worker = 0; worker < workerCount; worker++) {
      while (Atomics.load(states, worker) === WorkerState.Running) {
        if (Atomics.wait(states, worker, WorkerState.Running, stallMs) === "timed-out") {
          throw new Error(`interleaving (seed ${seed}): worker ${worker} ran ${stallMs} ms without reaching a synchronisation point`);
        }
      }
      if (Atomics.load(states, worker) === WorkerState.Waiting) runnable.push(worker);
    }
    if (runnable.length === 0) return steps;
    const next = runnable[random.below(runnable.length)];
    Atomics.store(states, next, WorkerState.Running);
    Atomics.add(grants, next, 1);
    Atomics.notify(grants, next);
  }
}
