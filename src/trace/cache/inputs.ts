/**
 * Input adapters: what feeds an AccessSink. A seed-format trace knows only reads and writes
 * (a recorded guest's fetches are among its reads), so all of its reads are data reads; a
 * Valgrind lackey log tells fetches, loads, stores and modifies apart.
 */
import { fetchByParcels, type MemoryAccess } from "../../space/backend.js";
import { readLackey } from "../lackey.js";
import type { StreamOptions } from "../reader.js";
import { replayFile } from "../replay.js";
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

/** Replay's sink interface in front of an AccessSink: loads are data reads, stores data writes. */
class ReplayToAccesses implements MemoryAccess {
  loadHigh = 0;
  constructor(private readonly sink: AccessSink) {}
  load8(lo: number, hi: number): number {
    this.sink.read(lo, hi, 1);
    return 0;
  }
  load16(lo: number, hi: number): number {
    this.sink.read(lo, hi, 2);
    return 0;
  }
  load32(lo: number, hi: number): number {
    this.sink.read(lo, hi, 4);
    return 0;
  }
  load64(lo: number, hi: number): number {
    this.sink.read(lo, hi, 8);
    return 0;
  }
  store8(lo: number, hi: number): void {
    this.sink.write(lo, hi, 1);
  }
  store16(lo: number, hi: number): void {
    this.sink.write(lo, hi, 2);
  }
  store32(lo: number, hi: number): void {
    this.sink.write(lo, hi, 4);
  }
  store64(lo: number, hi: number): void {
    this.sink.write(lo, hi, 8);
  }
  /** Replay itself never fetches; a caller that does gets parcel reads, as a trace records them. */
  fetchInstruction(lo: number, hi: number): number {
    return fetchByParcels(this, lo, hi);
  }
  countAccesses(): void {}
}

/** Feeds every access of a seed-format trace (`-`: standard input) to `sink`, as data reads and writes. */
export function feedTrace(path: string, sink: AccessSink, options: StreamOptions = {}): AccessCounts {
  const result = replayFile(path, new ReplayToAccesses(sink), options);
  return { fetches: 0, reads: result.reads, writes: result.writes };
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
      sink.write(lo, hi, sizeBytes);
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
