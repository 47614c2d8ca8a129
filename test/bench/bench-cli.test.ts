import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, runBenchMain } from "../../bench/harness/options.js";
import { report } from "../../bench/harness/output.js";
import { bench, benchAsync } from "./bench-run.js";
import { withTempDir } from "../helpers.js";

/** Help text with its wrapping undone, so a description can be matched whole. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ");
}

/** Each bench's options, and a default its help must show. */
const HELP: Record<string, { options: string[]; defaults: string[] }> = {
  replay: {
    options: ["--quick", "--fib-ops <n>", "--execblock-ops <n>", "--vm-iterations <n>", "--rounds <n>", "--dir <dir>", "--keep", "--json <file>"],
    defaults: ["(default: 117_000_007; 10_000_000 with --quick)", "(default: 5; 1 with --quick)"],
  },
  guests: { options: ["--quick", "--rounds <n>", "--json <file>"], defaults: ["(default: 3; 1 with --quick)"] },
  frames: {
    options: ["--quick", "--frames <n>", "--pairs <n>", "--runs <n>", "--rounds <n>", "--workers <counts>", "--benchmarks <names>", "--orders <orders>", "--allocators <names>", "--json <file>"],
    defaults: ["(default: 4_194_304; 262_144 with --quick)", "(default: 1,2)", "(default: 0,9)"],
  },
  alloc: {
    options: ["--quick", "--scale <n>", "--runs <n>", "--rounds <n>", "--workloads <names>", "--allocators <names>", "--slots <n>", "--budget <seconds>", "--no-block-cache", "--json <file>", "--chart <file>"],
    defaults: ["(default: 500_000; 50_000 with --quick)", "(default: 30)", "(default: each workload's own)"],
  },
  "alloc-threads": {
    options: ["--quick", "--steps <n>", "--rounds <n>", "--remote-percent <percent>", "--json <file>"],
    defaults: ["(default: 1_000_000; 100_000 with --quick)", "(default: 25)"],
  },
  cache: { options: ["--quick", "--fib-ops <n>", "--cachegrind-rounds <n>", "--rounds <n>", "--json <file>"], defaults: ["(default: 100_000_000; 2_000_000 with --quick)", "(default: 3; 1 with --quick)"] },
  startup: { options: ["--quick", "--rounds <n>", "--json <file>"], defaults: ["(default: 30; 5 with --quick)"] },
  hooks: { options: ["--quick", "--rounds <n>", "--json <file>"], defaults: ["(default: 5; 1 with --quick)"] },
  parts: { options: ["--quick", "--execblock-ops <n>", "--rounds <n>", "--workers <list>", "--analyses <names>", "--json <file>"], defaults: ["(default: 200_000_000; 2_000_000 with --quick)", "(default: 3; 1 with --quick)"] },
};

describe("bench command lines", () => {
  it("--help of every bench exits 0 with its usage, each option and its defaults", async () => {
    const runs = await Promise.all(Object.keys(HELP).map((name) => benchAsync(name, ["--help"])));
    for (const [index, [name, { options, defaults }]] of Object.entries(HELP).entries()) {
      const run = runs[index];
      assert.equal(run.status, 0, `${name}: ${run.stderr}`);
      assert.match(run.stdout, new RegExp(`^Usage: memspace bench ${name} \\[options\\]\n`));
      const help = oneLine(run.stdout);
      for (const option of options) assert.ok(help.includes(` ${option} `), `${name}: ${option} missing from\n${run.stdout}`);
      for (const shown of defaults) assert.ok(help.includes(shown), `${name}: ${shown} missing from\n${run.stdout}`);
      assert.equal(run.stderr, "");
    }
  });

  it("a bad value or an unknown option is one line naming the bench, and exit status 2", async () => {
    const cases: Array<[string[], string]> = [
      [["--rounds", "1e3"], "--rounds must be a positive integer, got 1e3"],
      [["--rounds", ""], '--rounds must be a positive integer, got ""'],
      [["--nope"], "unknown option '--nope'"],
    ];
    const checks = [
      ...Object.keys(HELP).flatMap((name) => cases.map(([args, message]) => ({ name, args, message }))),
      { name: "replay", args: ["--fib-ops", "0x10"], message: "--fib-ops must be a non-negative integer, got 0x10" },
      { name: "startup", args: ["--rounds"], message: "option '--rounds <n>' argument missing" },
      { name: "guests", args: ["extra"], message: "too many arguments. Expected 0 arguments but got 1." },
      { name: "frames", args: ["--round", "2"], message: "unknown option '--round' (Did you mean --rounds?)" },
      { name: "frames", args: ["--orders", "0,1e0"], message: "--orders must be a non-negative integer, got 1e0" },
      { name: "alloc-threads", args: ["--remote-percent", "1e1"], message: "--remote-percent: 1e1 is not a percentage" },
      { name: "alloc", args: ["--chart", "-"], message: "--chart needs a file name (the SVG does not go to stdout)" },
    ];
    const runs = await Promise.all(checks.map(({ name, args }) => benchAsync(name, args)));
    for (const [index, { name, args, message }] of checks.entries()) {
      const run = runs[index];
      assert.equal(run.status, 2, `${name} ${args.join(" ")}: ${run.stderr}`);
      assert.equal(run.stderr, `bench ${name}: ${message}\n`);
      assert.equal(run.stdout, "");
    }
  });

  it("--quick picks the quick defaults, which an explicit option overrides; --json - sends the human-readable lines to stderr", async () => {
    const command = () =>
      benchCommand("startup")
        .addOption(quickOption())
        .addOption(positiveIntegerOption("rounds", "rounds", { normal: 3, quick: 1 }))
        .addOption(positiveIntegerOption("steps", "steps", { normal: 1000 }))
        .addOption(jsonOption());
    const parsed = async (argv: string[]): Promise<Record<string, unknown>> => {
      let options: Record<string, unknown> = {};
      await runBenchMain(command(), (given: Record<string, unknown>) => void (options = given), argv);
      return options;
    };
    assert.deepEqual({ ...(await parsed([])) }, { rounds: 3, steps: 1000 });
    assert.deepEqual({ ...(await parsed(["--quick"])) }, { quick: true, rounds: 1, steps: 1000 });
    assert.deepEqual({ ...(await parsed(["--quick", "--rounds", "3"])) }, { quick: true, rounds: 3, steps: 1000 });
    assert.equal(report.stream, process.stdout);
    try {
      assert.equal((await parsed(["--json", "-"])).json, "-");
      assert.equal(report.stream, process.stderr);
    } finally {
      report.stream = process.stdout;
    }
  });

  it("bench alloc-threads --json - prints one JSON document on stdout, its table on stderr", () => {
    const run = bench("alloc-threads", ["--quick", "--workloads", "larson", "--allocators", "memspace,memspace-locked", "--steps", "2000", "--rounds", "1", "--json", "-"]);
    assert.equal(run.status, 0, run.stderr);
    const records = JSON.parse(run.stdout) as Array<{ workload: string; allocator: string; workers: number; opsPerSec: number }>;
    assert.deepEqual(records.map((r) => `${r.workload}/${r.allocator}/${r.workers}`), ["larson/memspace/1", "larson/memspace/2", "larson/memspace-locked/1", "larson/memspace-locked/2"]);
    assert.match(run.stderr, /^larson\s+memspace\s+1\s/m);
  });

  it("bench parts times each analysis on 0, 1 and 2 workers, with the same figures from each", () => {
    const run = bench("parts", ["--execblock-ops", "600000", "--rounds", "1", "--analyses", "stats,cache", "--json", "-"]);
    assert.equal(run.status, 0, run.stderr);
    const document = JSON.parse(run.stdout) as { rows: Array<{ analysis: string; workers: number; medianMs: number; overOnePassWithDecoder: { median: number } | null }> };
    assert.deepEqual(document.rows.map((row) => `${row.analysis}/${row.workers}`), ["stats/0", "stats/1", "stats/2", "cache/0", "cache/1", "cache/2"]);
    for (const row of document.rows) assert.ok(row.medianMs > 0 && (row.workers === 1) === (row.overOnePassWithDecoder === null), JSON.stringify(row));
    assert.match(run.stderr, /every run's figures equal the first run's/);
  });

  it("bench frames --json FILE writes the file whole and says so; --json - keeps stdout to the document", () => {
    withTempDir((folder) => {
      const args = ["--frames", "8192", "--pairs", "200", "--runs", "1", "--rounds", "1", "--benchmarks", "repeat", "--orders", "0", "--workers", "1", "--allocators", "llfree"];
      const json = join(folder, "frames.json");
      writeFileSync(json, "old");
      const toFile = bench("frames", [...args, "--json", json]);
      assert.equal(toFile.status, 0, toFile.stderr);
      assert.match(toFile.stdout, new RegExp(`^wrote ${json}$`, "m"));
      assert.deepEqual(readdirSync(folder), ["frames.json"], "no temporary file left beside it");
      const written = JSON.parse(readFileSync(json, "utf8")) as Array<{ benchmark: string; allocator: string }>;
      assert.deepEqual(written.map((r) => `${r.benchmark}/${r.allocator}`), ["repeat/llfree"]);
      const toStdout = bench("frames", [...args, "--json", "-"]);
      assert.equal(toStdout.status, 0, toStdout.stderr);
      assert.deepEqual((JSON.parse(toStdout.stdout) as Array<{ benchmark: string }>).map((r) => r.benchmark), ["repeat"]);
      assert.match(toStdout.stderr, /^repeat order 0\s/m);
    });
  });

  it("bench alloc --json - writes no chart (its default is beside a JSON file)", () => {
    withTempDir((folder) => {
      const run = bench("alloc", ["--scale", "2000", "--runs", "1", "--rounds", "1", "--workloads", "larson", "--allocators", "memspace", "--json", "-"], folder);
      assert.equal(run.status, 0, run.stderr);
      const records = JSON.parse(run.stdout) as Array<{ workload: string; allocator: string; opsPerSec: number }>;
      assert.deepEqual(records.map((r) => `${r.workload}/${r.allocator}`), ["larson/memspace"]);
      assert.ok(records[0].opsPerSec > 0);
      assert.match(run.stderr, /^larson\s+memspace\s/m);
      assert.deepEqual(readdirSync(folder), []);
    });
  });

  it("bench startup times the commands, bundled and not, in fresh processes and gives their figures as one JSON document", () => {
    const run = bench("startup", ["--quick", "--rounds", "2", "--json", "-"]);
    assert.equal(run.status, 0, run.stderr);
    const result = JSON.parse(run.stdout) as {
      rounds: number;
      targetAboveNodeMs: number;
      rows: Array<{ command: string; medianMs: number; minMs: number; maxMs: number; medianAboveNodeMs: number | null; meetsTarget: boolean | null }>;
    };
    assert.equal(result.rounds, 2);
    assert.equal(result.targetAboveNodeMs, 30);
    assert.deepEqual(result.rows.map((row) => row.command), ["node -e 0", "memspace --help", "memspace replay EMPTY", "unbundled main.js --help", "unbundled main.js replay EMPTY"]);
    for (const row of result.rows) {
      assert.ok(row.minMs > 0 && row.minMs <= row.medianMs && row.medianMs <= row.maxMs, JSON.stringify(row));
      const isBaseline = row.command === "node -e 0";
      assert.equal(row.medianAboveNodeMs === null, isBaseline, JSON.stringify(row));
      if (!isBaseline) assert.equal(row.meetsTarget, row.medianAboveNodeMs! <= result.targetAboveNodeMs);
    }
    // The difference from node -e 0 can come out below zero on a busy machine.
    assert.match(run.stderr, /^memspace replay EMPTY\s+[\d.,]+\s+[\d.,]+\s+[\d.,]+\s+-?[\d.,]+\s+(yes|no)$/m);
    assert.match(run.stderr, /target: at most 30 ms above node -e 0/);
  });
});
