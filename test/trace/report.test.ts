import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { feedAccesses } from "../../src/trace/cache/inputs.js";
import { ReportCollector, type ReportCollectorOptions } from "../../src/trace/report/collector.js";
import { reportFigures, type ReportFigures } from "../../src/trace/report/figures.js";
import { chartSpecs } from "../../src/trace/report/charts.js";
import { TraceWriter } from "../../src/trace/writer.js";
import { highOf, lowOf, withTempDir } from "../helpers.js";

/** A small trace whose every figure is worked out by hand below. */
const KNOWN_OPS: ReadonlyArray<{ write: boolean; width: 1 | 2 | 4 | 8; address: bigint }> = [
  { write: false, width: 8, address: 0x1000n },
  { write: true, width: 4, address: 0x1040n },
  // Spans pages 0x1000 and 0x2000, lines 0x1fc0 and 0x2000.
  { write: false, width: 8, address: 0x1ffcn },
  { write: false, width: 1, address: 0x1000n },
  { write: true, width: 8, address: 0xffff_ffff_0000_0000n },
  { write: false, width: 2, address: 0x2000n },
];

function writeKnownTrace(path: string): void {
  const writer = new TraceWriter(path);
  for (const op of KNOWN_OPS) {
    if (op.write) writer.write(lowOf(op.address), highOf(op.address), op.width, 0, 0);
    else writer.read(lowOf(op.address), highOf(op.address), op.width);
  }
  writer.close();
}

const SMALL: ReportCollectorOptions = { pageSizeBytes: 4096, lineSizeBytes: 64, timeBuckets: 4 };

function knownFigures(top: number): ReportFigures {
  return withTempDir((folder) => {
    const trace = join(folder, "known.trace");
    writeKnownTrace(trace);
    const collector = new ReportCollector(SMALL);
    feedAccesses(trace, "trace", collector);
    return reportFigures(collector, { trace: "known.trace", format: "trace" }, top);
  });
}

/** A deterministic access stream over a few pages, for the merge test. */
function feedPattern(collector: ReportCollector, fromOp: number, toOp: number): void {
  for (let op = fromOp; op < toOp; op++) {
    const address = 0x10000 + ((op * 2654435761) % 7) * 4096 + ((op * 40503) % 4096);
    if (op % 5 === 0) collector.write(address, op % 3, 4);
    else collector.read(address, op % 3, (1 << (op % 4)) as 1 | 2 | 4 | 8);
  }
}

/** Everything merge must reproduce: counts by kind and width, per page and line, and the heat. */
function mergeableFigures(collector: ReportCollector) {
  const { heat, lines } = collector;
  const pages = heat.pages.hottest(Infinity).map((id) => ({
    address: heat.pages.addressOf(id),
    references: heat.pages.countOf(id),
    row: Array.from({ length: heat.buckets }, (_, bucket) => heat.cell(id, bucket)),
  }));
  const lineCounts = lines.hottest(Infinity).map((id) => [lines.addressOf(id), lines.countOf(id)]);
  return { ops: collector.ops, kindWidthOps: [...collector.kindWidthOps], opsPerBucket: heat.opsPerBucket, bucketOps: [...heat.bucketOps], pages, lineCounts, workingSet: heat.distinctPagesByBucket() };
}

describe("trace report figures", () => {
  it("of a small known trace are exact: headline, mix, hottest pages and lines, working set, heat map, reuse", () => {
    const figures = knownFigures(2);
    assert.deepEqual(figures.headline, { ops: 6, reads: 4, writes: 2, fetches: 0, distinctPages: 3, distinctLines: 5, footprintBytes: 3 * 4096 });
    assert.deepEqual(
      figures.mix.filter((row) => row.ops > 0),
      [
        { kind: "read", width: "1", ops: 1 },
        { kind: "read", width: "2", ops: 1 },
        { kind: "read", width: "8", ops: 2 },
        { kind: "write", width: "4", ops: 1 },
        { kind: "write", width: "8", ops: 1 },
      ],
    );
    assert.ok(!figures.mix.some((row) => row.width === "other"), "no other width in a trace");
    // The spanning read references both of its pages and both of its lines: 7 block references each.
    assert.deepEqual(figures.hottestPages, [
      { address: "0x1000", references: 4, share: 4 / 7 },
      { address: "0x2000", references: 2, share: 2 / 7 },
    ]);
    assert.deepEqual(figures.hottestLines, [
      { address: "0x1000", references: 2, share: 2 / 7 },
      { address: "0x2000", references: 2, share: 2 / 7 },
    ]);
    // Four buckets of one op fill up at op 4: merged pairwise into buckets of two ops.
    assert.equal(figures.opsPerBucket, 2);
    assert.deepEqual(figures.timeline, [
      { bucket: 0, fromOp: 0, toOp: 2, distinctPages: 1 },
      { bucket: 1, fromOp: 2, toOp: 4, distinctPages: 2 },
      { bucket: 2, fromOp: 4, toOp: 6, distinctPages: 2 },
    ]);
    assert.deepEqual(figures.heatMap, {
      pages: ["0x1000", "0x2000"],
      cells: [
        { page: "0x1000", fromOp: 0, toOp: 2, references: 2 },
        { page: "0x1000", fromOp: 2, toOp: 4, references: 2 },
        { page: "0x2000", fromOp: 2, toOp: 4, references: 1 },
        { page: "0x2000", fromOp: 4, toOp: 6, references: 1 },
      ],
    });
    // Pages referenced: 1000 1000 1000 2000 1000 ffffffff00000000 2000: distances -, 1, 1, -, 2, -, 3.
    const page = figures.reuse.page;
    assert.deepEqual(
      { references: page.references, footprintBlocks: page.footprintBlocks, coldMisses: page.coldMisses, histogram: page.histogram },
      { references: 7, footprintBlocks: 3, coldMisses: 3, histogram: [{ from: 1, to: 1, count: 2 }, { from: 2, to: 3, count: 2 }] },
    );
    assert.deepEqual(
      page.missRatioCurve.map((point) => [point.sizeBytes, point.misses]),
      [[4096, 5], [8192, 4], [16384, 3]],
    );
    // Lines: 1000 1040 1fc0 2000 1000 ffffffff00000000 2000: distances -, -, -, -, 4, -, 3.
    const line = figures.reuse.line;
    assert.deepEqual(
      { references: line.references, footprintBlocks: line.footprintBlocks, coldMisses: line.coldMisses, histogram: line.histogram },
      { references: 7, footprintBlocks: 5, coldMisses: 5, histogram: [{ from: 1, to: 1, count: 0 }, { from: 2, to: 3, count: 1 }, { from: 4, to: 7, count: 1 }] },
    );
  });

  it("keep the time buckets at most the bucket count, each but the last full, however long the stream", () => {
    const collector = new ReportCollector({ pageSizeBytes: 4096, lineSizeBytes: 64, timeBuckets: 8, reuseDistances: false });
    feedPattern(collector, 0, 10_000);
    // 10,000 ops in at most 8 buckets: the least power of two at least 1,250.
    assert.equal(collector.heat.opsPerBucket, 2048);
    assert.equal(collector.heat.usedBuckets(), 5);
    assert.deepEqual([...collector.heat.bucketOps], [2048, 2048, 2048, 2048, 10_000 - 4 * 2048, 0, 0, 0]);
  });

  it("of disjoint op ranges merge into those of the whole stream", () => {
    for (const split of [1, 357, 4096, 9999]) {
      const whole = new ReportCollector({ ...SMALL, timeBuckets: 16, reuseDistances: false });
      feedPattern(whole, 0, 10_000);
      const first = new ReportCollector({ ...SMALL, timeBuckets: 16, reuseDistances: false });
      feedPattern(first, 0, split);
      const second = new ReportCollector({ ...SMALL, timeBuckets: 16, reuseDistances: false, firstOp: split });
      feedPattern(second, split, 10_000);
      first.merge(second);
      assert.deepEqual(mergeableFigures(first), mergeableFigures(whole), `split at ${split}`);
      // And in the other order: the later range's collector takes the earlier one in.
      const later = new ReportCollector({ ...SMALL, timeBuckets: 16, reuseDistances: false, firstOp: split });
      feedPattern(later, split, 10_000);
      const earlier = new ReportCollector({ ...SMALL, timeBuckets: 16, reuseDistances: false });
      feedPattern(earlier, 0, split);
      later.merge(earlier);
      assert.deepEqual(mergeableFigures(later), mergeableFigures(whole), `split at ${split}, merged the other way`);
    }
  });

  it("count a lackey log's fetches, and sizes other than 1, 2, 4 and 8, in a column of their own", () => {
    const collector = new ReportCollector(SMALL);
    collector.fetch(0x4000, 0, 4);
    collector.read(0x5000, 0, 16);
    collector.write(0x5000, 0, 3);
    const figures = reportFigures(collector, { trace: "log", format: "lackey" }, 4);
    assert.equal(figures.headline.fetches, 1);
    assert.deepEqual(
      figures.mix.filter((row) => row.ops > 0),
      [
        { kind: "fetch", width: "4", ops: 1 },
        { kind: "read", width: "other", ops: 1 },
        { kind: "write", width: "other", ops: 1 },
      ],
    );
  });

  it("chart specs plot the figures' own arrays", () => {
    const figures = knownFigures(2);
    const specs = chartSpecs(figures);
    assert.deepEqual((specs["heat-map"].data as { values: unknown }).values, figures.heatMap.cells);
    assert.deepEqual((specs["working-set"].data as { values: unknown }).values, figures.timeline);
    assert.deepEqual((specs.mix.data as { values: unknown }).values, figures.mix);
  });
});
