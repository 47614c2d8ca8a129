import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { replayFile } from "../../src/trace/replay.js";
import { TraceStats } from "../../src/trace/stats.js";
import { collectStatsInParts } from "../../src/trace/stats-parallel.js";
import { mergeStatsParts } from "../../src/trace/stats-parts.js";
import { TraceFormatError } from "../../src/trace/format.js";
import { collectReportInParts } from "../../src/trace/report/report-parts.js";
import { collectReuseInParts } from "../../src/trace/cache/reuse-parts.js";
import { simulateCacheInParts } from "../../src/trace/cache/cache-parts.js";
import { readFileSync } from "node:fs";
import { RecordKind } from "../../src/trace/v2/layout.js";
import { V2TraceWriter } from "../../src/trace/v2/writer.js";
import { withTempDir, writeDrawnV2 } from "../helpers.js";

/** An access: load or store, width, page number (small, so pages repeat at every LRU depth), offset in the page. */
type Access = { store: boolean; width: 1 | 2 | 4 | 8; page: number; offset: number };

function apply(stats: TraceStats, { store, width, page, offset }: Access): void {
  // Pages 0-63 below 2^32, and a few just above it (a high half of 1).
  const address = page * 4096 + offset;
  const lo = address % 0x100000000;
  const hi = Math.floor(address / 0x100000000);
  if (store) {
    if (width === 1) stats.store8(lo, hi, 0);
    else if (width === 2) stats.store16(lo, hi, 0);
    else if (width === 4) stats.store32(lo, hi, 0);
    else stats.store64(lo, hi, 0, 0);
  } else if (width === 1) stats.load8(lo, hi);
  else if (width === 2) stats.load16(lo, hi);
  else if (width === 4) stats.load32(lo, hi);
  else stats.load64(lo, hi);
}

const accessArb = fc.record({
  store: fc.boolean(),
  width: fc.constantFrom(1 as const, 2 as const, 4 as const, 8 as const),
  // Mostly a few pages (short reuse), sometimes many (deep reuse and first touches), and pages at the 2^32 line.
  page: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 80 }), fc.constantFrom(0xfffff, 0x100000, 0x100001)),
  // Offsets near the page's end make crossings into the next page.
  offset: fc.oneof(fc.integer({ min: 0, max: 4088 }), fc.integer({ min: 4089, max: 4095 })),
});

describe("trace stats in parts", () => {
  it("merging the parts of any cut gives exactly the one-pass statistics (fast-check)", () => {
    fc.assert(
      fc.property(fc.array(accessArb, { maxLength: 1500 }), fc.array(fc.nat(), { maxLength: 6 }), (accesses, cutDraws) => {
        const whole = new TraceStats();
        for (const access of accesses) apply(whole, access);
        const cuts = [...new Set(cutDraws.map((draw) => draw % (accesses.length + 1)))].sort((a, b) => a - b);
        const bounds = [0, ...cuts, accesses.length];
        const states = [];
        for (let part = 0; part + 1 < bounds.length; part++) {
          const stats = new TraceStats({ part: true });
          for (let index = bounds[part]; index < bounds[part + 1]; index++) apply(stats, accesses[index]);
          states.push(stats.partState());
        }
        assert.deepEqual(mergeStatsParts(states), whole.report());
      }),
      { numRuns: 300 },
    );
  });

  it("part workers over chunk ranges of a v2 file give what one pass gives, on 2 and 3 workers", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.v2");
      writeDrawnV2(path, 40_000, { values: true }, (index, draw) => {
        const page = index % 7 === 0 ? draw % 200 : (index >> 6) % 40;
        const kind = draw % 5 === 0 ? RecordKind.Write : index % 3 === 0 ? RecordKind.Fetch : RecordKind.Read;
        return [kind, kind === RecordKind.Fetch ? 2 : 4, page * 4096 + (draw % 4093)];
      });
      const whole = new TraceStats();
      replayFile(path, whole, { decodeWorkers: 0 });
      for (const workers of [2, 3]) assert.deepEqual(collectStatsInParts(path, workers), whole.report(), `${workers} workers`);
    });
  });

  it("takes an empty v2 file, and leaves seed traces to one pass", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.trace");
      const writer = new V2TraceWriter(join(folder, "t.v2"));
      writer.close();
      assert.equal(collectStatsInParts(join(folder, "t.v2"), 2)?.ops, 0);
      // An empty file is an empty seed trace.
      writeFileSync(path, new Uint8Array(0));
      assert.equal(collectStatsInParts(path, 2), null);
    });
  });

  it("names the file, offset and chunk of a corrupt chunk in a part, for stats, report, reuse and cache", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.v2");
      const writer = new V2TraceWriter(path, { values: true, chunkSeedBytes: 20_480, deflateLevel: 0 });
      for (let index = 0; index < 20_000; index++) writer.append(RecordKind.Read, 4, (index * 4104) % 900_000, 0, 0, 0, 0, 0);
      writer.close();
      const bytes = readFileSync(path);
      // A byte in the middle of the file: inside a chunk that the second part reads.
      const at = Math.floor(bytes.length * 0.75);
      bytes[at] ^= 0xff;
      const bad = join(folder, "bad.v2");
      writeFileSync(bad, bytes);
      const named = (error: unknown): boolean => error instanceof TraceFormatError && error.file === bad && /chunk \d+: /.test(error.problem) && error.byteOffset <= at;
      assert.throws(() => collectStatsInParts(bad, 2), named);
      assert.throws(() => collectReportInParts(bad, 2, { pageSizeBytes: 4096, lineSizeBytes: 64, timeBuckets: 16 }), named);
      assert.throws(() => collectReuseInParts(bad, 2, 4096), named);
      assert.throws(() => simulateCacheInParts(bad, 2, {}), named);
    });
  });
});
