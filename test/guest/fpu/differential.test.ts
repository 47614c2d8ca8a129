import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { withTempDir } from "../../helpers.js";
import { buildHarness, CROSS_GCC, firstDifference, QEMU, Random, randomSequence, runUnderMemspace, runUnderQemu, toolPresent } from "./differential.js";

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
