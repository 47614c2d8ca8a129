/**
 * The long differential run of the F/D extensions against qemu-riscv64 (`npm test` runs a
 * few hundred sequences; this runs as many as asked):
 *   node dist/bench/fpu-diff.js [--seed N] [--binaries N] [--sequences N] [--length N]
 * Each binary holds `--sequences` random sequences of `--length` instructions, seeded with
 * seed, seed + 1, ...; the first difference is printed with its sequence, and the exit code
 * is 1. Needs riscv64-linux-gnu-gcc and qemu-riscv64.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildHarness, firstDifference, Random, randomSequence, runUnderMemspace, runUnderQemu } from "./fpu/differential.js";

const { values } = parseArgs({
  options: {
    seed: { type: "string", default: "1000" },
    binaries: { type: "string", default: "20" },
    sequences: { type: "string", default: "500" },
    length: { type: "string", default: "40" },
  },
});
const firstSeed = Number(values.seed);
const binaries = Number(values.binaries);
const sequenceCount = Number(values.sequences);
const length = Number(values.length);

const dir = mkdtempSync(join(tmpdir(), "fpu-diff-"));
let failed = false;
try {
  for (let seed = firstSeed; seed < firstSeed + binaries && !failed; seed++) {
    const random = new Random(seed);
    const sequences = Array.from({ length: sequenceCount }, () => randomSequence(random, length));
    const elf = buildHarness(sequences, dir);
    const difference = firstDifference(sequences, runUnderQemu(elf), runUnderMemspace(elf));
    if (difference !== undefined) {
      console.log(`seed ${seed}: ${difference}`);
      failed = true;
    } else console.log(`seed ${seed}: ${sequenceCount} sequences x ${length} instructions identical`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exitCode = failed ? 1 : 0;
