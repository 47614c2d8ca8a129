import { PAGE_SIZE_BYTES } from "../space/address.js";
import { createTraceOutput } from "./open-output.js";
import type { TraceFileFormat, TraceOutput } from "./output.js";
import { Random } from "../util/random.js";

/** The shapes `generateTrace` can write: a tight fib loop, or an interpreter-like block of code and data. */
export const TRACE_SHAPES = ["fib", "execblock"] as const;
/** One of TRACE_SHAPES. */
export type TraceShape = (typeof TRACE_SHAPES)[number];

/** Options of `generateTrace`. */
export interface GenerateOptions {
  /** Seed of the execblock shape's random choices (default 1); fib ignores it. */
  seed?: number;
  /** The file format (default "seed"); a v2 trace holds the same records, fetches as reads. */
  format?: TraceFileFormat;
  /** Called every ~million ops with the ops written so far. */
  onProgress?: (opsDone: number, opsTotal: number) => void;
}

const PROGRESS_EVERY_OPS = 1 << 20;

/** Writes a synthetic trace of `ops` records shaped like a reference workload. */
export function generateTrace(shape: TraceShape, ops: number, path: string, options: GenerateOptions = {}): void {
  if (!Number.isSafeInteger(ops) || ops < 0) throw new RangeError(`ops must be a non-negative integer, got ${ops}`);
  const writer = createTraceOutput(path, options.format ?? "seed");
  try {
    if (shape === "fib") generateFib(writer, ops, options);
    else generateExecBlock(writer, ops, options.seed ?? 1, options);
  } catch (error) {
    writer.discard();
    throw error;
  }
  writer.close();
}

// Fib: the reference trace is a tight loop's instruction fetch: two-byte reads from one code
// page, and a single eight-byte store to the stack early on (3 page transitions in all).
const FIB_CODE_BASE = 0x000100b0;
const FIB_PROLOGUE_READS = 4;
const FIB_LOOP_PARCELS = 13;
const FIB_STACK_SLOT = 0x3fffeff8;

function generateFib(writer: TraceOutput, ops: number, options: GenerateOptions): void {
  const writeAt = Math.min(FIB_PROLOGUE_READS, ops - 1);
  for (let index = 0; index < ops; index++) {
    if (index === writeAt) {
      writer.write(FIB_STACK_SLOT, 0, 8, 0x0000_0000, 0);
      continue;
    }
    const parcel = index < writeAt ? index : FIB_PROLOGUE_READS + ((index - writeAt - 1) % FIB_LOOP_PARCELS);
    writer.read(FIB_CODE_BASE + 2 * parcel, 0, 2);
    if ((index & (PROGRESS_EVERY_OPS - 1)) === 0) options.onProgress?.(index, ops);
  }
}

// ExecBlock: an interpreter-like guest. Instruction fetch (two-byte parcels) dominates; about
// one op in six is a data access on another page (stack, hot heap, or rarely a cold page of a
// large heap), so about 35% of ops change page and most come back within a few pages.
const CODE_BASE = 0x00010000;
const HOT_CODE_PAGES = 8;
const WARM_CODE_PAGES = 200;
const STACK_TOP = 0x3fffff000; // hi = 3: exercises the high address half
const STACK_PAGES = 2;
const HEAP_BASE = 0x01000000;
const HOT_HEAP_PAGES = 12;
const COLD_HEAP_PAGES = 14_250;
/** Probabilities, tuned so `trace stats` lands near the reference ExecBlock figures. */
const DATA_OPS_PER_PARCEL = 0.207;
const WRITE_SHARE_OF_DATA = 0.437;
const COMPRESSED_SHARE = 0.6;
const BRANCH_PER_INSTRUCTION = 1 / 6;
const LOCAL_BRANCH_SHARE = 0.86;
const HOT_CODE_BRANCH_SHARE = 0.12;
const COLD_DATA_SHARE = 0.0175;
const STACK_DATA_SHARE = 0.5;
const SAME_DATA_PAGE_SHARE = 0.12;

function generateExecBlock(writer: TraceOutput, ops: number, seed: number, options: GenerateOptions): void {
  const random = new Random(seed);
  let pc = CODE_BASE;
  let lastDataPage = STACK_TOP / PAGE_SIZE_BYTES - 1;
  let written = 0;
  let nextProgress = PROGRESS_EVERY_OPS;
  const emitRead = (address: number, widthBytes: number): void => {
    writer.read(address % 2 ** 32, Math.floor(address / 2 ** 32), widthBytes);
    written++;
  };
  while (written < ops) {
    // One instruction: one or two fetch parcels.
    const parcels = random.next() < COMPRESSED_SHARE ? 1 : 2;
    for (let parcel = 0; parcel < parcels && written < ops; parcel++) {
      emitRead(pc, 2);
      pc += 2;
      if (pc % PAGE_SIZE_BYTES === 0) pc -= PAGE_SIZE_BYTES; // stay in the block's page
    }
    if (written < ops && random.next() < DATA_OPS_PER_PARCEL * parcels) {
      lastDataPage = pickDataPage(random, lastDataPage);
      const isWrite = random.next() < WRITE_SHARE_OF_DATA;
      const widthBytes = isWrite ? pickWriteWidth(random) : pickReadWidth(random);
      const offset = random.below(PAGE_SIZE_BYTES / widthBytes) * widthBytes;
      const address = lastDataPage * PAGE_SIZE_BYTES + offset;
      if (isWrite) {
        writer.write(address % 2 ** 32, Math.floor(address / 2 ** 32), widthBytes, random.nextU32(), random.nextU32());
        written++;
      } else emitRead(address, widthBytes);
    }
    if (random.next() < BRANCH_PER_INSTRUCTION) pc = branchTarget(random, pc);
    if (written >= nextProgress) {
      options.onProgress?.(written, ops);
      nextProgress += PROGRESS_EVERY_OPS;
    }
  }
}

function branchTarget(random: Random, pc: number): number {
  const pageBase = pc - (pc % PAGE_SIZE_BYTES);
  const roll = random.next();
  let targetPage = pageBase;
  if (roll >= LOCAL_BRANCH_SHARE) {
    const pageIndex =
      roll < LOCAL_BRANCH_SHARE + HOT_CODE_BRANCH_SHARE ? random.below(HOT_CODE_PAGES) : random.below(WARM_CODE_PAGES);
    targetPage = CODE_BASE + pageIndex * PAGE_SIZE_BYTES;
  }
  return targetPage + 2 * random.below(PAGE_SIZE_BYTES / 2);
}

function pickDataPage(random: Random, lastDataPage: number): number {
  const roll = random.next();
  if (roll < COLD_DATA_SHARE) return HEAP_BASE / PAGE_SIZE_BYTES + HOT_HEAP_PAGES + random.below(COLD_HEAP_PAGES);
  if (roll < COLD_DATA_SHARE + SAME_DATA_PAGE_SHARE) return lastDataPage;
  if (roll < COLD_DATA_SHARE + SAME_DATA_PAGE_SHARE + STACK_DATA_SHARE)
    return STACK_TOP / PAGE_SIZE_BYTES - 1 - (random.next() < 0.85 ? 0 : random.below(STACK_PAGES));
  return HEAP_BASE / PAGE_SIZE_BYTES + random.below(HOT_HEAP_PAGES);
}

function pickWriteWidth(random: Random): number {
  const roll = random.next();
  return roll < 0.9245 ? 8 : roll < 0.975 ? 4 : 1;
}

function pickReadWidth(random: Random): number {
  const roll = random.next();
  return roll < 0.7 ? 8 : roll < 0.9 ? 4 : 1;
}
