import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FrameAllocator } from "../../src/alloc/frames/frame-allocator.js";
import { SimulatedMedium } from "../../src/durable/medium.js";
import { Random } from "../../src/util/random.js";
import { withTempDir } from "../helpers.js";
import { join } from "node:path";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { AddressSpace } from "../../src/space/address-space.js";
import { runCrashTest } from "../../src/crash/crash-test.js";
import { CRASH_TEST_WORKERS } from "../../src/crash/frames-crash-test.js";

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
      const { lost, crashed } = powerLossScenario(i + 1, 1 + random.below(2500));
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
      const bogus = join(folder, "bogus.img");
      writeFileSync(bogus, new Uint8Array(4096).fill(7));
      assert.throws(() => FrameAllocator.open(bogus), /bogus\.img: not a frame allocator file \(magic 0x7070707\)/);
      writeFileSync(bogus, "short");
      assert.throws(() => FrameAllocator.open(bogus), /bogus\.img: 5 bytes, too short for a frame allocator/);
      assert.throws(() => FrameAllocator.open(join(folder, "missing.img")), /missing\.img: no such allocator file \(pass frames to create one\)/);
    });
  });
});

describe("address-space images", () => {
  function fillPattern(space: AddressSpace, random: Random, ops: number): void {
    for (let i = 0; i < ops; i++) {
      const page = 0x100 + random.below(64);
      const choice = random.below(10);
      if (choice < 7) space.store64(page * 4096 + random.below(512) * 8, BigInt(random.nextU32()) << 16n);
      else if (choice < 9) space.fill(page * 4096, 4096, 0);
      else space.protect(0x100 * 4096, 4096 * (1 + random.below(4)), random.below(2) === 0 ? "r--" : "rw-");
    }
  }

  function sameContents(a: AddressSpace, b: AddressSpace, label: string): void {
    assert.deepEqual(a.regions(), b.regions(), `${label}: regions`);
    assert.deepEqual(a.read(0x100 * 4096, 64 * 4096), b.read(0x100 * 4096, 64 * 4096), `${label}: bytes`);
  }

  it("save and load round-trip pages anywhere in 2^64 and the region map", () => {
    withTempDir((folder) => {
      const path = join(folder, "space.img");
      const space = new AddressSpace();
      space.map(0x10000, 0x4000, "r-x");
      space.store64(0xffff_ffff_ffff_f000n, 0x1122334455667788n);
      space.write(0x1_0000_0ffen, new Uint8Array([1, 2, 3, 4]));
      space.save(path);
      const loaded = AddressSpace.load(path, { strict: false });
      assert.equal(loaded.load64(0xffff_ffff_ffff_f000n), 0x1122334455667788n);
      assert.deepEqual([...loaded.read(0x1_0000_0ffen, 4)], [1, 2, 3, 4]);
      assert.deepEqual(loaded.regions(), space.regions());
      assert.equal(loaded.stats().residentPages, 3);
    });
  });

  it("checkpoints append only what changed, and load applies them in order", () => {
    withTempDir((folder) => {
      const path = join(folder, "space.img");
      const space = new AddressSpace();
      space.map(0x100 * 4096, 64 * 4096, "rw-");
      const random = new Random(7);
      fillPattern(space, random, 500);
      space.checkpoint(path);
      const fullBytes = statSync(path).size;
      for (let round = 0; round < 5; round++) {
        const sizeBefore = statSync(path).size;
        fillPattern(space, random, 10);
        space.checkpoint(path);
        assert.ok(statSync(path).size - sizeBefore < fullBytes / 2, `checkpoint ${round + 1} appends only the pages it changed`);
        sameContents(AddressSpace.load(path), space, `after checkpoint ${round + 1}`);
      }
      assert.equal(AddressSpace.load(path).imageSequence, 5);
    });
  });

  it("a torn or corrupt last checkpoint loads as the one before; a corrupt first one is an error naming the offset", () => {
    withTempDir((folder) => {
      const path = join(folder, "space.img");
      const space = new AddressSpace();
      space.store32(0x5000, 1);
      space.checkpoint(path);
      const before = readFileSync(path).length;
      space.store32(0x5000, 2);
      space.checkpoint(path);
      const whole = readFileSync(path);
      for (const cut of [1, 20, whole.length - before - 1]) {
        writeFileSync(path, whole.subarray(0, whole.length - cut));
        assert.equal(AddressSpace.load(path).load32(0x5000), 1, `cut ${cut} bytes`);
      }
      const flipped = Uint8Array.from(whole);
      flipped[before + 100] ^= 0x40;
      writeFileSync(path, flipped);
      assert.equal(AddressSpace.load(path).load32(0x5000), 1, "a flipped bit in the last segment");
      flipped[60] ^= 0x40;
      writeFileSync(path, flipped);
      assert.throws(() => AddressSpace.load(path), /space\.img: not an address-space image: checksum mismatch .* at byte offset 0/);
      writeFileSync(path, "hello");
      assert.throws(() => AddressSpace.load(path), /not an address-space image: truncated segment header at byte offset 0/);
    });
  });

  it("fuzz: a corrupted image loads as one of its checkpoints, or fails with an error naming the file", () => {
    withTempDir((folder) => {
      const path = join(folder, "space.img");
      const space = new AddressSpace();
      space.map(0x7000, 4096, "rw-");
      space.store32(0x7000, 1);
      space.checkpoint(path);
      const firstBytes = readFileSync(path).length;
      // Every byte of the pages and the region map must be exactly one checkpoint's.
      const snapshot = (of: AddressSpace): string => JSON.stringify([of.regions(), Array.from(of.read(0x7000, 3 * 4096))], (_, v) => (typeof v === "bigint" ? v.toString() : v));
      const first = snapshot(space);
      space.store32(0x7000, 2);
      space.store32(0x9000, 3);
      space.protect(0x7000, 4096, "r--");
      space.checkpoint(path);
      const second = snapshot(space);
      const whole = readFileSync(path);
      const edit = fc.tuple(fc.integer({ min: 0, max: whole.length - 1 }), fc.integer({ min: 1, max: 255 }));
      fc.assert(
        fc.property(fc.array(edit, { minLength: 0, maxLength: 6 }), fc.integer({ min: 0, max: whole.length }), (edits, length) => {
          const bytes = Uint8Array.from(whole.subarray(0, length));
          for (const [at, flip] of edits) if (at < bytes.length) bytes[at] ^= flip;
          writeFileSync(path, bytes);
          let loaded: AddressSpace;
          try {
            loaded = AddressSpace.load(path);
          } catch (error) {
            assert.ok(error instanceof Error && error.name === "ImageFormatError" && error.message.startsWith(path), String(error));
            // Only a damaged first checkpoint is an error; the second is then never reached.
            assert.ok(length < firstBytes || edits.some(([at]) => at < firstBytes), "a whole first checkpoint loads");
            return;
          }
          const state = snapshot(loaded);
          assert.ok(state === first || state === second, "the loaded image is neither checkpoint");
          if (length === whole.length && edits.length === 0) assert.equal(state, second);
        }),
        { numRuns: 200 },
      );
    });
  });

  it("survives simulated power loss during checkpoints: exactly the previous or the new one", () => {
    const scenarios = Number(process.env.MEMSPACE_POWER_LOSSES ?? 300) / 3;
    for (let seed = 1; seed <= scenarios; seed++) {
      const random = new Random(seed);
      const medium = new SimulatedMedium();
      const space = new AddressSpace();
      space.map(0x100 * 4096, 64 * 4096, "rw-");
      const expected: AddressSpace[] = [];
      const crashAt = 1 + random.below(14);
      let events = 0;
      medium.beforeEach = () => {
        if (++events === crashAt) throw new SimulatedCrash();
      };
      try {
        for (let round = 0; round < 8; round++) {
          fillPattern(space, random, 15);
          expected.push(space.snapshot());
          space.checkpointTo(medium, "sim");
        }
      } catch (error) {
        if (!(error instanceof SimulatedCrash)) throw error;
      }
      const image = medium.crash(seed);
      if (expected.length === 1 && image.length === 0) continue; // crashed during the first: nothing to load
      let loaded: AddressSpace;
      try {
        loaded = AddressSpace.fromImage(image, "sim");
      } catch (error) {
        assert.equal(expected.length, 1, `seed ${seed}: only a crash during the first checkpoint may leave no image (${(error as Error).message})`);
        continue;
      }
      const sequence = loaded.imageSequence;
      assert.ok(sequence >= expected.length - 2 && sequence <= expected.length - 1, `seed ${seed}: loaded checkpoint ${sequence} of ${expected.length} attempted`);
      sameContents(loaded, expected[sequence], `seed ${seed}, checkpoint ${sequence}`);
    }
  });
});

describe("crash tests (kill -9)", () => {
  for (const kind of ["frames", "image"] as const) {
    it(`${kind}: a few kills, every invariant holds after recovery`, async () => {
      const report = await runCrashTest(kind, { kills: kind === "frames" ? 4 : 3, seed: 5, durability: "process" });
      assert.equal(report.kills, report.recovered);
      assert.equal(report.violations, 0, report.violationDetails.join("\n"));
      assert.ok(report.maxLostPerKill <= CRASH_TEST_WORKERS, `lost ${report.maxLostPerKill} runs in one kill`);
    });
  }
});
