/**
 * Huge frames behind large blocks (`memspace bench huge-frames`): a SpaceHeap's 256 MiB of
 * 8 MiB blocks on three spaces, each configuration in a fresh process, interleaved rounds:
 *   huge:     frames from a FrameAllocator with free order-9 runs (each 2 MiB run one huge leaf);
 *   4k:       the default private frame store (4 KiB frames, one page-table entry each);
 *   fallback: a FrameAllocator fragmented so that no order-9 run is free (huge frames asked for, 4 KiB got).
 * Phases: malloc (maps, and asks for huge frames), first touch (a store every 64 bytes), sweep
 * (a load every 64 bytes), random (8-byte loads at random 8-byte-aligned offsets), fork-write
 * (a snapshot, then one store per 2 MiB of one block: the copy-on-write cost). The table
 * shows each phase's median over rounds and the page-table entries (4 KiB entries plus
 * huge leaves).
 */
import { FrameAllocator } from "../src/alloc/frames/frame-allocator.js";
import { SpaceHeap } from "../src/alloc/heap/space-heap.js";
import { PAGE_SIZE_BYTES } from "../src/space/address.js";
import { AddressSpace } from "../src/space/address-space.js";
import { HUGE_PAGES } from "../src/space/paged-backend.js";
import { Random } from "../src/util/random.js";
import { childJob, runChild, writeChildResult } from "./harness/child.js";
import { benchCommand, jsonOption, positiveIntegerOption, quickOption, runBenchMain } from "./harness/options.js";
import { report, reportTable, writeJsonDocument } from "./harness/output.js";
import { median, RoundSamples, roundSchedule } from "./harness/rounds.js";

const MIB = 1 << 20;
const BLOCK_BYTES = 8 * MIB;
const BLOCK_COUNT = 32;
const HEAP_BYTES = 512 * MIB;
/** The heap's region: 2 MiB aligned, high half 0x10, so a region offset is the low half. */
const HEAP_HIGH = 0x10;
const HEAP_BASE = BigInt(HEAP_HIGH) << 32n;
const STRIDE_BYTES = 64;
const RANDOM_SEED = 0x2545f491;
const HUGE_RUN_BYTES = HUGE_PAGES * PAGE_SIZE_BYTES;
/** Frames of the allocators: the blocks, the heap's small pages, and room for the copies of one block's leaves. */
const POOL_FRAMES = (BLOCK_COUNT * BLOCK_BYTES) / PAGE_SIZE_BYTES + 16 * HUGE_PAGES;
const CONFIGS = ["huge", "4k", "fallback"] as const;
type Config = (typeof CONFIGS)[number];
const PHASES = ["malloc", "touch", "sweep", "random", "fork-write"] as const;
type Phase = (typeof PHASES)[number];

/** One configuration's run: milliseconds by phase, and the page table's size. */
interface Sample {
  milliseconds: Record<Phase, number>;
  tableEntries: number;
  hugeLeaves: number;
  /** Sum of the values loaded: returned so no load is dead code, and equal in every configuration. */
  checksum: number;
}

interface ChildJob {
  config: Config;
  randomLoads: number;
}

export interface HugeFramesBenchOptions {
  rounds: number;
  randomLoads: number;
  json?: string;
}

function spaceFor(config: Config): AddressSpace {
  if (config === "4k") return new AddressSpace();
  const allocator = FrameAllocator.create({ frames: config === "fallback" ? POOL_FRAMES + POOL_FRAMES / HUGE_PAGES : POOL_FRAMES, backed: true });
  if (config === "fallback") {
    // Every frame taken, then all but one frame of each 2 MiB child given back.
    const taken: number[] = [];
    for (let frame = allocator.get(0); frame >= 0; frame = allocator.get(0)) taken.push(frame);
    for (const frame of taken) if (frame % HUGE_PAGES !== 0) allocator.put(frame, 0);
  }
  return new AddressSpace({ frames: allocator });
}

function timed(body: () => void): number {
  const start = performance.now();
  body();
  return performance.now() - start;
}

/** Child mode: one configuration, every phase once. */
function runOnce({ config, randomLoads }: ChildJob): Sample {
  const random = new Random(RANDOM_SEED);
  const offsets = new Int32Array(randomLoads);
  for (let k = 0; k < randomLoads; k++) offsets[k] = random.below((BLOCK_COUNT * BLOCK_BYTES) / 8) * 8;
  const space = spaceFor(config);
  const heap = new SpaceHeap(space, HEAP_BASE, HEAP_BYTES);
  const blockLows: number[] = [];
  const access = space.access;
  let sum = 0;
  const malloc = timed(() => {
    for (let k = 0; k < BLOCK_COUNT; k++) blockLows.push(Number(heap.mallocOrThrow(BLOCK_BYTES) - HEAP_BASE));
  });
  const touch = timed(() => {
    for (const low of blockLows) for (let at = 0; at < BLOCK_BYTES; at += STRIDE_BYTES) access.store32(low + at, HEAP_HIGH, at);
  });
  const sweep = timed(() => {
    for (const low of blockLows) for (let at = 0; at < BLOCK_BYTES; at += STRIDE_BYTES) sum = (sum + access.load32(low + at, HEAP_HIGH)) | 0;
  });
  // Offsets over the blocks as if they were one array: block k / 8 MiB, then the offset in it.
  const randomMs = timed(() => {
    for (let k = 0; k < randomLoads; k++) {
      const offset = offsets[k];
      sum = (sum + access.load64(blockLows[(offset / BLOCK_BYTES) | 0] + (offset % BLOCK_BYTES), HEAP_HIGH)) | 0;
    }
  });
  const stats = space.stats();
  const forkWrite = timed(() => {
    space.snapshot();
    for (let at = 0; at < BLOCK_BYTES; at += HUGE_RUN_BYTES) access.store32(blockLows[0] + at, HEAP_HIGH, 1);
  });
  return {
    checksum: sum,
    milliseconds: { malloc, touch, sweep, random: randomMs, "fork-write": forkWrite },
    tableEntries: stats.touchedPages - stats.hugeLeaves * HUGE_PAGES + stats.hugeLeaves,
    hugeLeaves: stats.hugeLeaves,
  };
}

export function runHugeFramesBench(options: HugeFramesBenchOptions): Record<Config, Sample> {
  const samples = new RoundSamples<Sample>();
  for (const { contestant, timed: kept } of roundSchedule(CONFIGS, { rounds: options.rounds, warmUp: true, alternate: true })) {
    const sample = runChild<ChildJob, Sample>(import.meta.url, { config: contestant, randomLoads: options.randomLoads });
    if (kept) samples.add(contestant, sample);
  }
  const medians = {} as Record<Config, Sample>;
  for (const config of CONFIGS) {
    const runs = samples.get(config);
    const milliseconds = {} as Record<Phase, number>;
    for (const phase of PHASES) milliseconds[phase] = median(runs.map((run) => run.milliseconds[phase]));
    if (runs[0].checksum !== samples.get(CONFIGS[0])[0].checksum) throw new Error(`${config} loaded other values than ${CONFIGS[0]}`);
    medians[config] = { milliseconds, tableEntries: runs[0].tableEntries, hugeLeaves: runs[0].hugeLeaves, checksum: runs[0].checksum };
  }
  report.write(`${BLOCK_COUNT} x ${BLOCK_BYTES / MIB} MiB blocks, ${options.randomLoads} random loads; median of ${options.rounds} rounds (ms)\n`);
  reportTable(
    ["config", ...PHASES, "table entries", "huge leaves"],
    CONFIGS.map((config) => [config, ...PHASES.map((phase) => medians[config].milliseconds[phase].toFixed(1)), medians[config].tableEntries, medians[config].hugeLeaves]),
  );
  if (options.json !== undefined) writeJsonDocument(options.json, { rounds: options.rounds, configs: medians });
  return medians;
}

const command = benchCommand("huge-frames")
  .addOption(quickOption())
  .addOption(positiveIntegerOption("rounds", "timed rounds, after a warm-up round", { normal: 5, quick: 1 }))
  .addOption(positiveIntegerOption("random-loads", "8-byte loads at random offsets in the random phase", { normal: 4_000_000, quick: 100_000 }))
  .addOption(jsonOption());

const job = childJob<ChildJob>();
if (job !== undefined) writeChildResult(runOnce(job));
else await runBenchMain(command, runHugeFramesBench);
