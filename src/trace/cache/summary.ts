/**
 * Cachegrind's end-of-run summary (cg_main.c's cg_fini), line for line: the same labels,
 * thousands separators, column widths and rounding, so the two can be compared by eye or
 * by diff. TLB lines, which Cachegrind does not have, follow in the same layout.
 */
import type { CacheSummary, LevelFigures } from "./hierarchy.js";

/** Digits of `value` with a comma every three, as Cachegrind's `%,llu`. */
function grouped(value: number): string {
  return value.toFixed(0).replace(/\B(?=(\d{3})+$)/g, ",");
}

/** Characters `value` takes with its commas (at least one digit): Cachegrind's column width. */
function groupedWidth(value: number): number {
  return grouped(value).length;
}

/** Exact decimal digits of a double: more than any tie can need at the precisions used here. */
const EXACT_DIGITS = 60;

/**
 * `value` with `digits` decimals as C's printf rounds: the exact binary value, ties to even.
 * (toFixed rounds exact ties away from zero: 0.125 gives 0.13 where printf gives 0.12.)
 */
export function formatFixedLikeC(value: number, digits: number): string {
  const exact = value.toFixed(EXACT_DIGITS);
  const point = exact.indexOf(".");
  const next = exact.charAt(point + 1 + digits);
  const rest = exact.slice(point + 2 + digits);
  if (next !== "5" || /[1-9]/.test(rest)) return value.toFixed(digits);
  const kept = exact.slice(0, point + 1 + digits).replace(/\.$/, "");
  const lastDigit = Number(kept.charAt(kept.length - 1));
  if (lastDigit % 2 === 0) return kept;
  return value.toFixed(digits);
}

function percent(part: number, whole: number, digits: number, width: number): string {
  return formatFixedLikeC((part * 100) / whole, digits).padStart(width) + "%";
}

/** A rate's denominator: Cachegrind takes a zero count as 1 (before adding counts up for LL's rates). */
function atLeastOne(count: number): number {
  return count === 0 ? 1 : count;
}

/** Cachegrind's summary lines for `summary`, without Valgrind's `==PID==` prefix. */
export function formatCachegrindSummary(summary: CacheSummary): string {
  const { I1, D1, LL } = summary;
  const l1 = groupedWidth(I1.refs);
  // Cachegrind sizes these by the larger of the data and branch counts; branches are not simulated here.
  const l2 = groupedWidth(D1.reads.refs);
  const l3 = groupedWidth(D1.writes.refs);
  const single = (label: string, value: number): string => `${label} ${grouped(value).padStart(l1)}`;
  const split = (label: string, total: number, read: number, written: number): string =>
    `${label} ${grouped(total).padStart(l1)}  (${grouped(read).padStart(l2)} rd   + ${grouped(written).padStart(l3)} wr)`;
  const fetches = atLeastOne(I1.refs);
  const data = atLeastOne(D1.refs);
  const reads = atLeastOne(D1.reads.refs);
  const writes = atLeastOne(D1.writes.refs);
  const rates = (label: string, total: string, read: string, written: string): string => `${label} ${total} (${read}     + ${written}  )`;
  const lines = [
    single("I   refs:     ", I1.refs),
    single("I1  misses:   ", I1.misses),
    single("LLi misses:   ", LL.fetchMisses),
    `I1  miss rate: ${percent(I1.misses, fetches, 2, l1)}`,
    `LLi miss rate: ${percent(LL.fetchMisses, fetches, 2, l1)}`,
    "",
    split("D   refs:     ", D1.refs, D1.reads.refs, D1.writes.refs),
    split("D1  misses:   ", D1.misses, D1.reads.misses, D1.writes.misses),
    split("LLd misses:   ", LL.dataMisses, LL.dataMisses - LL.writes.misses, LL.writes.misses),
    rates("D1  miss rate:", percent(D1.misses, data, 1, l1), percent(D1.reads.misses, reads, 1, l2), percent(D1.writes.misses, writes, 1, l3)),
    rates("LLd miss rate:", percent(LL.dataMisses, data, 1, l1), percent(LL.dataMisses - LL.writes.misses, reads, 1, l2), percent(LL.writes.misses, writes, 1, l3)),
    "",
    split("LL refs:      ", LL.refs, LL.reads.refs, LL.writes.refs),
    split("LL misses:    ", LL.misses, LL.reads.misses, LL.writes.misses),
    rates(
      "LL miss rate: ",
      percent(LL.misses, fetches + data, 1, l1),
      percent(LL.reads.misses, fetches + reads, 1, l2),
      percent(LL.writes.misses, writes, 1, l3),
    ),
  ];
  const tlb = (name: string, figures: LevelFigures): string[] => [
    "",
    single(`${name} refs:    `, figures.refs),
    single(`${name} misses:  `, figures.misses),
    `${name} miss rate:${percent(figures.misses, atLeastOne(figures.refs), 2, l1)}`,
  ];
  if (summary.itlb !== null) lines.push(...tlb("ITLB", summary.itlb));
  if (summary.dtlb !== null) lines.push(...tlb("DTLB", summary.dtlb));
  return lines.join("\n");
}
