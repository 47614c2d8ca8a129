import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { withTempDir } from "./helpers.js";

const MAIN = fileURLToPath(new URL("../src/cli/memspace.cjs", import.meta.url));

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

  it("bench frames runs every allocator, benchmark, order and worker count and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "frames.json");
      const bench = memspace("bench", "frames", "--frames", "8192", "--pairs", "200", "--runs", "1", "--rounds", "1", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<Record<string, unknown>>;
      assert.equal(records.length, 3 * 2 * 2 * 4, "three benchmarks, two orders, two worker counts, three allocators and the private reference");
      for (const record of records) {
        assert.deepEqual(Object.keys(record), ["benchmark", "order", "workers", "allocator", "nsPerGet", "nsPerPut", "nsPerPair"]);
        assert.ok(typeof record.nsPerPair === "number" && record.nsPerPair > 0);
      }
      assert.match(bench.stdout, /^bulk order 0\s/m);
    });
  });

  it("bench frames runs the C model of rand order 9 beside it, where gcc builds it", () => {
    withTempDir((folder) => {
      const json = join(folder, "frames.json");
      const bench = memspace("bench", "frames", "--frames", "65536", "--pairs", "2000", "--runs", "1", "--rounds", "1", "--benchmarks", "rand", "--orders", "9", "--allocators", "llfree", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      if (/C model of rand order 9 skipped: cannot build it/.test(bench.stdout)) return;
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ allocator: string; workers: number; nsPerPair: number }>;
      for (const allocator of ["c-model", "c-model-any"]) {
        const model = records.filter((r) => r.allocator === allocator);
        assert.deepEqual(model.map((r) => r.workers), [1, 2], allocator);
        assert.ok(model.every((r) => r.nsPerPair > 0), JSON.stringify(model));
      }
      assert.match(bench.stdout, /rand order 9's sharing pattern in C.*own trees first.*ns a pair on 1 worker, [\d.]+ on 2 \(2w\/1w [\d.]+\); searching all trees, [\d.]+ ns a pair on 1 worker, [\d.]+ on 2 \(2w\/1w [\d.]+\)\)/);
    });
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

  it("bench alloc-threads runs both heaps on 1 and 2 workers with remote frees (each run ends with an empty, consistent heap) and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "threads.json");
      const bench = memspace("bench", "alloc-threads", "--steps", "3000", "--rounds", "1", "--remote-percent", "50", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ heap: string; workers: number; opsPerSec: number }>;
      assert.deepEqual(records.map((r) => `${r.heap}/${r.workers}`), ["per-worker spans/1", "per-worker spans/2", "one lock/1", "one lock/2"]);
      for (const record of records) assert.ok(record.opsPerSec > 0);
    });
  });

  it("bench alloc replays every workload on every JS allocator and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "alloc.json");
      const bench = memspace("bench", "alloc", "--scale", "2000", "--runs", "1", "--rounds", "1", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ workload: string; allocator: string; opsPerSec: number; peakFootprintBytes: number | null; accountedFootprintBytes: number; peakLiveBytes: number; netNsPerOp?: number }>;
      for (const workload of ["larson", "tiny-churn", "alloc-test", "vm", "realloc-grow", "mixed"]) {
        const ours = records.find((r) => r.workload === workload && r.allocator === "memspace");
        // The heap's own count covers its live bytes; what is resident can be less (mixed
        // touches only the first byte of its blocks of up to 4 MiB), but never nothing.
        assert.ok(ours !== undefined && ours.opsPerSec > 0 && ours.accountedFootprintBytes >= ours.peakLiveBytes * 0.5 && ours.peakFootprintBytes! > 0, `${workload}: ${JSON.stringify(ours)}`);
        assert.ok(records.some((r) => r.workload === workload && r.allocator === "thi.ng"));
        const loop = records.find((r) => r.workload === workload && r.allocator === "loop-js");
        assert.ok(loop !== undefined && loop.opsPerSec > 0 && loop.peakFootprintBytes === null, `${workload}: ${JSON.stringify(loop)}`);
        assert.equal(typeof ours.netNsPerOp, "number", `${workload}: no net ns/op for memspace`);
      }
      const svg = readFileSync(join(folder, "alloc.svg"), "utf8");
      assert.match(svg, /^<svg/);
      assert.match(svg, /larson/);
    });
  });

  it("bench alloc stops the slow allocator's run at its time budget and says where", () => {
    withTempDir((folder) => {
      const json = join(folder, "alloc.json");
      const bench = memspace("bench", "alloc", "--workloads", "larson", "--allocators", "thi.ng", "--scale", "20000", "--runs", "1", "--rounds", "2", "--budget", "0.000001", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ allocator: string; opsPerSec: number; peakFootprintBytes: number | null; completedOps?: number }>;
      const slow = records.find((r) => r.allocator === "thi.ng")!;
      // The clock is read after each 1,000 ops: a budget of a microsecond stops it there.
      assert.equal(slow.completedOps, 1000);
      assert.equal(slow.peakFootprintBytes, null);
      assert.ok(slow.opsPerSec > 0);
      assert.match(bench.stdout, /thi\.ng\s+[\d,]+ \(first 1,000 ops\)/);
      // Two rounds still give one record per allocator (the median over rounds).
      assert.deepEqual(records.map((r) => r.allocator), ["memspace", "thi.ng"]);
      const ours = records.find((r) => r.allocator === "memspace")!;
      assert.ok(ours.completedOps === undefined && ours.peakFootprintBytes! > 0, JSON.stringify(ours));
      assert.equal(memspace("bench", "alloc", "--budget", "-1").status === 0, false);
    });
  });

  it("a bad benchmark option is one line naming the option, and exit status 2", () => {
    const cases: Array<[string[], RegExp]> = [
      [["frames", "--rounds", "0"], /^bench frames: --rounds must be a positive integer, got 0\n$/],
      [["frames", "--orders", "11"], /^bench frames: --orders: 11 is not an order from 0 to 10\n$/],
      [["frames", "--bogus"], /^bench frames: unknown option '--bogus'\n$/],
      [["alloc", "--budget=-1"], /^bench alloc: --budget must be a positive number, got -1\n$/],
      [["alloc", "--allocators", "nope"], /^bench alloc: --allocators: unknown name nope \(known: memspace, /],
      [["alloc-threads", "--steps", "0"], /^bench alloc-threads: --steps must be a positive integer, got 0\n$/],
      [["replay", "--rounds", "x"], /^bench replay: --rounds must be a positive integer, got x\n$/],
      [["replay", "--vm-iterations", "1.5"], /^bench replay: --vm-iterations must be a non-negative integer, got 1.5\n$/],
      [["guests", "--nope"], /^bench guests: unknown option '--nope'\n$/],
    ];
    for (const [args, message] of cases) {
      const run = memspace("bench", ...args);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${run.stderr}`);
    }
  });

  it("demo runs the default workload end to end", () => {
    const demo = memspace("demo", "--iterations", "3000");
    assert.equal(demo.status, 0, demo.stderr);
    assert.match(demo.stdout, /guest printed \d+ and exited with 0/);
    assert.match(demo.stdout, /^paged\s+[\d,]+\s/m);
    assert.match(demo.stdout, /time relative to noop/);
  });
});
