import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { DEFAULT_GUEST_ENVIRONMENT, runGuest } from "../../src/guest/run-guest.js";
import { withTempDir } from "../helpers.js";

// glibc programs built by guests/build-linux.sh (riscv64-linux-gnu-gcc -O2 -static): each runs
// under memspace and under qemu-riscv64, and stdout and exit status must be the same.
const BUILD = fileURLToPath(new URL("../../../guests/build/linux/", import.meta.url));
const qemuThere = spawnSync("qemu-riscv64", ["--version"]).status === 0;
const built = existsSync(join(BUILD, "hello"));
// In CI both must be there (a silent skip would hide a break): the tests then fail instead.
const skip = (!qemuThere || !built) && process.env.CI !== "true" ? "qemu-riscv64 or the Linux guests missing (bash scripts/setup-guests.sh)" : false;

interface Case {
  name: string;
  args?: string[];
  stdin?: string;
  /** Runs in a fresh directory holding input.txt: qemu's working directory, memspace's writable --fs. */
  files?: boolean;
}

const REQUIRED: Case[] = [
  { name: "hello" },
  { name: "args", args: ["one", "two words", ""] },
  { name: "exit-codes", args: ["300"] },
  { name: "files", files: true },
  { name: "sort" },
  { name: "jumps" },
  { name: "heap" },
  { name: "strings" },
  { name: "stdin-count", stdin: "one two\nthree\n\n  four  \n" },
  { name: "floats" },
  { name: "scan-floats", stdin: "1.5 2.25 -3e2 0.1\n" },
  { name: "libm" },
  { name: "fenv" },
  { name: "conversions" },
  { name: "jit" },
];

function compare(test: Case): void {
  assert.ok(qemuThere, "qemu-riscv64 is not installed (bash scripts/setup-guests.sh)");
  const program = join(BUILD, test.name);
  assert.ok(existsSync(program), `${program} is not built (bash guests/build-linux.sh)`);
  withTempDir((folder) => {
    const qemuDir = join(folder, "qemu");
    const memspaceDir = join(folder, "memspace");
    for (const directory of [qemuDir, memspaceDir]) {
      mkdirSync(directory);
      writeFileSync(join(directory, "input.txt"), "hello sandbox\nsecond line\n");
    }
    const environment = Object.fromEntries(DEFAULT_GUEST_ENVIRONMENT.map((entry) => [entry.slice(0, entry.indexOf("=")), entry.slice(entry.indexOf("=") + 1)]));
    const qemu = spawnSync("qemu-riscv64", [program, ...(test.args ?? [])], { cwd: qemuDir, env: environment, input: test.stdin ?? "", encoding: "utf8" });
    assert.equal(qemu.error, undefined);
    let output = "";
    const result = runGuest(program, {
      args: test.args,
      stdin: new TextEncoder().encode(test.stdin ?? ""),
      fileSystem: test.files === true ? { root: memspaceDir, writable: true } : undefined,
      write: (fd, bytes) => {
        if (fd === 1) output += Buffer.from(bytes).toString("utf8");
      },
    });
    assert.equal(output, qemu.stdout);
    assert.equal(result.stopReason, "exit");
    assert.equal(result.exitCode, qemu.status);
  });
}

describe("glibc guests behave as under qemu-riscv64", { skip }, () => {
  for (const test of REQUIRED) it(test.name, () => compare(test));
});
