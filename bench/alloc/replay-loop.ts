/**
 * The JS replay loop: an op sequence (bench/alloc/workloads.ts) replayed on a JsAllocator, as
 * the C driver (bench/native/alloc-driver.c) replays it on malloc. Its hot loop (replay, and
 * what it reaches through LoopMemory) was tuned with --print-opt-code: keep it as it is.
 */
import type { JsAllocator } from "./contestants.js";
import type { Sample } from "./job.js";
import { AllocOp, type OpSequence } from "./workloads.js";

/** A budgeted run looks at the clock after this many ops. */
const BUDGET_CHECK_OPS = 1_000;

/** Peak footprint, sampled after every op in a separate, untimed replay. */
export function footprintPass(allocator: JsAllocator, sequence: OpSequence): number {
  const memory = loopMemory(sequence.ops, new Int32Array(sequence.slots), allocator.bytes);
  let peak = 0;
  const step = Math.max(1, Math.floor(sequence.opCount / 20_000)) * 3;
  for (let end = step; end < sequence.ops.length + step; end += step) {
    replay(allocator, memory, end - step, Math.min(end, sequence.ops.length));
    peak = Math.max(peak, allocator.sampleFootprint());
  }
  return peak;
}

/**
 * What the replay loop reads and writes besides the allocator: the op sequence, the slot table
 * and the heap bytes, each behind a closure of a few bytecodes. TurboFan always inlines such
 * small functions, and a closure's captured consts are constants in the inlined code, so the
 * arrays' maps, lengths and data pointers are not checked and reloaded on every op, as they
 * were for arrays passed as parameters (`--print-opt-code`). In one process, with separate
 * Heap module instances so that neither loop shares type feedback: tiny-churn 1.12x, larson
 * 1.24x, alloc-test 1.23x, the do-nothing loop 1.11x the ops/s.
 */
export interface LoopMemory {
  opAt(index: number): number;
  slotAddress(slot: number): number;
  setSlotAddress(slot: number, address: number): void;
  touch(address: number): void;
}

export function loopMemory(ops: Int32Array, slots: Int32Array, bytes: Uint8Array): LoopMemory {
  return {
    opAt: (index) => ops[index],
    slotAddress: (slot) => slots[slot],
    setSlotAddress: (slot, address) => void (slots[slot] = address),
    touch: (address) => void (bytes[address] = 1),
  };
}

/**
 * Replays ops [from, to) (in Int32 units); `memory`'s slot table holds each slot's block
 * address (an Int32Array, as a JS program keeps offsets into a heap below 2 GiB: HEAP_BYTES is
 * 512 MiB).
 */
export function replay(allocator: JsAllocator, memory: LoopMemory, from: number, to: number): void {
  // The calls through locals, as the C driver calls malloc and free: no load of the
  // allocator's fields per op (paired runs: tiny-churn 1.04-1.11x, loop-js 1.09x, larson 1.00x).
  const { malloc, free, realloc } = allocator;
  const { opAt, slotAddress, setSlotAddress, touch } = memory;
  // An if-chain with free first and `| 0` on the indices: 8-17% less time per op than a
  // switch on tiny-churn, larson and alloc-test alike (paired runs in one process; the loop
  // with a do-nothing allocator gains the most), so the loop charges memspace less of its own cost.
  for (let i = from | 0; i < to; i = (i + 3) | 0) {
    const op = opAt(i);
    const slot = opAt((i + 1) | 0);
    const size = opAt((i + 2) | 0);
    if (op === AllocOp.Free) {
      free(slotAddress(slot));
      // As the C driver does: the slot forgets the freed block.
      setSlotAddress(slot, 0);
    } else if (op === AllocOp.Malloc) {
      const address = malloc(size);
      if (address === 0) throw new Error(`out of memory at op ${i / 3}: malloc(${size})`);
      if (size > 0) touch(address);
      setSlotAddress(slot, address);
    } else if (op === AllocOp.Realloc) {
      const address = realloc(slotAddress(slot), size);
      if (address === 0) throw new Error(`out of memory at op ${i / 3}: realloc to ${size}`);
      setSlotAddress(slot, address);
    } else if (op === AllocOp.Touch) {
      for (let k = 0; k < size; k += 4096) touch(slotAddress(slot) + k);
    }
  }
}

export function failed(allocator: JsAllocator, error: unknown): Sample {
  return { opsPerSec: 0, peakFootprintBytes: allocator.peakFootprintBytes(), failure: (error as Error).message };
}

/** One timed run that stops after `budgetMs`; `completedOps` says where, if it did. */
export function budgetedRun(allocator: JsAllocator, sequence: OpSequence, memory: LoopMemory, budgetMs: number): Sample {
  const start = performance.now();
  let at = 0;
  try {
    do {
      const end = Math.min(at + BUDGET_CHECK_OPS * 3, sequence.ops.length);
      replay(allocator, memory, at, end);
      at = end;
    } while (at < sequence.ops.length && performance.now() - start < budgetMs);
  } catch (error) {
    return failed(allocator, error);
  }
  const completedOps = at / 3;
  const opsPerSec = Math.round(completedOps / ((performance.now() - start) / 1000));
  if (completedOps === sequence.opCount) return { opsPerSec, peakFootprintBytes: null };
  return { opsPerSec, peakFootprintBytes: null, completedOps };
}
