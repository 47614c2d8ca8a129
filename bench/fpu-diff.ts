/**
 * The long differential run of the F/D extensions against qemu-riscv64 (`memspace bench
 * fpu-diff`; `npm test` runs a few hundred sequences, this as many as asked). Each binary
 * holds `--sequences` random sequences of `--length` instructions, seeded with seed, seed + 1,
 * ...; the first difference is printed with its sequence, and the exit status is 1. Needs
 * riscv64-linux-gnu-gcc and qemu-riscv64 (scripts/setup-guests.sh installs them).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildHarness, firstDifference, Random, randomSequence, runUnderMemspace, runUnderQemu } from "./fpu/differential.js";
import { benchCommand, nonNegativeIntegerOption, positiveIntegerOption, quickOption, runBenchMain } from "./harness/options.js";
import { report } from "./harness/output.js";

export interface FpuDiffOptions {
  seed: number;
  binaries: number;
  sequences: number;
  length: number;
}

/** Runs the binaries in turn; true when memspace and qemu agreed on every sequence. */
export function runFpuDiff(options: FpuDiffOptions): boolean {
  const dir = mkdtempSync(join(tmpdir(), "fpu-diff-"));
  try {
    for (let seed = options.seed; seed < options.seed + options.binaries; seed++) {
      const random = new Random(seed);
      const sequences = Array.from({ length: options.sequences }, () => randomSequence(random, options.length));
      const elf = buildHarness(sequences, dir);
      const difference = firstDifference(sequences, runUnderQemu(elf), runUnderMemspace(elf));
      if (difference !== undefined) {
        report.write(`seed ${seed}: ${difference}\n`);
        return false;
      }
      report.write(`seed ${seed}: ${options.sequences} sequences x ${options.length} instructions identical\n`);
    }
    return true;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const command = benchCommand("fpu-diff")
  .addOption(quickOption())
  .addOption(nonNegativeIntegerOption("seed", "seed of the first binary's sequences", { normal: 1000 }))
  .addOption(positiveIntegerOption("binaries", "binaries to build and compare, one seed each", { normal: 20, quick: 1 }))
  .addOption(positiveIntegerOption("sequences", "random sequences per binary", { normal: 500, quick: 20 }))
  .addOption(positiveIntegerOption("length", "instructions per sequence", { normal: 40 }));

await runBenchMain(command, (options: FpuDiffOptions) => {
  if (!runFpuDiff(options)) process.exitCode = 1;
});
