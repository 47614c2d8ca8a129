import type { MemoryAccess } from "../../space/backend.js";
import type { ReplayTally } from "../replay-tally.js";
import { RunOp } from "./access-runs.js";

/**
 * Entries one call of the kernel takes at most: with MAX_RUN_LOADS loads a run, a slice's
 * sums of loaded values stay below 2^53. Short calls also keep V8 on the kernel's regular
 * optimized code rather than on-stack-replaced code (docs/design/replay-and-paged-backend.md).
 */
const SLICE_ENTRIES = 1024;

/**
 * Replays a chunk's access runs (access-runs.ts, `wordCount` words of `words`) onto `sink`:
 * the same accesses, in the same order, as replaying its seed conversion.
 */
export function replayAccessRuns(sink: MemoryAccess, words: Int32Array, wordCount: number, tally: ReplayTally): void {
  let at = 0;
  while (at < wordCount) at = replayRunSlice(sink, words, at, wordCount, tally);
}

/** The hot loop over at most SLICE_ENTRIES entries from word `start`; returns the word after the last. */
function replayRunSlice(sink: MemoryAccess, words: Int32Array, start: number, end: number, tally: ReplayTally): number {
  const sums = tally.sliceSums;
  let sumLo = 0;
  let loads = 0;
  let stores = 0;
  let at = start | 0;
  const endAt = end | 0;
  for (let entry = 0; entry < SLICE_ENTRIES && at < endAt; entry++) {
    const word = words[at];
    const lo = words[(at + 1) | 0];
    const hi = words[(at + 2) | 0];
    const op = word & 0xff;
    if (op === RunOp.Load16) {
      let count = word >>> RunOp.CountShift;
      loads = (loads + count) | 0;
      let address = lo;
      do {
        sumLo += sink.load16(address, hi);
        address = (address + 2) | 0;
        count = (count - 1) | 0;
      } while (count !== 0);
      at = (at + 3) | 0;
    } else if (op < RunOp.StoreBit) {
      let count = word >>> RunOp.CountShift;
      loads = (loads + count) | 0;
      let address = lo;
      const widthBytes = 1 << op;
      do {
        if (op === RunOp.Load64) {
          sumLo += sink.load64(address, hi);
          sums[1] += sink.loadHigh;
        } else if (op === RunOp.Load32) sumLo += sink.load32(address, hi);
        else sumLo += sink.load8(address, hi);
        address = (address + widthBytes) | 0;
        count = (count - 1) | 0;
      } while (count !== 0);
      at = (at + 3) | 0;
    } else {
      const valueLo = words[(at + 3) | 0];
      if (op === RunOp.Store64) {
        sink.store64(lo, hi, valueLo, words[(at + 4) | 0]);
        at = (at + 5) | 0;
      } else {
        if (op === RunOp.Store32) sink.store32(lo, hi, valueLo);
        else if (op === RunOp.Store16) sink.store16(lo, hi, valueLo);
        else sink.store8(lo, hi, valueLo);
        at = (at + 4) | 0;
      }
      stores++;
    }
  }
  // Reported once a slice, as the other kernels do.
  tally.closeSlice(sink, loads, stores, sumLo);
  return at;
}
