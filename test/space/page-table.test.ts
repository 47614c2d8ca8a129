import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { FramePool, ZERO_FRAME } from "../../src/space/frame-pool.js";
import { PageTable } from "../../src/space/page-table.js";

describe("PageTable against a Map model", () => {
  it("set, get, delete (backward shift) and growth keep every entry findable", () => {
    // Few distinct keys in a small table: long probe clusters, wrap-around and many deletes.
    const keyArb = fc.tuple(fc.integer({ min: 0, max: 40 }), fc.constantFrom(0, 1, 0xfffff));
    const commandArb = fc.oneof(
      fc.tuple(fc.constant("set" as const), keyArb, fc.integer({ min: 0, max: 1000 })),
      fc.tuple(fc.constant("delete" as const), keyArb, fc.constant(0)),
    );
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 300 }), (commands) => {
        const table = new PageTable(2);
        const model = new Map<string, number>();
        for (const [kind, [keyLo, keyHi], frame] of commands) {
          const key = `${keyLo}:${keyHi}`;
          if (kind === "set") {
            assert.equal(table.set(keyLo, keyHi, frame), model.get(key) ?? -1);
            model.set(key, frame);
          } else {
            assert.equal(table.delete(keyLo, keyHi), model.get(key) ?? -1);
            model.delete(key);
          }
          assert.equal(table.size, model.size);
        }
        for (let keyLo = 0; keyLo <= 40; keyLo++) {
          for (const keyHi of [0, 1, 0xfffff]) assert.equal(table.get(keyLo, keyHi), model.get(`${keyLo}:${keyHi}`) ?? -1);
        }
        const seen = new Map<number, number>();
        table.forEach((page, frame) => seen.set(page, frame));
        assert.equal(seen.size, model.size);
        const copy = table.clone();
        for (const [key, frame] of model) {
          const [keyLo, keyHi] = key.split(":").map(Number);
          assert.equal(copy.get(keyLo, keyHi), frame);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe("FramePool", () => {
  it("hands out distinct zeroed frames, reuses released ones, and guards reference counts", () => {
    const pool = new FramePool();
    const frames = Array.from({ length: 300 }, () => pool.allocate());
    assert.equal(new Set(frames).size, 300);
    assert.ok(!frames.includes(ZERO_FRAME));
    const frame = frames[123];
    pool.bytesOf(frame).fill(7, pool.baseOf(frame), pool.baseOf(frame) + 4096);
    pool.retain(frame);
    assert.equal(pool.isShared(frame), true);
    pool.release(frame);
    pool.release(frame);
    assert.throws(() => pool.release(frame), /release of free frame/);
    assert.throws(() => pool.retain(frame), /retain of free frame/);
    const again = pool.allocate();
    assert.equal(again, frame, "a released frame is reused");
    const bytes = pool.bytesOf(again).subarray(pool.baseOf(again), pool.baseOf(again) + 4096);
    assert.ok(bytes.every((byte) => byte === 0), "and comes back zeroed");
  });
});
