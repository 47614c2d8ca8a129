import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));

function memspace(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("memspace CLI", () => {
  it("trace gen, trace stats and replay on every backend", () => {
    withTempDir((folder) => {
      const trace = join(folder, "fib.trace");
      const gen = memspace("trace", "gen", "--shape", "fib", "--ops", "2000", "-o", trace);
      assert.equal(gen.status, 0, gen.stderr);
      const stats = memspace("trace", "stats", trace, "--json", "-");
      assert.equal(stats.status, 0, stats.stderr);
      const report = JSON.parse(stats.stdout);
      assert.equal(report.ops, 2000);
      assert.equal(report.pageTransitions, 3);
      const replay = memspace("replay", trace, "--backend", "all");
      assert.equal(replay.status, 0, replay.stderr);
      for (const backend of ["noop", "map", "paged"]) assert.match(replay.stdout, new RegExp(`^${backend}\\s+2,000\\s`, "m"));
      const text = memspace("trace", "stats", trace);
      assert.match(text.stdout, /page transitions\s+3/);
    });
  });

  it("a corrupt trace exits non-zero with the offset in the message", () => {
    withTempDir((folder) => {
      const trace = join(folder, "bad.trace");
      writeFileSync(trace, Uint8Array.from([2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 7, 2]));
      const replay = memspace("replay", trace);
      assert.equal(replay.status, 1);
      assert.match(replay.stderr, /bad\.trace: byte offset 10: unknown op 7/);
    });
  });

  it("bad arguments are reported, not ignored", () => {
    const result = memspace("replay", "x.trace", "--backend", "fast");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /unknown backend "fast"/);
    const gen = memspace("trace", "gen", "--shape", "nope", "--ops", "1", "-o", "/dev/null");
    assert.match(gen.stderr, /unknown shape "nope"/);
  });

  it("crash-test frames reports kills, recoveries, lost runs and violations as JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "crash.json");
      const run = memspace("crash-test", "frames", "--kills", "2", "--seed", "3", "--json", json);
      assert.equal(run.status, 0, run.stderr);
      const report = JSON.parse(readFileSync(json, "utf8"));
      assert.equal(report.kills, 2);
      assert.equal(report.recovered, 2);
      assert.equal(report.violations, 0);
      assert.ok(report.maxLostPerKill <= 2, "at most one run per worker (the child runs 2)");
      assert.ok(typeof report.recovery16GiBMs === "number" && report.recovery16GiBMs > 0);
      assert.match(run.stdout, /violations\s+0/);
      assert.equal(memspace("crash-test", "disks").status, 2);
    });
  });

  it("demo runs the default workload end to end", () => {
    const demo = memspace("demo", "--iterations", "3000");
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /guest printed \d+ and exited with 0/);
    assert.match(demo.stdout, /^paged\s+[\d,]+\s/m);
    assert.match(demo.stdout, /time relative to noop/);
  });
});
