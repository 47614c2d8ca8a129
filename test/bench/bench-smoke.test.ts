import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { AllocBenchRecord } from "../../bench/alloc/record.js";
import { memspaceBench } from "./bench-run.js";
import { withTempDir } from "../helpers.js";

/** What users feel, as a record carries it: ordered, positive latency percentiles, faults and peak RSS. */
function assertFeltFigures(record: AllocBenchRecord | undefined, what: string): void {
  assert.ok(record !== undefined, `${what}: no record`);
  const { p50Ns, p99Ns, p999Ns, maxNs, minorFaults, peakRssBytes } = record;
  const detail = `${what}: ${JSON.stringify(record)}`;
  for (const ns of [p50Ns, p99Ns, p999Ns, maxNs]) assert.ok(typeof ns === "number" && ns > 0, detail);
  assert.ok(p50Ns! <= p99Ns! && p99Ns! <= p999Ns! && p999Ns! <= maxNs!, detail);
  // A latency is of one op, though timed in batches: well below a millisecond at the median.
  assert.ok(p50Ns! < 1e6, detail);
  assert.ok(Number.isInteger(minorFaults) && minorFaults! >= 0, detail);
  // The process's own resident set: more than a few pages, less than the machine.
  assert.ok(typeof peakRssBytes === "number" && peakRssBytes > 1 << 20 && peakRssBytes < 2 ** 40, detail);
}

describe("memspace bench smoke tests", () => {
  it("bench frames runs every allocator, benchmark, order and worker count and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "frames.json");
      const bench = memspaceBench("frames", "--frames", "8192", "--pairs", "200", "--runs", "1", "--rounds", "1", "--json", json);
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
      const bench = memspaceBench("frames", "--frames", "65536", "--pairs", "2000", "--runs", "1", "--rounds", "1", "--benchmarks", "rand", "--orders", "9", "--allocators", "llfree", "--json", json);
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

  it("bench cache simulates a trace beside a noop replay of it (and Cachegrind where valgrind is) and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "cache.json");
      const bench = memspaceBench("cache", "--fib-ops", "20000", "--cachegrind-rounds", "1", "--rounds", "1", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const document = JSON.parse(readFileSync(json, "utf8")) as { rows: Array<{ contestant: string; accesses: number; millionAccessesPerSec: number }> };
      assert.deepEqual(document.rows.slice(0, 2).map((row) => [row.contestant, row.accesses]), [["memspace cache I1/D1/LL", 20000], ["replay noop (decoding only)", 20000]]);
      for (const row of document.rows) assert.ok(row.millionAccessesPerSec > 0, JSON.stringify(row));
      assert.match(bench.stdout, /^target 50 M accesses\/s: /m);
    });
  });

  it("bench alloc-threads runs every workload on both heaps and on glibc through the C driver, on 1 and 2 threads (each JS run ends with an empty, consistent heap), and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "threads.json");
      const bench = memspaceBench("alloc-threads", "--quick", "--steps", "3000", "--rounds", "1", "--remote-percent", "50", "--allocators", "memspace,memspace-locked,glibc", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ workload: string; allocator: string; workers: number; elapsedMs: number; opsPerSec: number }>;
      const expected = ["larson", "cache-thrash", "cache-scratch", "xmalloc"].flatMap((workload) => ["memspace", "memspace-locked", "glibc"].flatMap((allocator) => [1, 2].map((workers) => `${workload}/${allocator}/${workers}`)));
      assert.deepEqual(records.map((r) => `${r.workload}/${r.allocator}/${r.workers}`), expected);
      for (const record of records) assert.ok(record.elapsedMs > 0 && record.opsPerSec > 0, JSON.stringify(record));
      assert.match(bench.stdout, /^xmalloc +glibc +2 /m);
    });
  });

  it("bench alloc-policy runs fixed policies and adaptive on the large-block workloads, names the best fixed one and runs it against adaptive head to head", () => {
    withTempDir((folder) => {
      const json = join(folder, "policy.json");
      const bench = memspaceBench("alloc-policy", "--quick", "--workloads", "realloc-grow,cycle-1m", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      type Ratio = { median: number; min: number; max: number };
      const document = JSON.parse(readFileSync(json, "utf8")) as { records: Array<{ workload: string; policy: string; nsPerOp: number }>; summaries: Array<{ workload: string; bestFixed: string; adaptiveNsPerOp: number; adaptiveOverBest: Ratio; adaptiveOverDefault: Ratio }> };
      assert.deepEqual(
        document.records.map((record) => `${record.workload}/${record.policy}`),
        ["realloc-grow", "cycle-1m"].flatMap((workload) => ["fixed 0/100000", "fixed 16/100000", "adaptive"].map((policy) => `${workload}/${policy}`)),
      );
      for (const record of document.records) assert.ok(record.nsPerOp > 0, JSON.stringify(record));
      assert.deepEqual(document.summaries.map((summary) => summary.workload), ["realloc-grow", "cycle-1m"]);
      for (const summary of document.summaries) {
        assert.match(summary.bestFixed, /^fixed (0|16)\/100000$/);
        // The head-to-head rounds' ratio: one round with --quick, so its range is the point.
        const { median, min, max } = summary.adaptiveOverBest;
        assert.ok(median > 0 && min === median && max === median, JSON.stringify(summary));
        assert.ok(summary.adaptiveOverDefault.median > 0, JSON.stringify(summary));
      }
    });
  });

  it("bench alloc replays every workload on every JS allocator and writes JSON", () => {
    withTempDir((folder) => {
      const json = join(folder, "alloc.json");
      const bench = memspaceBench("alloc", "--scale", "2000", "--runs", "1", "--rounds", "1", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as Array<{ workload: string; allocator: string; opsPerSec: number; peakFootprintBytes: number | null; accountedFootprintBytes: number; peakLiveBytes: number; netNsPerOp?: number }>;
      for (const workload of ["larson", "tiny-churn", "alloc-test", "vm", "realloc-grow", "mixed", "cycle-1k", "cycle-16k", "cycle-1m"]) {
        const ours = records.find((r) => r.workload === workload && r.allocator === "memspace");
        // The heap's own count covers its live bytes; what is resident can be less (mixed
        // touches only the first byte of its blocks of up to 4 MiB), but never nothing.
        assert.ok(ours !== undefined && ours.opsPerSec > 0 && ours.accountedFootprintBytes >= ours.peakLiveBytes * 0.5 && ours.peakFootprintBytes! > 0, `${workload}: ${JSON.stringify(ours)}`);
        assert.ok(records.some((r) => r.workload === workload && r.allocator === "thi.ng"));
        const loop = records.find((r) => r.workload === workload && r.allocator === "loop-js");
        assert.ok(loop !== undefined && loop.opsPerSec > 0 && loop.peakFootprintBytes === null, `${workload}: ${JSON.stringify(loop)}`);
        assert.equal(typeof ours.netNsPerOp, "number", `${workload}: no net ns/op for memspace`);
        assertFeltFigures(ours as AllocBenchRecord, `${workload}/memspace`);
        assertFeltFigures(loop as AllocBenchRecord, `${workload}/loop-js`);
      }
      assert.match(bench.stdout, /p50 ns\s+p99 ns/);
      const svg = readFileSync(join(folder, "alloc.svg"), "utf8");
      assert.match(svg, /^<svg/);
      assert.match(svg, /larson/);
    });
  });

  it("bench alloc gives glibc, through the C driver, the latency, fault and RSS figures memspace has", () => {
    withTempDir((folder) => {
      const json = join(folder, "alloc.json");
      const bench = memspaceBench("alloc", "--workloads", "larson,vm", "--allocators", "glibc,loop-c", "--scale", "5000", "--runs", "1", "--rounds", "1", "--json", json);
      assert.equal(bench.status, 0, bench.stderr);
      const records = JSON.parse(readFileSync(json, "utf8")) as AllocBenchRecord[];
      for (const allocator of ["memspace", "glibc", "loop-c"]) {
        for (const workload of ["larson", "vm"]) assertFeltFigures(records.find((r) => r.workload === workload && r.allocator === allocator), `${workload}/${allocator}`);
      }
      // vm maps and touches a fresh 2 MiB block each step: glibc (mmap for blocks this large)
      // faults its pages in on every run, the do-nothing loop on none after its first.
      const vm = (allocator: string) => records.find((r) => r.workload === "vm" && r.allocator === allocator)!;
      assert.ok(vm("glibc").minorFaults! > 100 && vm("glibc").minorFaults! > 10 * vm("loop-c").minorFaults!, `${vm("glibc").minorFaults} vs ${vm("loop-c").minorFaults}`);
      assert.ok(vm("glibc").peakRssBytes! >= 2 << 20, JSON.stringify(vm("glibc")));
    });
  });

  it("bench alloc stops the slow allocator's run at its time budget and says where", () => {
    withTempDir((folder) => {
      const json = join(folder, "alloc.json");
      const bench = memspaceBench("alloc", "--workloads", "larson", "--allocators", "thi.ng", "--scale", "20000", "--runs", "1", "--rounds", "2", "--budget", "0.000001", "--json", json);
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
      assert.equal(memspaceBench("alloc", "--budget", "-1").status === 0, false);
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
      const [name, ...rest] = args;
      const run = memspaceBench(name, ...rest);
      assert.equal(run.status, 2, `${args.join(" ")}: ${run.stderr}`);
      assert.match(run.stderr, message);
      assert.equal(run.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${run.stderr}`);
    }
  });
});
