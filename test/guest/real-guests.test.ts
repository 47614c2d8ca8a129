import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { runGuest } from "../../src/guest/run-guest.js";

// Guests compiled by scripts/setup-guests.sh (Debian's riscv64-unknown-elf-gcc + picolibc).
// Each runs emulated and natively (the same C built for this machine): outputs must match.
const BUILD = fileURLToPath(new URL("../../../guests/build/", import.meta.url));
const FIXTURES = fileURLToPath(new URL("../../../test/fixtures/", import.meta.url));
const built = existsSync(`${BUILD}hash.elf`);
// In CI the guests must be there: .ci/run builds them, and a silent skip would hide a break.
const skip = !built && process.env.CI !== "true" ? "guests not built (bash scripts/setup-guests.sh)" : false;

function emulated(name: string, stdin?: Uint8Array): { output: string; exitCode: number | null; instructions: number } {
  let output = "";
  const result = runGuest(`${BUILD}${name}.elf`, { stdin, write: (_fd, bytes) => (output += Buffer.from(bytes).toString("utf8")) });
  return { output, exitCode: result.exitCode, instructions: result.instructions };
}

function native(name: string, stdin?: Uint8Array): string | undefined {
  const binary = `${BUILD}${name}.native`;
  if (!existsSync(binary)) return undefined;
  const run = spawnSync(binary, { input: stdin, encoding: "utf8" });
  assert.equal(run.status, 0, run.stderr);
  return run.stdout;
}

describe("compiled guests match their native builds", { skip }, () => {
  for (const name of ["hash", "sort", "hashtable"]) {
    it(name, () => {
      const result = emulated(name);
      assert.equal(result.exitCode, 0);
      assert.ok(result.instructions > 1_000_000);
      const expected = native(name);
      if (expected !== undefined) assert.equal(result.output, expected);
      else assert.match(result.output, /\S/);
    });
  }

  it("vm (the bytecode interpreter) with 200 iterations from stdin", () => {
    const stdin = new TextEncoder().encode("200\n");
    const result = emulated("vm", stdin);
    assert.equal(result.exitCode, 0);
    assert.match(result.output, /^vm: 200 iterations, sum [0-9a-f]{16}\n$/);
    const expected = native("vm", stdin);
    if (expected !== undefined) assert.equal(result.output, expected);
  });

  it("hash and vm run in a strict space: their bare-metal heap and stack RAM is mapped", () => {
    const stdin = new TextEncoder().encode("20\n");
    for (const name of ["hash", "vm"]) {
      let output = "";
      const result = runGuest(`${BUILD}${name}.elf`, { strict: true, stdin, write: (_fd, bytes) => (output += Buffer.from(bytes).toString("utf8")) });
      assert.equal(result.exitCode, 0, name);
      if (name === "vm") assert.match(output, /^vm: 20 iterations/, "read(2) into the stack succeeds");
    }
  });

  it("Lua 5.4 (Debian's source) runs a script", () => {
    const script = readFileSync(`${FIXTURES}small.lua`);
    const result = emulated("lua", script);
    assert.equal(result.exitCode, 0, result.output);
    assert.match(result.output, /^sum\s+150850\s/);
    const expected = native("lua", script);
    if (expected !== undefined) assert.equal(result.output, expected);
  });
});
