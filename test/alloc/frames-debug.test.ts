import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { describe, it } from "node:test";
// Const enums only: tsc writes their members as literals and loads neither module here.
import { Geometry } from "../../src/alloc/frames/geometry.js";
import { FieldWord } from "../../src/alloc/frames/lower/run-field.js";

// Debug mode is chosen once, when the allocator's modules load: set it before importing them
// (node --test runs each test file in a process of its own).
process.env.MEMSPACE_DEBUG = "1";
const { FrameAllocator } = await import("../../src/alloc/frames/frame-allocator.js");
const { DEBUG_CHECKS } = await import("../../src/util/debug.js");

const DEBUG_FAILURE = /frame allocator debug check failed/;

describe("FrameAllocator debug checks (MEMSPACE_DEBUG=1)", () => {
  it("are on", () => {
    assert.equal(DEBUG_CHECKS, true);
  });

  it("are off unless MEMSPACE_DEBUG is exactly 1", () => {
    const debugModule = new URL("../../src/util/debug.js", import.meta.url).href;
    const script = `import(${JSON.stringify(debugModule)}).then((m) => process.stdout.write(String(m.DEBUG_CHECKS)))`;
    const checksWith = (value: string | undefined): string => {
      const env = { ...process.env };
      if (value === undefined) delete env.MEMSPACE_DEBUG;
      else env.MEMSPACE_DEBUG = value;
      return execFileSync(process.execPath, ["-e", script], { env, encoding: "utf8" });
    };
    assert.deepEqual([undefined, "0", "true", "1"].map(checksWith), ["false", "false", "false", "true"]);
  });

  it("pass every get and put of a mixed workload on two handles", () => {
    const first = FrameAllocator.create({ frames: 5000 });
    const second = FrameAllocator.attach(first.buffer);
    const held: Array<[number, number]> = [];
    for (let i = 0; i < 600; i++) {
      const handle = i % 2 === 0 ? first : second;
      if (i % 3 === 2 && held.length > 0) {
        const [frame, order] = held.splice((i * 7) % held.length, 1)[0];
        handle.put(frame, order);
      } else {
        const order = i % (Geometry.MaxOrder + 1);
        const frame = handle.get(order);
        if (frame >= 0) held.push([frame, order]);
      }
    }
    for (const [frame, order] of held) first.put(frame, order);
    first.check();
    assert.equal(first.freeFrames(), 5000);
  });

  it("catch a huge get that takes a child whose run field still holds an allocated frame (a corrupted counter)", () => {
    const allocator = FrameAllocator.create({ frames: Geometry.FramesPerChild });
    assert.equal(allocator.get(0), 0);
    // The child's counter says every frame is free again, though frame 0 is allocated.
    new Int32Array(allocator.buffer)[allocator.layout.childrenWord] = Geometry.FramesPerChild;
    assert.throws(() => allocator.get(Geometry.HugeOrder), /get\(9\) returned frame 0: child 0 still has 1 frames allocated in its run field/);
  });

  it("catch a get that returns a frame past the pool's end (a corrupted tail)", () => {
    const frames = 1000; // the second child ends at frame 999; 1000-1023 are marked allocated for good
    const allocator = FrameAllocator.create({ frames });
    const words = new Int32Array(allocator.buffer);
    const tailFrames = 16; // frames 1008-1023: the last word of the second child's run field
    words[allocator.layout.blocksWord + 2 * FieldWord.WordsPerChild - 1] = 0;
    words[allocator.layout.childrenWord + 1] += tailFrames;
    words[allocator.layout.treesWord] += tailFrames;
    assert.throws(() => {
      for (let i = 0; i < frames + tailFrames; i++) allocator.get(0);
    }, /returned frame 10[0-2]\d: the run is not inside the pool of 1000 frames/);
  });

  it("leave a put that does not match what is allocated to put's own refusal, which changes nothing", () => {
    const allocator = FrameAllocator.create({ frames: 4096 });
    const frame = allocator.get(2);
    assert.equal(frame, 0);
    const before = new Uint8Array(allocator.buffer).slice();
    assert.throws(() => allocator.put(8, 0), /put of frame 8 \(order 0\): not allocated \(a double free\?\)/);
    assert.throws(() => allocator.put(0, 1), /put of frame 0 \(order 1\): it was allocated with order 2/);
    assert.throws(() => allocator.put(2, 1), /put of frame 2 \(order 1\): inside an allocated run/);
    assert.deepEqual(new Uint8Array(allocator.buffer), before);
    allocator.put(0, 2);
    assert.throws(() => allocator.put(0, 2), /put of frame 0 \(order 2\): not allocated/, "double free");
  });

  it("catch a huge put over a child whose run field holds an allocated frame (a corrupted run field)", () => {
    const allocator = FrameAllocator.create({ frames: Geometry.FramesPerChild });
    assert.equal(allocator.get(Geometry.HugeOrder), 0);
    // Frame 3 marked as the start of a run of its own, inside the huge frame.
    new Int32Array(allocator.buffer)[allocator.layout.blocksWord] = 3 << 6;
    assert.throws(() => allocator.put(0, Geometry.HugeOrder), /debug check failed: put\(0, 9\): child 0 has 1 frames allocated in its run field/);
  });
});
