import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { CachePart, mergeCachePart, mergeCachePartResult, simulateCacheInParts } from "../../src/trace/cache/cache-parts.js";
import { CacheHierarchy, type CacheHierarchyOptions } from "../../src/trace/cache/hierarchy.js";
import { feedTrace } from "../../src/trace/cache/inputs.js";
import type { AccessSink } from "../../src/trace/cache/access-stream.js";
import { PartGaveUp } from "../../src/trace/parts.js";
import { RecordKind } from "../../src/trace/v2/layout.js";
import { withTempDir, writeDrawnV2 } from "../helpers.js";

/** An access: kind, size, line-sized block (a few, so sets fill and blocks come back at every depth), offset. */
type Access = { kind: 0 | 1 | 2 | 3; size: number; block: number; offset: number };

const TWO_POW_32 = 2 ** 32;

function apply(sink: AccessSink, { kind, size, block, offset }: Access): void {
  // Blocks of 16 bytes; a few just below 2^32 and at the top of the space.
  const address = block >= 1000 ? TWO_POW_32 - 16 * (block - 1000) + offset : block * 16 + offset;
  const lo = address % TWO_POW_32;
  const hi = block >= 2000 ? 0xffffffff : Math.floor(address / TWO_POW_32);
  const top = block >= 2000 ? Math.min(size, TWO_POW_32 - lo) : size;
  if (kind === 0) sink.fetch(lo, hi, top);
  else if (kind === 1) sink.read(lo, hi, top);
  else if (kind === 2) sink.write(lo, hi, top, 0, 0);
  else sink.modify(lo, hi, top, 0, 0);
}

const accessArb = fc.record({
  kind: fc.constantFrom(0 as const, 1 as const, 2 as const, 3 as const),
  size: fc.constantFrom(1, 2, 4, 8, 16, 40),
  block: fc.oneof(fc.integer({ min: 0, max: 12 }), fc.integer({ min: 0, max: 300 }), fc.integer({ min: 1001, max: 1003 }), fc.constantFrom(2000)),
  // Offsets near a 16-byte line's end straddle into the next line.
  offset: fc.integer({ min: 0, max: 15 }),
});

/** Small geometries, so that sets fill and evict: 1 to 8 sets of 1 to 4 ways, and TLBs of small pages. */
// Cachegrind refuses a cache of one line.
const levelArb = (sets: number[], lines: number[]) =>
  fc.record({ sets: fc.constantFrom(...sets), assoc: fc.integer({ min: 1, max: 4 }), line: fc.constantFrom(...lines) }).filter((level) => level.sets * level.assoc > 1);
const shapeArb = fc.record({
  I1: levelArb([1, 2, 4], [16, 32]),
  D1: levelArb([1, 2, 8], [16, 32]),
  LL: levelArb([2, 8], [32, 64]),
  tlbs: fc.boolean(),
});

function optionsOf(shape: { I1: G; D1: G; LL: G; tlbs: boolean }): CacheHierarchyOptions {
  const geometry = ({ sets, assoc, line }: G) => ({ sizeBytes: sets * assoc * line, assoc, lineSizeBytes: line });
  return {
    I1: geometry(shape.I1),
    D1: geometry(shape.D1),
    LL: geometry(shape.LL),
    ...(shape.tlbs ? { itlb: { entries: 4, assoc: 2, pageSizeBytes: 64 }, dtlb: { entries: 8, assoc: 4, pageSizeBytes: 128 } } : {}),
  };
}
type G = { sets: number; assoc: number; line: number };

describe("trace cache in parts", () => {
  it("merging the parts of any cut, warmed up or not, gives exactly the one-pass figures, over random geometries with TLBs (fast-check)", () => {
    fc.assert(
      fc.property(shapeArb, fc.array(accessArb, { maxLength: 1200 }), fc.array(fc.nat(), { maxLength: 6 }), fc.boolean(), fc.nat({ max: 80 }), (shape, accesses, cutDraws, firstWhole, warmUpAccesses) => {
        const options = optionsOf(shape);
        const whole = new CacheHierarchy(options);
        for (const access of accesses) apply(whole, access);
        const cuts = [...new Set(cutDraws.map((draw) => draw % (accesses.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, accesses.length];
        const merged = new CacheHierarchy(options);
        for (let part = 0; part + 1 < bounds.length; part++) {
          // The first part as a part worker at the trace's start runs it: a whole hierarchy.
          const sim = part === 0 && firstWhole ? new CacheHierarchy(options) : new CachePart(options);
          // A part worker warms its first level on the accesses just before its range.
          if (sim instanceof CachePart && warmUpAccesses > 0) {
            sim.startWarmUp();
            for (let index = Math.max(0, bounds[part] - warmUpAccesses); index < bounds[part]; index++) apply(sim, accesses[index]);
            sim.startRange();
          }
          for (let index = bounds[part]; index < bounds[part + 1]; index++) apply(sim, accesses[index]);
          mergeCachePartResult(merged, sim instanceof CachePart ? { part: sim.partState() } : { whole: sim.state() });
        }
        assert.deepEqual(merged.summary(), whole.summary());
        // And the merged caches carry on as the one pass's do.
        for (const access of accesses.slice(0, 50)) {
          apply(whole, access);
          apply(merged, access);
        }
        assert.deepEqual(merged.summary(), whole.summary());
      }),
      { numRuns: 300 },
    );
  });

  it("a block cached before the cut and pushed out by the part's own blocks is a miss; one left in reach is a hit", () => {
    const options: CacheHierarchyOptions = { I1: { sizeBytes: 64, assoc: 2, lineSizeBytes: 32 }, D1: { sizeBytes: 64, assoc: 2, lineSizeBytes: 32 }, LL: { sizeBytes: 1024, assoc: 2, lineSizeBytes: 32 } };
    // One set of two ways: A and B cached at the cut; the part reads C, then A (hit: depth 1), then B (miss: C and A above it).
    const merged = new CacheHierarchy(options);
    const before = new CachePart(options);
    before.read(0, 0, 4);
    before.read(64, 0, 4);
    mergeCachePart(merged, before.partState());
    const part = new CachePart(options);
    part.read(128, 0, 4);
    part.read(64, 0, 4);
    part.read(0, 0, 4);
    mergeCachePart(merged, part.partState());
    assert.deepEqual([merged.summary().D1.refs, merged.summary().D1.misses], [5, 4]);
    // Cached at the cut: B, then A above it. The part reads A, then B: both hit (the part's A was above B already).
    const next = new CachePart(options);
    next.read(0, 0, 4);
    next.read(64, 0, 4);
    mergeCachePart(merged, next.partState());
    assert.deepEqual([merged.summary().D1.refs, merged.summary().D1.misses], [7, 4]);
  });

  it("part workers over chunk ranges of a v2 file give what one pass gives, on 2 and 3 workers; other policies are left to one pass", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.v2");
      writeDrawnV2(path, 40_000, { values: true }, (index, draw) => {
        const line = index % 7 === 0 ? draw % 5000 : (index >> 4) % 700;
        const kind = draw % 5 === 0 ? RecordKind.Write : index % 3 === 0 ? RecordKind.Fetch : RecordKind.Read;
        return [kind, kind === RecordKind.Fetch ? 2 : 8, line * 64 + (draw % 61)];
      });
      const options: CacheHierarchyOptions = { I1: { sizeBytes: 4096, assoc: 2, lineSizeBytes: 64 }, D1: { sizeBytes: 8192, assoc: 4, lineSizeBytes: 64 }, LL: { sizeBytes: 32768, assoc: 8, lineSizeBytes: 64 }, dtlb: { entries: 16, assoc: 4, pageSizeBytes: 4096 } };
      const whole = new CacheHierarchy(options);
      feedTrace(path, whole, { decodeWorkers: 0 });
      const expected = whole.summary();
      assert.ok(expected.D1.misses > 1000 && expected.LL.misses > 100, `misses: D1 ${expected.D1.misses}, LL ${expected.LL.misses}`);
      for (const workers of [2, 3]) assert.deepEqual(simulateCacheInParts(path, workers, options)?.summary(), expected, `${workers} workers`);
      assert.equal(simulateCacheInParts(path, 2, { ...options, policy: "fifo" }), null);
      // Warmed up on the chunk before it, a part here finds every set it uses filled: it simulates LL itself and keeps no LL stream.
      assert.deepEqual(simulateCacheInParts(path, 3, options, undefined, 1 << 13)?.summary(), expected);
      // Where the first 24,000 reads use one set of D1 and the rest all of them, the second part's
      // first-level lookups wait on the merge, it keeps an LL stream, outgrows the limit and
      // gives up, and so do the others: one pass instead.
      const halves = join(folder, "halves.v2");
      writeDrawnV2(halves, 40_000, { values: true }, (index, draw) => [RecordKind.Read, 8, (index < 24_000 ? (draw % 500) * 32 : draw % 5000) * 64]);
      const whole2 = new CacheHierarchy(options);
      feedTrace(halves, whole2, { decodeWorkers: 0 });
      assert.deepEqual(simulateCacheInParts(halves, 2, options)?.summary(), whole2.summary());
      assert.equal(simulateCacheInParts(halves, 2, options, undefined, 1 << 13), null);
      assert.throws(() => {
        const part = new CachePart(options, 1 << 13);
        for (let line = 0; line < 4096; line++) part.read(line * 64, 0, 8);
      }, PartGaveUp);
    });
  });
});
