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

describe("PageTable", () => {
  /** The highest page number of the 2^64-byte space, 2^52 - 1, as its two 32-bit words. */
  const LAST_PAGE_LO = 0xffffffff;
  const LAST_PAGE_HI = 0xfffff;

  it("starts empty: every lookup and delete misses, forEach visits nothing", () => {
    const table = new PageTable();
    assert.equal(table.size, 0);
    assert.equal(table.get(0, 0), -1);
    assert.equal(table.get(LAST_PAGE_LO, LAST_PAGE_HI), -1);
    assert.equal(table.delete(0, 0), -1);
    let visits = 0;
    table.forEach(() => visits++);
    assert.equal(visits, 0);
  });

  it("keeps page 0 and the last page 2^52 - 1 apart and reports them as page numbers", () => {
    const table = new PageTable();
    assert.equal(table.set(0, 0, 0), -1, "frame 0 is a real frame, not the empty marker");
    assert.equal(table.set(LAST_PAGE_LO, LAST_PAGE_HI, 7), -1);
    assert.equal(table.set(LAST_PAGE_LO, 0, 8), -1, "same low word, other high word");
    assert.equal(table.get(0, 0), 0);
    assert.equal(table.get(LAST_PAGE_LO, LAST_PAGE_HI), 7);
    assert.equal(table.get(-1, LAST_PAGE_HI), 7, "a low word given as int32 finds the same page");
    assert.equal(table.get(LAST_PAGE_LO, 0), 8);
    const seen = new Map<number, number>();
    table.forEach((pageNumber, frame) => seen.set(pageNumber, frame));
    assert.deepEqual(
      [...seen].sort((a, b) => a[0] - b[0]),
      [
        [0, 0],
        [0xffffffff, 8],
        [2 ** 52 - 1, 7],
      ],
    );
  });

  it("set replaces a frame without growing the count, delete returns the frame once", () => {
    const table = new PageTable();
    table.set(5, 0, 1);
    assert.equal(table.set(5, 0, 2), 1);
    assert.equal(table.size, 1);
    assert.equal(table.delete(5, 0), 2);
    assert.equal(table.delete(5, 0), -1);
    assert.equal(table.size, 0);
    assert.throws(() => table.set(5, 0, -1), /invalid frame -1/);
    assert.equal(table.size, 0, "a rejected set stores nothing");
  });

  it("grows from the smallest capacity past many doublings and keeps every entry", () => {
    const table = new PageTable(0);
    const PAGES = 5000;
    for (let page = 0; page < PAGES; page++) table.set(page * 4099, page & 3, page);
    assert.equal(table.size, PAGES);
    for (let page = 0; page < PAGES; page++) assert.equal(table.get(page * 4099, page & 3), page);
    assert.equal(table.get(4099, 0), -1);
  });

  it("a clone is independent of the original", () => {
    const table = new PageTable(1);
    table.set(1, 0, 10);
    table.set(2, 0, 20);
    const copy = table.clone();
    copy.set(3, 0, 30);
    copy.delete(1, 0);
    table.set(2, 0, 21);
    assert.deepEqual([table.get(1, 0), table.get(2, 0), table.get(3, 0), table.size], [10, 21, -1, 2]);
    assert.deepEqual([copy.get(1, 0), copy.get(2, 0), copy.get(3, 0), copy.size], [-1, 20, 30, 2]);
  });

  it("forEach reports every page number and frame of a Map model, over the whole 52-bit range", () => {
    const pageArb = fc.integer({ min: 0, max: 2 ** 52 - 1 });
    const commandArb = fc.tuple(fc.boolean(), pageArb, fc.integer({ min: 0, max: 2 ** 31 - 1 }));
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 200 }), (commands) => {
        const table = new PageTable(1);
        const model = new Map<number, number>();
        for (const [isSet, page, frame] of commands) {
          const keyLo = page % 2 ** 32;
          const keyHi = Math.floor(page / 2 ** 32);
          if (isSet) {
            assert.equal(table.set(keyLo, keyHi, frame), model.get(page) ?? -1);
            model.set(page, frame);
          } else {
            assert.equal(table.delete(keyLo, keyHi), model.get(page) ?? -1);
            model.delete(page);
          }
        }
        const seen = new Map<number, number>();
        table.forEach((page, frame) => seen.set(page, frame));
        assert.deepEqual(seen, model);
      }),
      { numRuns: 200 },
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
