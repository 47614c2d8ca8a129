import assert from "node:assert/strict";
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createBackend } from "../../src/space/create-backend.js";
import { READ_CHUNK_BYTES } from "../../src/trace/format.js";
import { generateTrace } from "../../src/trace/generators.js";
import { replayFile } from "../../src/trace/replay.js";
import { withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));
/** A child stuck on a FIFO nobody opens fails the test instead of hanging it. */
const CHILD_TIMEOUT_MS = 30_000;

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `input` (when given) on a pipe as its standard input. */
function memspace(args: string[], input?: Uint8Array): Run {
  const result = spawnSync(process.execPath, [MAIN, ...args], { input, encoding: "utf8", timeout: CHILD_TIMEOUT_MS });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The replay table's figures that do not depend on timing: backend, ops, pages touched, checksum. */
function replayFigures(run: Run): string[] {
  assert.equal(run.status, 0, run.stderr);
  const row = run.stdout.split("\n").find((line) => /^(noop|map|paged)\s/.test(line));
  assert.ok(row !== undefined, run.stdout);
  const cells = row.trim().split(/\s{2,}/);
  return [cells[0], cells[1], cells[4], cells[5]];
}

/** `trace stats` output after its first line (which names the input). */
function statsFigures(run: Run): string {
  assert.equal(run.status, 0, run.stderr);
  return run.stdout.slice(run.stdout.indexOf("\n"));
}

/** An execblock trace of a few MiB, so a pipe delivers it over several read chunks. */
function bigTrace(folder: string): { path: string; bytes: Buffer } {
  const path = join(folder, "eb.trace");
  generateTrace("execblock", 300_000, path, { seed: 3 });
  return { path, bytes: readFileSync(path) };
}

describe("trace input: an access past 2^64 - 1 on the command line", () => {
  it("replay --backend noop and trace stats exit non-zero, naming the file and byte offset", () => {
    withTempDir((folder) => {
      const path = join(folder, "top.trace");
      // A 2-byte read at 0x1000, then one at 0xffff_ffff_ffff_ffff.
      writeFileSync(path, Uint8Array.from([2, 2, 0, 0x10, 0, 0, 0, 0, 0, 0, 2, 2, ...new Array(8).fill(0xff)]));
      const expected = `memspace: ${path}: byte offset 10: 2-byte access at 0xffffffffffffffff runs past the top of the 64-bit space\n`;
      for (const args of [["replay", path, "--backend", "noop"], ["replay", path, "--backend", "paged"], ["trace", "stats", path]]) {
        const run = memspace(args);
        assert.equal(run.status, 1, args.join(" "));
        assert.equal(run.stderr, expected, args.join(" "));
      }
    });
  });
});

describe("trace input: standard input, pipes and FIFOs", () => {
  it("replay - and trace stats - read a piped trace and give the figures the file gives", () => {
    withTempDir((folder) => {
      const { path, bytes } = bigTrace(folder);
      assert.ok(bytes.length > READ_CHUNK_BYTES, "more than one read chunk");
      assert.deepEqual(replayFigures(memspace(["replay", "-", "--backend", "paged"], bytes)), replayFigures(memspace(["replay", path, "--backend", "paged"])));
      const fromPipe = statsFigures(memspace(["trace", "stats", "-"], bytes));
      assert.equal(fromPipe, statsFigures(memspace(["trace", "stats", path])));
      assert.match(fromPipe, /ops\s+300,000/);
    });
  });

  it("a FIFO, and /dev/stdin on a pipe, are read as they come", () => {
    withTempDir((folder) => {
      const { path } = bigTrace(folder);
      const fifo = join(folder, "trace.fifo");
      execFileSync("mkfifo", [fifo]);
      // The writer opens the FIFO in a process of its own, bounded in time should the reader never come.
      const writer = `timeout ${CHILD_TIMEOUT_MS / 1000} sh -c 'cat "$0" > "$1"' "$1" "$2" &`;
      const run = spawnSync("sh", ["-c", `${writer} exec "$0" "$3" replay "$2" --backend paged`, process.execPath, path, fifo, MAIN], {
        encoding: "utf8",
        timeout: CHILD_TIMEOUT_MS,
      });
      const fromFile = replayFigures(memspace(["replay", path, "--backend", "paged"]));
      assert.deepEqual(replayFigures(run), fromFile);
      // /dev/stdin on a shell's pipe, likewise.
      const piped = spawnSync("sh", ["-c", `cat "$1" | exec "$0" "$2" replay /dev/stdin --backend paged`, process.execPath, path, MAIN], {
        encoding: "utf8",
        timeout: CHILD_TIMEOUT_MS,
      });
      assert.deepEqual(replayFigures(piped), fromFile);
    });
  });

  it("replay reads a FIFO in order with an unknown total (0), even when read-ahead is asked for", () => {
    withTempDir((folder) => {
      const { path, bytes } = bigTrace(folder);
      const fifo = join(folder, "trace.fifo");
      execFileSync("mkfifo", [fifo]);
      const fromFile = replayFile(path, createBackend("paged"));
      // A writer in a process of its own: this thread blocks opening the FIFO until it comes.
      const writer = spawn("timeout", [String(CHILD_TIMEOUT_MS / 1000), "sh", "-c", 'cat "$0" > "$1"', path, fifo], { stdio: "ignore" });
      const totals = new Set<number>();
      let lastDone = 0;
      const fromFifo = replayFile(fifo, createBackend("paged"), {
        readAhead: true,
        onProgress: (done, total) => {
          totals.add(total);
          lastDone = done;
        },
      });
      writer.unref();
      assert.deepEqual([fromFifo.ops, fromFifo.bytes, fromFifo.checksum], [fromFile.ops, fromFile.bytes, fromFile.checksum]);
      assert.deepEqual([...totals], [0]);
      assert.equal(lastDone, bytes.length);
    });
  });

  it("a record cut off at the end of standard input names <stdin> and its byte offset", () => {
    const read2 = [2, 2, 0, 0x10, 0, 0, 0, 0, 0, 0];
    const run = memspace(["replay", "-", "--backend", "noop"], Uint8Array.from([...read2, ...read2, 1, 8, 0, 0]));
    assert.equal(run.status, 1);
    assert.equal(run.stderr, "memspace: <stdin>: byte offset 20: truncated record: 4 of 18 bytes before end of input\n");
  });

  it("trace import-lackey - converts piped lackey output as it converts the file", () => {
    withTempDir((folder) => {
      const lines = ["==1== Lackey", "I  0401ab70,3", " L 1fff000778,8", " S 7ff0000a38,4", " M 00001000,2"];
      const text = Array.from({ length: 40_000 }, (_, index) => lines[index % lines.length]).join("\n") + "\n";
      const input = join(folder, "lackey.txt");
      writeFileSync(input, text);
      const fromFile = memspace(["trace", "import-lackey", input, "-o", join(folder, "file.trace")]);
      assert.equal(fromFile.status, 0, fromFile.stderr);
      const fromPipe = memspace(["trace", "import-lackey", "-", "-o", join(folder, "pipe.trace")], Buffer.from(text, "latin1"));
      assert.equal(fromPipe.status, 0, fromPipe.stderr);
      const fileTrace = readFileSync(join(folder, "file.trace"));
      assert.ok(fileTrace.length > 0);
      assert.ok(fileTrace.equals(readFileSync(join(folder, "pipe.trace"))), "same trace from the pipe as from the file");
      // A bad line on standard input is named as <stdin>.
      const bad = memspace(["trace", "import-lackey", "-", "-o", join(folder, "bad.trace")], Buffer.from("I  0401ab70,3\nnonsense\n"));
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /^memspace: <stdin>: line 2: not a lackey access line/);
    });
  });

  it("a directory is an error naming it", () => {
    withTempDir((folder) => {
      const directory = join(folder, "trace.d");
      mkdirSync(directory);
      for (const args of [["replay", directory], ["trace", "stats", directory]]) {
        const run = memspace(args);
        assert.equal(run.status, 1, args.join(" "));
        assert.equal(run.stderr, `memspace: ${directory}: is a directory, not a trace file\n`);
      }
      const lackey = memspace(["trace", "import-lackey", directory, "-o", join(folder, "out.trace")]);
      assert.equal(lackey.status, 1);
      assert.equal(lackey.stderr, `memspace: ${directory}: is a directory, not lackey output\n`);
    });
  });
});
