import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));
const GUESTS = fileURLToPath(new URL("../../../guests/build/", import.meta.url));

/** Runs memspace with `args`, `input` (if any) on its standard input through a pipe. */
function memspace(args: string[], input?: Uint8Array): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8", input, maxBuffer: 64 << 20 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Runs memspace and parses its `--json -` document (the command must succeed). */
function memspaceJson(args: string[], input?: Uint8Array): Record<string, unknown> {
  const result = memspace([...args, "--json", "-"], input);
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

/** A cache summary without the fields that name the input. */
function cacheFigures(summary: Record<string, unknown>): Record<string, unknown> {
  const { trace: _trace, format: _format, ...figures } = summary;
  return figures;
}

const hasValgrind = spawnSync("valgrind", ["--version"], { encoding: "utf8" }).status === 0;
const valgrindSkip = !hasValgrind && process.env.CI !== "true" ? "valgrind is not installed (apt-get install valgrind)" : false;

/** A small real program: a strided sum and an in-place update, so its lackey log has I, L, S and M lines. */
const SMALL_PROGRAM = `#include <stdio.h>
static long data[4096];
int main(void) {
  for (int i = 0; i < 4096; i++) data[i] = i;
  long sum = 0;
  for (int round = 0; round < 4; round++) for (int i = 0; i < 4096; i += 3) { data[i] += round; sum += data[(i * 7) % 4096]; }
  printf("%ld\\n", sum);
  return 0;
}
`;

const LACKEY_LOG = `==123== Lackey, an example tool
I  04000000,3
I  04000003,4
 L 7ff000100,8
 S 7ff000108,8
I  04000007,2
 L 0421f004,16
 S fffffffffffffff0,16
I  ffffffff,5
 L 0421f000,4
I  04000009,4
 S 0421f000,4
`;

describe("trace formats on the command line", () => {
  it("trace gen --format v2, then trace convert to seed, equals trace gen in seed; convert reports what it did", () => {
    withTempDir((folder) => {
      const seed = join(folder, "a.trace");
      const v2 = join(folder, "a.v2");
      const back = join(folder, "b.trace");
      assert.equal(memspace(["trace", "gen", "--shape", "execblock", "--ops", "50000", "-o", seed]).status, 0);
      const gen = memspaceJson(["trace", "gen", "--shape", "execblock", "--ops", "50000", "--format", "v2", "-o", v2]);
      assert.equal(gen.format, "v2");
      assert.equal(readFileSync(v2)[0], 0x89);
      const report = memspaceJson(["trace", "convert", v2, "-o", back, "--format", "seed"]);
      assert.deepEqual(
        { from: report.from, to: report.to, records: report.outputRecords, inputBytes: report.inputBytes, outputBytes: report.outputBytes },
        { from: "v2", to: "seed", records: 50_000, inputBytes: readFileSync(v2).length, outputBytes: readFileSync(seed).length },
      );
      assert.equal((report.reads as number) + (report.writes as number), 50_000);
      assert.ok(readFileSync(back).equals(readFileSync(seed)));
      const text = memspace(["trace", "convert", seed, "-o", join(folder, "c.v2"), "--format", "v2"]);
      assert.equal(text.status, 0, text.stderr);
      assert.match(text.stdout, /^converted .*a\.trace \(seed\) -> .*c\.v2 \(v2\)$/m);
      assert.match(text.stdout, /^bytes in\s+[\d,]+$/m);
      assert.match(text.stdout, /^ratio\s+\d+\.\d\d : 1$/m);
    });
  });

  it("trace convert reads standard input, and replay - and trace stats - read a v2 trace through a pipe", () => {
    withTempDir((folder) => {
      const v2 = join(folder, "a.v2");
      assert.equal(memspace(["trace", "gen", "--shape", "execblock", "--ops", "40000", "--format", "v2", "-o", v2]).status, 0);
      const bytes = readFileSync(v2);
      const fromFile = memspaceJson(["replay", v2]);
      const fromPipe = memspaceJson(["replay", "-"], bytes);
      const row = (report: Record<string, unknown>): unknown => {
        const [first] = report.backends as { ops: number; checksum: string; pagesTouched: number }[];
        return [first.ops, first.checksum, first.pagesTouched];
      };
      assert.deepEqual(row(fromPipe), row(fromFile));
      assert.deepEqual((fromFile.backends as { ops: number }[])[0].ops, 40_000);
      const stats = memspaceJson(["trace", "stats", "-"], bytes);
      assert.equal(stats.ops, 40_000);
      assert.deepEqual({ ...memspaceJson(["trace", "stats", v2]), trace: "-" }, stats);
      const seed = join(folder, "a.trace");
      const converted = memspaceJson(["trace", "convert", "-", "-o", seed, "--format", "seed"], bytes);
      assert.equal(converted.from, "v2");
      assert.equal(converted.inputBytes, bytes.length, "the pipe's bytes are counted");
      assert.deepEqual(memspaceJson(["trace", "stats", seed]).ops, 40_000);
    });
  });

  it("trace convert never overwrites its input, and needs --format", () => {
    withTempDir((folder) => {
      const v2 = join(folder, "a.v2");
      assert.equal(memspace(["trace", "gen", "--shape", "fib", "--ops", "1000", "--format", "v2", "-o", v2]).status, 0);
      const before = readFileSync(v2);
      const same = memspace(["trace", "convert", v2, "-o", v2, "--format", "seed"]);
      assert.equal(same.status, 1);
      assert.match(same.stderr, /refusing to overwrite an input/);
      assert.ok(readFileSync(v2).equals(before), "the input is untouched");
      const viaDot = memspace(["trace", "convert", v2, "-o", join(folder, ".", "a.v2"), "--format", "v2"]);
      assert.equal(viaDot.status, 1);
      assert.ok(readFileSync(v2).equals(before));
      const json = memspace(["trace", "convert", v2, "-o", join(folder, "b.trace"), "--format", "seed", "--json", v2]);
      assert.notEqual(json.status, 0);
      assert.ok(readFileSync(v2).equals(before));
      assert.equal(existsSync(join(folder, "b.trace")), false);
      const noFormat = memspace(["trace", "convert", v2, "-o", join(folder, "c.trace")]);
      assert.equal(noFormat.status, 2);
      assert.match(noFormat.stderr, /--format/);
      const badFormat = memspace(["trace", "gen", "--shape", "fib", "--ops", "10", "-o", join(folder, "d"), "--format", "v3"]);
      assert.equal(badFormat.status, 2);
      assert.match(badFormat.stderr, /seed, v2|"seed", "v2"/);
    });
  });

  it("import-lackey --format v2 keeps fetches: trace cache gives the lackey log's summary", () => {
    withTempDir((folder) => {
      const log = join(folder, "lackey.log");
      const v2 = join(folder, "lackey.v2");
      writeFileSync(log, LACKEY_LOG);
      const imported = memspaceJson(["trace", "import-lackey", log, "-o", v2, "--format", "v2"]);
      assert.deepEqual([imported.format, imported.instructionFetches, imported.records, imported.ops], ["v2", 5, 11, 11]);
      const fromLog = memspaceJson(["trace", "cache", log, "--format", "lackey"]);
      const fromV2 = memspaceJson(["trace", "cache", v2]);
      assert.equal((fromV2.I1 as { refs: number }).refs, 5, "fetches stay fetches");
      assert.deepEqual(cacheFigures(fromV2), cacheFigures(fromLog));
      // A seed import cannot tell fetches apart: its fetches are data reads.
      const seed = join(folder, "lackey.trace");
      assert.equal(memspace(["trace", "import-lackey", log, "-o", seed]).status, 0);
      assert.equal((memspaceJson(["trace", "cache", seed]).I1 as { refs: number }).refs, 0);
    });
  });

  it("run --trace --trace-format v2 converts to exactly the seed trace run --trace records", { skip: !existsSync(`${GUESTS}vm.elf`) && process.env.CI !== "true" ? "guests not built (bash scripts/setup-guests.sh)" : false }, () => {
    withTempDir((folder) => {
      const stdin = join(folder, "stdin");
      writeFileSync(stdin, "20\n");
      const guest = `${GUESTS}vm.elf`;
      const seed = join(folder, "vm.trace");
      const v2 = join(folder, "vm.v2");
      const back = join(folder, "back.trace");
      // The first 400,000 instructions (the run stops there, status 124): start-up and the interpreter's first loops.
      const limit = ["--max-instructions", "400000"];
      const plain = memspace(["run", guest, "--stdin", stdin, ...limit, "--trace", seed]);
      assert.equal(plain.status, 124, plain.stderr);
      const viaV2 = memspace(["run", guest, "--stdin", stdin, ...limit, "--trace", v2, "--trace-format", "v2"]);
      assert.equal(viaV2.status, 124, viaV2.stderr);
      assert.equal(readFileSync(v2)[0], 0x89);
      const report = memspaceJson(["trace", "convert", v2, "-o", back, "--format", "seed"]);
      assert.equal(report.fetches, 400_000, "a recorded v2 trace keeps its fetches, one an instruction");
      assert.ok(readFileSync(back).equals(readFileSync(seed)), "byte for byte the seed recording");
      const alone = memspace(["run", guest, "--trace-format", "v2"]);
      assert.equal(alone.status, 2);
      assert.match(alone.stderr, /--trace-format needs --trace/);
    });
  });

  it("a real program's lackey log and its v2 import give the same cache summary, modifies included", { skip: valgrindSkip }, () => {
    assert.ok(hasValgrind, "valgrind is required in CI");
    withTempDir((folder) => {
      const source = join(folder, "small.c");
      const binary = join(folder, "small");
      const log = join(folder, "lackey.log");
      const v2 = join(folder, "lackey.v2");
      writeFileSync(source, SMALL_PROGRAM);
      assert.equal(spawnSync("gcc", ["-O1", "-o", binary, source]).status, 0);
      assert.equal(spawnSync("valgrind", ["--tool=lackey", "--trace-mem=yes", `--log-file=${log}`, binary]).status, 0);
      const imported = memspaceJson(["trace", "import-lackey", log, "-o", v2, "--format", "v2"]);
      const modifies = imported.modifies as number;
      assert.ok(modifies > 1000, `${modifies} modifies`);
      type Summary = { I1: { refs: number }; D1: { refs: number; writes: { refs: number } } };
      const fromLog = memspaceJson(["trace", "cache", log, "--format", "lackey"]) as unknown as Summary;
      const fromV2 = memspaceJson(["trace", "cache", v2]) as unknown as Summary;
      assert.equal(fromV2.I1.refs, imported.instructionFetches);
      // v2 keeps a modify as one record, which the simulator counts as Cachegrind does: one data read.
      assert.equal(fromV2.D1.refs, fromLog.D1.refs);
      assert.deepEqual(cacheFigures(fromV2 as unknown as Record<string, unknown>), cacheFigures(fromLog as unknown as Record<string, unknown>));
    });
  });
});
