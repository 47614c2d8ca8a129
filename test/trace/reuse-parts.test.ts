import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { join } from "node:path";
import { ReuseDistance } from "../../src/trace/cache/reuse-distance.js";
import { collectReuseInParts } from "../../src/trace/cache/reuse-parts.js";
import { feedRecords } from "../../src/trace/records.js";
import { RecordKind } from "../../src/trace/v2/layout.js";
import { V2TraceWriter } from "../../src/trace/v2/writer.js";
import { withTempDir, writeDrawnV2 } from "../helpers.js";

describe("reuse distances in parts", () => {
  it("merging the parts of any cut gives exactly the one-pass distances, histogram and miss-ratio curve (fast-check)", () => {
    // Blocks of 64 bytes; accesses over a few hundred blocks (deep and shallow reuse), some spanning two blocks.
    const accessArb = fc.record({ block: fc.oneof(fc.integer({ min: 0, max: 8 }), fc.integer({ min: 0, max: 400 })), offset: fc.integer({ min: 0, max: 63 }), size: fc.constantFrom(1, 2, 4, 8) });
    fc.assert(
      fc.property(fc.array(accessArb, { maxLength: 3000 }), fc.array(fc.nat(), { maxLength: 5 }), (accesses, cutDraws) => {
        const address = (block: number, offset: number): [number, number] => [(block * 64 + offset) | 0, block > 0x3ffffff ? 1 : 0];
        const whole = new ReuseDistance(64);
        for (const { block, offset, size } of accesses) whole.access(...address(block, offset), size);
        const cuts = [...new Set(cutDraws.map((draw) => draw % (accesses.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, accesses.length];
        const merged = new ReuseDistance(64);
        for (let part = 0; part + 1 < bounds.length; part++) {
          const distances = new ReuseDistance(64, { part: true });
          for (let index = bounds[part]; index < bounds[part + 1]; index++) distances.access(...address(accesses[index].block, accesses[index].offset), accesses[index].size);
          merged.mergePart(distances.partState());
        }
        assert.deepEqual(merged.report(), whole.report());
      }),
      { numRuns: 200 },
    );
  });

  it("keeps merging through compactions of its times", () => {
    const whole = new ReuseDistance(64);
    const merged = new ReuseDistance(64);
    let state = 7;
    for (let part = 0; part < 6; part++) {
      const distances = new ReuseDistance(64, { part: true });
      for (let index = 0; index < 60_000; index++) {
        state = (Math.imul(state, 1103515245) + 12345) >>> 0;
        const block = index % 5 === 0 ? state % 20_000 : (state >>> 8) % 300;
        whole.access(block * 64, 0, 8);
        distances.access(block * 64, 0, 8);
      }
      merged.mergePart(distances.partState());
    }
    assert.deepEqual(merged.report(), whole.report());
  });

  it("part workers over chunk ranges of a v2 file give the one-pass distances, at page and line granularity, on 2 and 3 workers", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.v2");
      writeDrawnV2(path, 30_000, { values: false }, (index, draw) => {
        const kind = index % 4 === 0 ? RecordKind.Fetch : draw % 9 === 0 ? RecordKind.Modify : draw % 5 === 0 ? RecordKind.Write : RecordKind.Read;
        const block = index % 6 === 0 ? draw % 5000 : (draw >>> 7) % 90;
        return [kind, kind === RecordKind.Fetch ? 4 : 8, block * 48 + (draw % 40)];
      });
      for (const blockSizeBytes of [4096, 64]) {
        const whole = new ReuseDistance(blockSizeBytes);
        feedRecords(path, whole, { decodeWorkers: 0 });
        for (const workers of [2, 3]) assert.deepEqual(collectReuseInParts(path, workers, blockSizeBytes)?.report(), whole.report(), `${blockSizeBytes}-byte blocks, ${workers} workers`);
      }
    });
  });
});
