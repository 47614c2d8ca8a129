import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { FrameAllocator } from "../src/alloc/frames/frame-allocator.js";
import { SimulatedMedium } from "../src/persist/medium.js";
import { Random } from "../src/util/random.js";
import { withTempDir } from "./helpers.js";
import { join } from "node:path";

class SimulatedCrash extends Error {}

const ORDERS = [0, 0, 0, 1, 2, 4, 5, 6, 8, 9, 10];

/**
 * One power-loss scenario: random gets and puts on a persistent allocator over a simulated
 * medium, an application journal kept as an application would (a run is recorded after get
 * returns, dropped before put), a crash at the `crashAt`-th step (a synchronisation point,
 * persist or barrier), then recovery from what the crash left. Returns the runs lost.
 */
function powerLossScenario(seed: number, crashAt: number): { lost: number; crashed: boolean } {
  const frameCount = 2048 + 300;
  const buffer = FrameAllocator.createImage(frameCount);
  const medium = new SimulatedMedium(new Uint8Array(buffer));
  const allocator = FrameAllocator.fromImage(buffer, medium, { worker: 0, workers: 1 });
  let steps = 0;
  const step = (): void => {
    if (++steps === crashAt) throw new SimulatedCrash();
  };
  medium.beforeEach = step;
  allocator.setSyncHook({ point: step });
  const random = new Random(seed);
  const journal = new Map<number, number>();
  let crashed = false;
  try {
    for (let op = 0; op < 400; op++) {
      if (journal.size > 0 && random.below(100) < 45) {
        const frames = [...journal.keys()];
        const frame = frames[random.below(frames.length)];
        const order = journal.get(frame)!;
        journal.delete(frame);
        allocator.put(frame, order);
      } else {
        const order = ORDERS[random.below(ORDERS.length)];
        const frame = allocator.get(order);
        if (frame >= 0) journal.set(frame, order);
      }
    }
  } catch (error) {
    if (!(error instanceof SimulatedCrash)) throw error;
    crashed = true;
  }
  medium.beforeEach = null;
  const image = medium.crash(seed * 31 + crashAt);
  const recoveredBuffer = new SharedArrayBuffer(image.length);
  new Uint8Array(recoveredBuffer).set(image);
  const recovered = FrameAllocator.fromImage(recoveredBuffer, new SimulatedMedium(new Uint8Array(recoveredBuffer)));
  recovered.check();
  const label = `seed ${seed}, crash at step ${crashAt}`;
  for (const [frame, order] of journal) assert.equal(recovered.orderOf(frame), order, `${label}: the application holds frame ${frame} (order ${order}); after recovery it must be allocated so`);
  let lost = 0;
  recovered.forEachRun((frame, order) => {
    if (journal.get(frame) !== order) lost++;
  });
  // Every frame the application does not hold is free again or one lost run.
  return { lost, crashed };
}

describe("persistent frame allocator", () => {
  it("survives simulated power loss at any step: nothing handed out twice, at most one run lost", () => {
    let crashes = 0;
    let maxLost = 0;
    const scenarios = Number(process.env.MEMSPACE_POWER_LOSSES ?? 300);
    const random = new Random(99);
    for (let i = 0; i < scenarios; i++) {
      const { lost, crashed } = powerLossScenario(i + 1, 1 + random.below(6000));
      if (crashed) crashes++;
      assert.ok(lost <= 1, `seed ${i + 1}: ${lost} runs lost`);
      maxLost = Math.max(maxLost, lost);
    }
    assert.ok(crashes > scenarios / 2, `most scenarios crash mid-run (${crashes} of ${scenarios})`);
  });

  it("reopens a cleanly closed file without recovery, and an unclosed one with it", () => {
    withTempDir((folder) => {
      const path = join(folder, "frames.img");
      const first = FrameAllocator.open(path, { frames: 5000, durability: "process" });
      const held = [first.get(0), first.get(3), first.get(9), first.get(10)];
      first.put(held.pop()!, 10);
      first.close();
      const second = FrameAllocator.open(path, { frames: 5000 });
      assert.equal(second.recovery, null);
      assert.deepEqual([0, 3, 9].map((order, i) => second.orderOf(held[i]) === order), [true, true, true]);
      assert.equal(second.allocatedFrames(), 1 + 8 + 512);
      second.check();
      second.get(2); // never closed: a crash, as far as the file knows
      const third = FrameAllocator.open(path, { frames: 5000 });
      assert.ok(third.recovery !== null);
      assert.equal(third.allocatedFrames(), 1 + 8 + 512 + 4);
      third.check();
      third.close();
      assert.throws(() => FrameAllocator.open(path, { frames: 4000 }), /holds 5000 frames, not 4000/);
    });
  });
});
