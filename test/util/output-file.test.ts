import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { generateTrace } from "../../src/trace/generators.js";
import { TraceWriter } from "../../src/trace/writer.js";
import { OutputAliasError, OutputFile, writeFileAtomic } from "../../src/util/output-file.js";
import { parseDecimalInteger, parseDecimalNumber } from "../../src/util/parse-number.js";
import { withTempDir } from "../helpers.js";

describe("output files", () => {
  it("appear only on commit; a discarded output leaves the target and the folder as they were", () => {
    withTempDir((folder) => {
      const target = join(folder, "out.bin");
      writeFileSync(target, "old contents");
      const output = OutputFile.create(target);
      output.write(new TextEncoder().encode("new"));
      assert.equal(readFileSync(target, "utf8"), "old contents", "the target is untouched while writing");
      output.discard();
      assert.equal(readFileSync(target, "utf8"), "old contents");
      assert.deepEqual(readdirSync(folder), ["out.bin"], "no temporary file is left behind");
      writeFileAtomic(target, "new contents");
      assert.equal(readFileSync(target, "utf8"), "new contents");
      assert.deepEqual(readdirSync(folder), ["out.bin"]);
    });
  });

  it("refuse an output that is an input, also through a symbolic link, before writing anything", () => {
    withTempDir((folder) => {
      const input = join(folder, "input.trace");
      writeFileSync(input, "precious");
      const link = join(folder, "link.trace");
      symlinkSync(input, link);
      assert.throws(() => OutputFile.create(input, [input]), OutputAliasError);
      assert.throws(() => new TraceWriter(link, { inputPaths: [input] }), /same file as the input/);
      assert.equal(readFileSync(input, "utf8"), "precious");
      assert.deepEqual(readdirSync(folder).sort(), ["input.trace", "link.trace"]);
      // A different file of the same contents is fine.
      const other = join(folder, "other.trace");
      writeFileSync(other, "precious");
      OutputFile.create(other, [input]).discard();
    });
  });

  it("a directory as the output is refused with its name", () => {
    withTempDir((folder) => {
      const directory = join(folder, "d");
      mkdirSync(directory);
      assert.throws(() => writeFileAtomic(directory, "x"), new RegExp(`${directory}: is a directory`));
    });
  });

  it("a trace generator that fails leaves no output and keeps the old file", () => {
    withTempDir((folder) => {
      const target = join(folder, "gen.trace");
      writeFileSync(target, "keep me");
      assert.throws(() =>
        generateTrace("fib", 10_000, target, {
          onProgress: () => {
            throw new Error("interrupted");
          },
        }),
      /interrupted/);
      assert.equal(readFileSync(target, "utf8"), "keep me");
      assert.deepEqual(readdirSync(folder), ["gen.trace"]);
    });
  });
});

describe("command-line numbers", () => {
  it("take plain decimal digits with optional _ separators, nothing else", () => {
    assert.equal(parseDecimalInteger("117_000_007"), 117_000_007);
    assert.equal(parseDecimalInteger("0"), 0);
    for (const text of ["", " 1", "1e3", "0x10", "-1", "1.5", "1__0", "_1", "9007199254740993"]) assert.equal(parseDecimalInteger(text), null, text);
    assert.equal(parseDecimalNumber("0.5"), 0.5);
    assert.equal(parseDecimalNumber("30"), 30);
    for (const text of ["", ".5", "1e3", "Infinity", "NaN", "1."]) assert.equal(parseDecimalNumber(text), null, text);
  });
});
