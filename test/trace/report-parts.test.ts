import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import { feedRecords } from "../../src/trace/records.js";
import { ReportCollector } from "../../src/trace/report/collector.js";
import { reportFigures } from "../../src/trace/report/figures.js";
import { collectReportInParts } from "../../src/trace/report/report-parts.js";
import { RecordKind } from "../../src/trace/v2/layout.js";
import { V2TraceWriter } from "../../src/trace/v2/writer.js";
import { withTempDir } from "../helpers.js";

const OPTIONS = { pageSizeBytes: 4096, lineSizeBytes: 64, timeBuckets: 16 };

describe("the trace report in parts", () => {
  for (const values of [true, false]) {
    it(`part workers over chunk ranges of a v2 file give every figure one pass gives, reuse distances included, on 2 and 3 workers (${values ? "with values" : "a lackey-like file: no values, modifies"})`, () => {
      withTempDir((folder) => {
        const path = join(folder, "t.v2");
        const writer = new V2TraceWriter(path, { values, chunkSeedBytes: 20_480 });
        let state = 99;
        for (let index = 0; index < 30_000; index++) {
          state = (Math.imul(state, 1103515245) + 12345) >>> 0;
          const kind = index % 3 === 0 ? RecordKind.Fetch : state % 7 === 0 ? RecordKind.Write : !values && state % 11 === 0 ? RecordKind.Modify : RecordKind.Read;
          const page = kind === RecordKind.Fetch ? (index >> 7) % 8 : index % 9 === 0 ? state % 300 : (state >>> 9) % 24;
          const size = kind === RecordKind.Fetch ? 4 : !values && state % 13 === 0 ? 16 : 8;
          writer.append(kind, size, page * 4096 + ((state >>> 3) % 4000), 0, state, 0, 0, 0);
        }
        writer.close();
        const whole = new ReportCollector(OPTIONS);
        feedRecords(path, whole, { decodeWorkers: 0 });
        const expected = reportFigures(whole, { trace: "t", format: "trace" }, 10);
        for (const workers of [2, 3]) {
          const parts = collectReportInParts(path, workers, OPTIONS);
          assert.ok(parts !== null);
          assert.deepEqual(reportFigures(parts, { trace: "t", format: "trace" }, 10), expected, `${workers} workers`);
        }
      });
    });
  }
});
