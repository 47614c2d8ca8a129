/**
 * Trace statistics of a trace cut into parts (ranges of v2 chunks, gathered on different
 * threads), merged into exactly what one pass gives. Counts add up. A part starts with an
 * empty LRU stack, so the touches whose bucket depends on earlier parts are left pending
 * (TraceStats with `part`): a page the part's own stack does not hold while that stack is
 * shorter than LRU_DEPTH, and a page the part had not seen. The merge walks the parts in
 * order with the stack and the page set of everything before, and decides them.
 */
import { TWO_POW_32 } from "../space/address.js";
import { PageTable } from "../space/page-table.js";
import { BUCKET_32_PLUS, BUCKET_FIRST_TOUCH, bucketOf, LRU_DEPTH, PENDING_SEEN, REUSE_BUCKETS, statsReport, type StatsPartState, type TraceStatsReport } from "./stats.js";

/** Merges the states of consecutive parts, first part first. */
export function mergeStatsParts(parts: readonly StatsPartState[]): TraceStatsReport {
  const readCounts = new Float64Array(9);
  const writeCounts = new Float64Array(9);
  const reuseCounts = new Float64Array(REUSE_BUCKETS.length);
  const seen = new PageTable();
  // The LRU stack at the end of the parts merged so far, most recent first.
  let stackLo: number[] = [];
  let stackHi: number[] = [];
  let transitions = 0;
  let crossings = 0;
  for (const part of parts) {
    for (let width = 0; width < 9; width++) {
      readCounts[width] += part.readCounts[width];
      writeCounts[width] += part.writeCounts[width];
    }
    for (let bucket = 0; bucket < REUSE_BUCKETS.length; bucket++) reuseCounts[bucket] += part.reuseCounts[bucket];
    transitions += part.transitions;
    crossings += part.crossings;
    const { blockLo: pageLo, blockHi: pageHi, values: info } = part.pending;
    for (let index = 0; index < info.length; index++) {
      const lo = pageLo[index];
      const hi = pageHi[index];
      const depthBefore = info[index] & (PENDING_SEEN - 1);
      if (depthBefore === 0 && stackLo.length > 0 && stackLo[0] === lo && stackHi[0] === hi) {
        // The part's first access is on the page the one before it was on: no transition.
        reuseCounts[0]++;
        transitions--;
        continue;
      }
      let depth = -1;
      if (depthBefore < LRU_DEPTH) {
        // The whole stack before this touch: the part's own (the pages of its earlier pending
        // touches, all of them while it is this short), then the earlier stack without those.
        let skipped = 0;
        for (let at = 0; at < stackLo.length && depthBefore + at - skipped < LRU_DEPTH; at++) {
          if (stackLo[at] === lo && stackHi[at] === hi) {
            depth = depthBefore + at - skipped;
            break;
          }
          if (isAmongFirst(pageLo, pageHi, index, stackLo[at], stackHi[at])) skipped++;
        }
      }
      if (depth >= 0) reuseCounts[bucketOf(depth + 1)]++;
      else reuseCounts[(info[index] & PENDING_SEEN) !== 0 || seen.get(lo, hi) >= 0 ? BUCKET_32_PLUS : BUCKET_FIRST_TOUCH]++;
    }
    for (const pageNumber of part.seenPages) seen.set((pageNumber % TWO_POW_32) | 0, Math.floor(pageNumber / TWO_POW_32), 0);
    const nextLo = Array.from(part.lruLo);
    const nextHi = Array.from(part.lruHi);
    for (let at = 0; at < stackLo.length && nextLo.length < LRU_DEPTH; at++) {
      if (!isAmongFirst(part.lruLo, part.lruHi, part.lruLo.length, stackLo[at], stackHi[at])) {
        nextLo.push(stackLo[at]);
        nextHi.push(stackHi[at]);
      }
    }
    stackLo = nextLo;
    stackHi = nextHi;
  }
  return statsReport(readCounts, writeCounts, reuseCounts, seen.size, transitions, crossings);
}

/** Whether page (lo, hi) is among the first `count` entries of the page lists. */
function isAmongFirst(listLo: Int32Array, listHi: Int32Array, count: number, lo: number, hi: number): boolean {
  for (let at = 0; at < count; at++) if (listLo[at] === lo && listHi[at] === hi) return true;
  return false;
}
