/**
 * Input adapters: what feeds an AccessSink. A seed-format trace knows only reads and writes
 * (a recorded guest's fetches are among its reads), so all of its reads are data reads; a v2
 * trace and a Valgrind lackey log tell fetches, loads and stores apart.
 */
import { readLackey } from "../lackey.js";
import type { StreamOptions } from "../reader.js";
import { feedRecords } from "../records.js";
import type { AccessInputFormat, AccessSink } from "./access-stream.js";

/** How many accesses of each kind an input delivered. */
export interface AccessCounts {
  /** Instruction fetches. */
  fetches: number;
  /** Data reads. */
  reads: number;
  /** Data writes. */
  writes: number;
}

/**
 * Feeds every access of a trace (`-`: standard input) to `sink`: a seed trace's reads as data
 * reads (the format cannot tell fetches apart), a v2 trace's records as recorded. A modify
 * counts among the reads, as the lackey reader and Cachegrind count it.
 */
export function feedTrace(path: string, sink: AccessSink, options: StreamOptions = {}): AccessCounts {
  const { fetches, reads, writes, modifies } = feedRecords(path, sink, options);
  return { fetches, reads: reads + modifies, writes };
}

/**
 * Feeds every access of a lackey `--trace-mem=yes` log to `sink`: `I` as a fetch, ` L` a read,
 * ` S` a write, and ` M` one read, as Cachegrind counts a modify (its write cannot miss: the
 * read has just brought the line in).
 */
export function feedLackey(path: string, sink: AccessSink): AccessCounts {
  const counts: AccessCounts = { fetches: 0, reads: 0, writes: 0 };
  readLackey(path, (kind, lo, hi, sizeBytes) => {
    if (kind === "I") {
      counts.fetches++;
      sink.fetch(lo, hi, sizeBytes);
    } else if (kind === "S") {
      counts.writes++;
      sink.write(lo, hi, sizeBytes, 0, 0);
    } else {
      counts.reads++;
      sink.read(lo, hi, sizeBytes);
    }
  });
  return counts;
}

/** Feeds `path`, read as `format`, to `sink`. */
export function feedAccesses(path: string, format: AccessInputFormat, sink: AccessSink, options: StreamOptions = {}): AccessCounts {
  return format === "lackey" ? feedLackey(path, sink) : feedTrace(path, sink, options);
}
