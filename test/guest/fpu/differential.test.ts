import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { withTempDir } from "../../helpers.js";
import { buildHarness, CROSS_GCC, firstDifference, QEMU, Random, randomSequence, runUnderMemspace, runUnderQemu, toolPresent } from "../../../bench/fpu/differential.js";

// Locally the test may skip without the tools; in CI (CI=true) their absence must fail it.
const missing = [CROSS_GCC, QEMU].filter((tool) => !toolPresent(tool));
const skip = missing.length > 0 && process.env.CI !== "true" ? `${missing.join(" and ")} not installed` : false;

const SEEDS = [1, 2];
const SEQUENCES_PER_BINARY = 200;
const INSTRUCTIONS_PER_SEQUENCE = 24;

describe("F/D instructions against qemu-riscv64", { skip }, () => {
  it("tools are present", () => assert.deepEqual(missing, []));
  for (const seed of SEEDS) {
    it(`seed ${seed}: ${SEQUENCES_PER_BINARY} random sequences leave identical integer registers, FP registers and fcsr`, () =>
      withTempDir((dir) => {
        const random = new Random(seed);
        const sequences = Array.from({ length: SEQUENCES_PER_BINARY }, () => randomSequence(random, INSTRUCTIONS_PER_SEQUENCE));
        const elf = buildHarness(sequences, dir);
        const difference = firstDifference(sequences, runUnderQemu(elf), runUnderMemspace(elf));
        assert.equal(difference, undefined, difference);
      }));
  }
});

// A statically linked glibc program: its start-up saves FP registers (c.fsd), printf formats doubles.
const GLIBC_PROGRAM = `
#include <math.h>
#include <stdio.h>
int main(int argc, char **argv) {
  volatile double x = argc * 0.1;
  volatile float y = (float)argc / 3.0f;
  double sum = 0;
  for (int i = 1; i <= 1000; i++) sum += sqrt(x * i) / (i + y);
  printf("%.17g %a %a %ld %d\\n", sum, fma(x, sum, -y), (double)(y * y), (long)(sum * 1e12), (int)rint(-2.5));
  return 0;
}
`;

describe("a static glibc program against qemu-riscv64", { skip }, () => {
  it("starts (saving FP registers with c.fsd), computes in floating point and prints what it prints under qemu", () =>
    withTempDir((dir) => {
      const source = join(dir, "float.c");
      const elf = join(dir, "float");
      writeFileSync(source, GLIBC_PROGRAM);
      const build = spawnSync(CROSS_GCC, ["-O2", "-static", "-o", elf, source, "-lm"], { encoding: "utf8" });
      assert.equal(build.status, 0, build.stderr);
      const expected = runUnderQemu(elf).toString("utf8");
      assert.match(expected, /^[0-9.]+ /);
      assert.equal(runUnderMemspace(elf).toString("utf8"), expected);
    }));
});
