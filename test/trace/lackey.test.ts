import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { importLackey, LackeyFormatError } from "../../src/trace/lackey.js";
import { replayFile } from "../../src/trace/replay.js";
import { TraceStats } from "../../src/trace/stats.js";
import { RecordingSink, withTempDir } from "../helpers.js";

function convert(folder: string, text: string): RecordingSink {
  const input = join(folder, "lackey.txt");
  const output = join(folder, "out.trace");
  writeFileSync(input, text);
  importLackey(input, output);
  const sink = new RecordingSink();
  replayFile(output, sink);
  return sink;
}

describe("lackey import", () => {
  it("converts I, L, S and M lines, splitting accesses into 8/4/2/1-byte pieces", () => {
    withTempDir((folder) => {
      const text = [
        "==123== Lackey, an example Valgrind tool",
        "I  0401ab70,3",
        " L 1fff000778,8",
        " S 7ff0000a38,4",
        " M 00001000,2",
        " L 2000,16",
        "",
      ].join("\n");
      const ops = convert(folder, text).ops.map((op) => [op.write ? "W" : "R", op.width, op.address]);
      assert.deepEqual(ops, [
        ["R", 2, 0x0401ab70n],
        ["R", 1, 0x0401ab72n],
        ["R", 8, 0x1fff000778n],
        ["W", 4, 0x7ff0000a38n],
        ["R", 2, 0x1000n],
        ["W", 2, 0x1000n],
        ["R", 8, 0x2000n],
        ["R", 8, 0x2008n],
      ]);
    });
  });

  it("malformed lines are errors naming the line number", () => {
    withTempDir((folder) => {
      const cases: [string, RegExp][] = [
        ["I  0401ab70,3\nX  1234,4\n", /line 2: not a lackey access line/],
        ["I  0401ab70\n", /line 1: not a lackey access line/],
        [" L zz00,4\n", /line 1: not a lackey access line/],
        [" L 1000,0\n", /line 1: access size 0 out of range/],
        [" S ffffffffffffffff,8\n", /line 1: access of 8 bytes at 0xffffffffffffffff runs past the top/],
        ["==1== ok\n\n L 1000,4\n S 10000000000000000,4\n", /line 4: not a lackey access line/],
      ];
      for (const [text, message] of cases) {
        assert.throws(() => convert(folder, text), (error: unknown) => error instanceof LackeyFormatError && message.test(error.message));
      }
    });
  });

  it("fuzz: arbitrary text converts or fails with a LackeyFormatError", () => {
    withTempDir((folder) => {
      const lineArb = fc.oneof(
        fc.tuple(fc.constantFrom("I  ", " L ", " S ", " M ", "X ", ""), fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEFg"), maxLength: 18 }), fc.constantFrom(",", ";"), fc.nat({ max: 40 })).map(
          ([kind, hex, comma, size]) => `${kind}${hex}${comma}${size}`,
        ),
        fc.string({ maxLength: 20 }),
      );
      fc.assert(
        fc.property(fc.array(lineArb, { maxLength: 20 }), (lines) => {
          try {
            convert(folder, lines.join("\n"));
          } catch (error) {
            assert.ok(error instanceof LackeyFormatError, String(error));
          }
        }),
        { numRuns: 150 },
      );
    });
  });

  const valgrind = spawnSync("valgrind", ["--version"], { encoding: "utf8" });
  it("imports a real lackey trace of /bin/true", { skip: valgrind.status !== 0 && "valgrind is not on this machine" }, () => {
    withTempDir((folder) => {
      const log = join(folder, "lackey.txt");
      const run = spawnSync("valgrind", ["--tool=lackey", "--trace-mem=yes", `--log-file=${log}`, "/bin/true"], { encoding: "utf8" });
      assert.equal(run.status, 0, run.stderr);
      const output = join(folder, "true.trace");
      const result = importLackey(log, output);
      assert.ok(result.instructionFetches > 10_000, `${result.instructionFetches} fetches`);
      const stats = new TraceStats();
      const replay = replayFile(output, stats);
      assert.equal(replay.ops, result.ops);
      assert.equal(stats.report().writes, replay.writes);
      assert.ok(replay.writes >= result.stores + result.modifies);
    });
  });
});
