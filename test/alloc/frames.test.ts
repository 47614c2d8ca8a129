import assert from "node:assert/strict";
import { once } from "node:events";
import { describe, it } from "node:test";
import { Worker } from "node:worker_threads";
import fc from "fast-check";
import { FrameAllocator } from "../../src/alloc/frames/frame-allocator.js";
import { attachFrameAllocator, createFrameAllocator, FRAME_ALLOCATOR_KINDS } from "../../src/alloc/frames/allocator-kinds.js";
import { FrameAllocatorError } from "../../src/alloc/frames/page-frame-allocator.js";
import { Geometry } from "../../src/alloc/frames/geometry.js";
import { coordinate, createControlBuffer } from "../../src/alloc/interleaving.js";
import { AddressSpace } from "../../src/space/address-space.js";
import type { FramesWorkerInput, FramesWorkerOutput } from "../workers/frames-worker.js";
import type { SpaceWorkerInput, SpaceWorkerOutput } from "../workers/space-worker.js";

const WORKER_URL = new URL("../workers/frames-worker.js", import.meta.url);

/** The tree a frame lies in. */
const treeOf = (frame: number): number => Math.floor(frame / Geometry.FramesPerTree);

/** Marks every frame of every run; fails on a frame held twice. Returns frames held. */
function assertDisjoint(frameCount: number, runs: Iterable<[number, number]>): number {
  const owner = new Uint8Array(frameCount);
  let held = 0;
  for (const [frame, order] of runs) {
    for (let f = frame; f < frame + (1 << order); f++) {
      assert.ok(f < frameCount, `run ${frame}/${order} past the end`);
      assert.equal(owner[f], 0, `frame ${f} held twice`);
      owner[f] = 1;
    }
    held += 1 << order;
  }
  return held;
}

function bufferCopy(allocator: FrameAllocator): Uint8Array {
  return new Uint8Array(allocator.buffer).slice();
}

describe("FrameAllocator (LLFree)", () => {
  it("hands out naturally aligned runs of every order and takes them back", () => {
    const allocator = FrameAllocator.create({ frames: 8192 });
    const runs: Array<[number, number]> = [];
    for (let order = 0; order <= 10; order++) {
      const frame = allocator.get(order);
      assert.ok(frame >= 0, `order ${order}`);
      assert.equal(frame % (1 << order), 0, `order ${order} run at ${frame} is not aligned`);
      runs.push([frame, order]);
      assert.equal(allocator.orderOf(frame), order);
    }
    const held = assertDisjoint(allocator.frameCount, runs);
    assert.equal(allocator.allocatedFrames(), held);
    allocator.check();
    for (const [frame, order] of runs) allocator.put(frame, order);
    assert.equal(allocator.allocatedFrames(), 0);
    assert.equal(allocator.freeFrames(), 8192);
    allocator.check();
  });

  it("fills up exactly, returns -1 when full, and the throwing variant names the request", () => {
    const allocator = FrameAllocator.create({ frames: 1000 }); // a partial last child
    const frames = new Set<number>();
    for (;;) {
      const frame = allocator.get(0);
      if (frame < 0) break;
      frames.add(frame);
    }
    assert.equal(frames.size, 1000);
    assert.ok([...frames].every((f) => f < 1000));
    assert.equal(allocator.freeFrames(), 0);
    assert.equal(allocator.get(9), -1);
    assert.throws(() => allocator.getOrThrow(3), /no free run of 8 frames \(order 3\); 0 of 1000 frames free/);
    allocator.check();
  });

  it("gives huge frames only from whole children and refuses them when fragmented", () => {
    const allocator = FrameAllocator.create({ frames: 2048 });
    const small = allocator.get(0);
    const huge = [allocator.get(9), allocator.get(9), allocator.get(9)].sort((a, b) => a - b);
    assert.deepEqual(huge, [512, 1024, 1536], `the small frame ${small} keeps child 0 out`);
    assert.equal(allocator.get(9), -1);
    assert.equal(allocator.get(10), -1);
    allocator.put(512, 9);
    allocator.put(1536, 9);
    assert.equal(allocator.get(10), -1, "two free children that are not an aligned pair");
    allocator.put(1024, 9);
    assert.equal(allocator.get(10), 1024);
    allocator.check();
  });

  it("reserves a partly used tree for small runs, and the first roomy tree for huge ones", () => {
    // Four workers' home trees are trees 0 to 3; the second worker leaves tree 1 partly used.
    const allocator = FrameAllocator.create({ frames: 4 * Geometry.FramesPerTree }, { worker: 0, workers: 4 });
    const other = FrameAllocator.attach(allocator.buffer, { worker: 1, workers: 4 });
    const small = Array.from({ length: 100 }, () => other.get(0));
    assert.ok(small.every((frame) => frame >= Geometry.FramesPerTree && frame < 2 * Geometry.FramesPerTree), "the second worker's home tree serves it");
    other.releaseReservation();
    const huge = allocator.get(9);
    assert.ok(huge < Geometry.FramesPerTree, `huge frame ${huge}: the whole home tree was passed over for a partly used one`);
    allocator.releaseReservation();
    const next = allocator.get(0);
    assert.ok(next < 2 * Geometry.FramesPerTree, `small frame ${next}: a whole tree was broken while trees 0 and 1, partly used, had plenty free`);
    for (const frame of [...small, next]) allocator.put(frame, 0);
    allocator.put(huge, 9);
    assert.equal(allocator.allocatedFrames(), 0);
    allocator.check();
  });

  it("looks for its next tree in its home range before the other workers' trees", () => {
    // Two workers: trees 0-1 are the first's home range, trees 2-3 the second's.
    const first = FrameAllocator.create({ frames: 4 * Geometry.FramesPerTree }, { worker: 0, workers: 2 });
    const second = FrameAllocator.attach(first.buffer, { worker: 1, workers: 2 });
    const held = Array.from({ length: 64 }, () => second.get(9));
    assert.deepEqual([...new Set(held.map(treeOf))], [2, 3], "the second worker fills its home trees in order");
    for (const frame of held.filter((f) => treeOf(f) === 2)) second.put(frame, 9);
    // Tree 3 is full; searching onwards from it would wrap round to the first worker's tree 0.
    const next = second.get(9);
    assert.equal(treeOf(next), 2, `huge frame ${next} came from the other worker's trees while home tree 2 was whole`);
    const spill = Array.from({ length: 32 }, () => second.get(9));
    assert.ok(spill.slice(0, 31).every((f) => treeOf(f) === 2) && treeOf(spill[31]) < 2, "with its home range full it takes the other trees");
    for (const frame of [...held.filter((f) => treeOf(f) === 3), next, ...spill]) second.put(frame, 9);
    assert.equal(first.allocatedFrames(), 0);
    first.check();
  });

  it("takes a roomy tree outside its home range before a home tree with a few frames", () => {
    // Told of two workers but alone: its home range is trees 0-1, and it frees everywhere.
    const allocator = FrameAllocator.create({ frames: 4 * Geometry.FramesPerTree }, { worker: 0, workers: 2 });
    const held = Array.from({ length: 128 }, () => allocator.get(9));
    const freed = [...held.filter((f) => treeOf(f) === 0).slice(0, 2), ...held.filter((f) => treeOf(f) === 3).slice(0, 20)];
    for (const frame of freed) allocator.put(frame, 9);
    allocator.releaseReservation();
    const next = allocator.get(9);
    assert.equal(treeOf(next), 3, `huge frame ${next}: a home tree with 2 free children was taken while tree 3 had 20`);
    for (const frame of [...held.filter((f) => !freed.includes(f)), next]) allocator.put(frame, 9);
    assert.equal(allocator.allocatedFrames(), 0);
    allocator.check();
  });

  it("searches all trees alike once eight searches in a row were served outside its home range", () => {
    // Told of two workers but alone on 16 trees: home range 0-7. Filling them all takes
    // eight searches served at home, then eight served elsewhere (trees 8-15).
    const allocator = FrameAllocator.create({ frames: 16 * Geometry.FramesPerTree }, { worker: 0, workers: 2 });
    const held = new Set(Array.from({ length: 16 * 32 }, () => allocator.get(9)));
    const freeIn = (tree: number, count: number): void => {
      for (const frame of [...held].filter((f) => treeOf(f) === tree).slice(0, count)) {
        allocator.put(frame, 9);
        held.delete(frame);
      }
    };
    freeIn(10, 16);
    allocator.releaseReservation();
    for (let i = 0; i < 16; i++) held.add(allocator.get(9)); // tree 10, the one roomy tree, emptied
    freeIn(4, 20);
    freeIn(12, 20);
    const next = allocator.get(9);
    assert.equal(treeOf(next), 12, `huge frame ${next}: searching onwards from tree 10 over all trees finds tree 12 first, not home tree 4`);
    for (const frame of [...held, next]) allocator.put(frame, 9);
    assert.equal(allocator.allocatedFrames(), 0);
    allocator.check();
  });

  it("rejects misuse with a clear error and changes nothing", () => {
    const allocator = FrameAllocator.create({ frames: 8192 });
    const run = allocator.get(3);
    const big = allocator.get(6);
    const small = allocator.get(2);
    const huge = allocator.get(9);
    const pair = allocator.get(10);
    const [left, right] = [allocator.get(9), allocator.get(9)].sort((x, y) => x - y);
    allocator.put(allocator.get(0), 0);
    const before = bufferCopy(allocator);
    const cases: Array<[() => void, RegExp]> = [
      [() => allocator.put(run + 1, 0), /put of frame \d+ \(order 0\): inside an allocated run, not its first frame/],
      [() => allocator.put(run, 0), /it was allocated with order 3/],
      [() => allocator.put(run, 2), /it was allocated with order 3/],
      [() => allocator.put(run, 4), /it was allocated with order 3|not aligned/],
      [() => allocator.put(big, 5), /it was allocated with order 6/],
      [() => allocator.put(big, 7), /it was allocated with order 6|not aligned/],
      [() => allocator.put(big + 32, 5), /inside an allocated run/],
      [() => allocator.put(small, 3), /it was allocated with order 2|not aligned/],
      [() => allocator.put(huge, 0), /it was allocated with order 9/],
      [() => allocator.put(huge + 8, 3), /inside an allocated run/],
      [() => allocator.put(pair, 9), /it was allocated with order 10/],
      [() => allocator.put(pair + 512, 9), /inside an allocated run/],
      [() => allocator.put(left, 10), right === left + 512 && left % 1024 === 0 ? /it was allocated with order 9/ : /not aligned|order 9/],
      [() => allocator.put(8192, 0), /outside this allocator's 8192 frames/],
      [() => allocator.put(-1, 0), /outside/],
      [() => allocator.put(3, 1), /not aligned to 2 frames/],
      [() => allocator.get(11), /order must be an integer from 0 to 10/],
      [() => allocator.put(run, 1.5), /order must be/],
    ];
    for (const [misuse, message] of cases) {
      assert.throws(misuse, message);
      assert.deepEqual(bufferCopy(allocator), before, `state changed by ${message}`);
    }
    allocator.check();
    for (const [frame, order] of [[run, 3], [big, 6], [small, 2], [huge, 9], [pair, 10], [left, 9], [right, 9]]) {
      allocator.put(frame, order);
      assert.throws(() => allocator.put(frame, order), (e: unknown) => e instanceof FrameAllocatorError && /not allocated \(a double free\?\)/.test(e.message));
    }
    assert.equal(allocator.allocatedFrames(), 0);
    allocator.check();
  });

  it("frames parked in an idle worker's budget stay available to the others", () => {
    const idle = FrameAllocator.create({ frames: 3000 }, { worker: 0, workers: 2 });
    const busy = FrameAllocator.attach(idle.buffer, { worker: 1, workers: 2 });
    const first = idle.get(0); // reserves a tree: its free frames become idle's budget
    idle.check();
    let got = 0;
    while (busy.get(0) >= 0) got++;
    assert.equal(got, 2999, "every other frame, including those in idle's budget");
    assert.equal(busy.freeFrames(), 0);
    busy.check();
    idle.put(first, 0);
    assert.equal(busy.get(0), first);
    idle.releaseReservation();
    busy.releaseReservation();
    busy.check();
  });

  it("check() catches a corrupted counter and names it", () => {
    const allocator = FrameAllocator.create({ frames: 4096 });
    allocator.get(0);
    const words = new Int32Array(allocator.buffer);
    words[allocator.layout.childrenWord] += 1;
    assert.throws(() => allocator.check(), /child 0 \(frames 0-511\): counter 512, free frames 511/);
  });

  it("rejects a buffer that is not an allocator's", () => {
    assert.throws(() => FrameAllocator.attach(new SharedArrayBuffer(1024)), /not a frame allocator buffer/);
    assert.throws(() => FrameAllocator.create({ frames: 0 }), /frame count must be/);
    assert.throws(() => FrameAllocator.create({ frames: 2 ** 21, backed: true }), /at most 1048576 frames/);
  });
});

describe("every frame allocator against one model", () => {
  for (const kind of FRAME_ALLOCATOR_KINDS) {
    it(`${kind}: random gets and puts from two handles (fast-check)`, () => {
      const op = fc.oneof(
        fc.record({ kind: fc.constant("get" as const), order: fc.integer({ min: 0, max: 10 }) }),
        fc.record({ kind: fc.constant("put" as const), pick: fc.nat() }),
      );
      fc.assert(
        fc.property(fc.integer({ min: 1, max: 5000 }), fc.array(op, { maxLength: 120 }), (frameCount, ops) => {
          const first = createFrameAllocator(kind, frameCount);
          const handles = [first, attachFrameAllocator(kind, first.buffer, 1, 2)];
          const held: Array<[number, number]> = [];
          let heldFrames = 0;
          ops.forEach((step, i) => {
            const handle = handles[i & 1];
            if (step.kind === "get") {
              const frame = handle.get(step.order);
              if (frame >= 0) {
                assert.equal(frame % (1 << step.order), 0);
                held.push([frame, step.order]);
                heldFrames += 1 << step.order;
              } else if (step.order === 0) {
                assert.equal(heldFrames, frameCount, "order 0 failed with frames free");
              }
            } else if (held.length > 0) {
              const [frame, order] = held.splice(step.pick % held.length, 1)[0];
              handle.put(frame, order);
              heldFrames -= 1 << order;
            }
            assert.equal(handles[0].allocatedFrames(), heldFrames);
          });
          assertDisjoint(frameCount, held);
          if (handles[0] instanceof FrameAllocator) handles[0].check();
          for (const [frame, order] of held) handles[0].put(frame, order);
          assert.equal(handles[0].freeFrames(), frameCount);
          if (handles[0] instanceof FrameAllocator) handles[0].check();
          assert.throws(() => handles[1].put(0, 0), /not allocated/);
        }),
        { numRuns: 150 },
      );
    });
  }
});

async function runWorkers(allocator: FrameAllocator, inputs: Omit<FramesWorkerInput, "buffer" | "index">, control: SharedArrayBuffer | null, workers: number): Promise<FramesWorkerOutput[]> {
  const threads = Array.from({ length: workers }, (_, index) => new Worker(WORKER_URL, { workerData: { ...inputs, buffer: allocator.buffer, index } satisfies FramesWorkerInput }));
  const outputs = threads.map((thread) => once(thread, "message").then(([output]) => output as FramesWorkerOutput));
  const exits = threads.map((thread) => once(thread, "exit"));
  if (control !== null) coordinate(control, inputs.seed);
  const results = await Promise.all(outputs);
  await Promise.all(exits);
  return results;
}

function verifyAfterWorkers(allocator: FrameAllocator, outputs: FramesWorkerOutput[], label: string): void {
  for (const output of outputs) assert.equal(output.error, null, `${label}: ${output.error}`);
  const held = assertDisjoint(allocator.frameCount, outputs.flatMap((o) => o.held));
  assert.equal(allocator.allocatedFrames(), held, `${label}: allocatedFrames() against frames the workers hold`);
  allocator.check();
}

// MEMSPACE_RACE_SEEDS=N runs more seeds; MEMSPACE_RACE_SEED=S replays one.
const RACE_SEEDS = process.env.MEMSPACE_RACE_SEED !== undefined ? [Number(process.env.MEMSPACE_RACE_SEED)] : Array.from({ length: Number(process.env.MEMSPACE_RACE_SEEDS ?? 12) }, (_, i) => i + 1);

describe("FrameAllocator under concurrency", () => {
  for (const [frames, label] of [
    [1100, "one tree, three children"],
    [16384 + 700, "two trees"],
  ] as const) {
    it(`races: 3 workers on ${label}, seeded interleavings, exact counts`, async () => {
      for (const seed of RACE_SEEDS) {
        const allocator = FrameAllocator.create({ frames }, { worker: 3, workers: 4 }); // workers 0-2 are the threads
        const victim = allocator.get(0);
        const control = createControlBuffer(3);
        const outputs = await runWorkers(allocator, { mode: "interleaved", control, workers: 3, seed, ops: 60, durationMs: 0, victim, victimGate: new SharedArrayBuffer(4) }, control, 3);
        verifyAfterWorkers(allocator, outputs, `seed ${seed} (replay: MEMSPACE_RACE_SEED=${seed})`);
        assert.equal(outputs.filter((o) => o.victimFreed).length, 1, `seed ${seed}: exactly one worker frees the shared frame`);
      }
    });
  }

  it("stress: 2 free-running workers at random fill levels", async () => {
    const allocator = FrameAllocator.create({ frames: 1 << 16 });
    const outputs = await runWorkers(allocator, { mode: "stress", control: null, workers: 2, seed: 42, ops: 0, durationMs: 1000, victim: -1, victimGate: null }, null, 2);
    verifyAfterWorkers(allocator, outputs, "stress");
    assert.ok(outputs.every((o) => o.gets > 1000 && o.puts > 1000), `both workers worked: ${outputs.map((o) => `${o.gets} gets`).join(", ")}`);
  });
});

describe("AddressSpace on a FrameAllocator", () => {
  it("takes page frames from the allocator and gives them back on unmap and zero fill", () => {
    const frames = FrameAllocator.create({ frames: 64, backed: true });
    const space = new AddressSpace({ frames });
    space.write(0x1000_0ffcn, new Uint8Array(4096 * 3).fill(0xab)); // four pages, crossing
    assert.equal(frames.allocatedFrames(), 4);
    assert.equal(space.load32(0x1000_0ffc), 0xabababab);
    assert.equal(space.load8(0x0fff_f000), 0, "an untouched page reads zero and costs no frame");
    assert.equal(frames.allocatedFrames(), 4);
    const fork = space.snapshot();
    fork.store8(0x1000_1000, 1);
    assert.equal(frames.allocatedFrames(), 5, "copy on write takes one frame");
    assert.equal(space.load8(0x1000_1000), 0xab);
    space.unmap(0x1000_0000, 0x2000);
    assert.equal(frames.allocatedFrames(), 4, "the first page is still the snapshot's; the second was the space's alone");
    fork.unmap(0x1000_0000, 0x2000);
    assert.equal(frames.allocatedFrames(), 2);
    fork.fill(0x1000_2000, 0x2000, 0);
    space.fill(0x1000_2000, 0x2000, 0);
    assert.equal(frames.allocatedFrames(), 0);
    frames.check();
  });

  it("names the allocator when it runs out of frames", () => {
    const space = new AddressSpace({ frames: FrameAllocator.create({ frames: 2, backed: true }) });
    space.store8(0, 1);
    space.store8(4096, 1);
    assert.throws(() => space.store8(8192, 1), /out of frames: no free run of 1 frames \(order 0\); 0 of 2 frames free/);
    assert.equal(space.load8(4096), 1);
    assert.throws(() => new AddressSpace({ frames: FrameAllocator.create({ frames: 2 }) }), /must hold its frames' bytes/);
  });

  it("lets two workers' address spaces share one frame pool", async () => {
    const frames = FrameAllocator.create({ frames: 4096, backed: true });
    const pages = 1000;
    const threads = [0, 1].map((index) => new Worker(new URL("../workers/space-worker.js", import.meta.url), { workerData: { buffer: frames.buffer, index, pages } satisfies SpaceWorkerInput }));
    const outputs = await Promise.all(threads.map((thread) => once(thread, "message").then(([output]) => output as SpaceWorkerOutput)));
    for (const output of outputs) {
      assert.equal(output.error, null, output.error ?? "");
      assert.equal(output.mismatches, 0);
      assert.equal(output.residentPages, pages / 2);
    }
    assert.equal(frames.allocatedFrames(), pages, "the frames both spaces still hold, and no more");
    frames.check();
  });
});
