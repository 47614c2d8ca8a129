import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { CacheLevel, type ReplacementPolicy } from "../../src/trace/cache/cache-level.js";
import { GeometryError, parseCacheGeometry, parseTlbGeometry } from "../../src/trace/cache/geometry.js";
import { CacheHierarchy } from "../../src/trace/cache/hierarchy.js";
import { feedLackey, feedTrace } from "../../src/trace/cache/inputs.js";
import { ReuseDistance } from "../../src/trace/cache/reuse-distance.js";
import { formatCachegrindSummary, formatFixedLikeC } from "../../src/trace/cache/summary.js";
import { TraceWriter } from "../../src/trace/writer.js";
import { highOf, lowOf, withTempDir } from "../helpers.js";

const MAIN = fileURLToPath(new URL("../../src/cli/memspace.cjs", import.meta.url));

function memspace(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [MAIN, ...args], { encoding: "utf8" });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** Looks `address` (a bigint) up in `level`. */
function access(level: CacheLevel, address: bigint, sizeBytes: number): boolean {
  return level.accessIsMiss(lowOf(address), highOf(address), sizeBytes);
}

/** The naive reference: per set, a JS array of block numbers, most recent first (FIFO: newest first). */
class NaiveCache {
  private readonly sets: bigint[][];
  constructor(
    private readonly setCount: number,
    private readonly assoc: number,
    private readonly lineSizeBytes: number,
    private readonly policy: "lru" | "fifo",
  ) {
    this.sets = Array.from({ length: setCount }, () => []);
  }
  private block(block: bigint): boolean {
    const set = this.sets[Number(block % BigInt(this.setCount))];
    const at = set.indexOf(block);
    if (at >= 0) {
      if (this.policy === "lru") set.unshift(...set.splice(at, 1));
      return false;
    }
    set.unshift(block);
    if (set.length > this.assoc) set.pop();
    return true;
  }
  access(address: bigint, sizeBytes: number): boolean {
    const line = BigInt(this.lineSizeBytes);
    const first = address / line;
    const last = (address + BigInt(sizeBytes) - 1n) / line;
    const missed = this.block(first);
    return last === first ? missed : this.block(last) || missed;
  }
}

describe("cache level", () => {
  it("a 2-set 2-way LRU cache of 16-byte lines hits and misses as worked out by hand", () => {
    const level = new CacheLevel(2, 2, 16);
    // Lines 0, 2, 4 share set 0; line 1 is set 1.
    const steps: [bigint, boolean][] = [
      [0x00n, true], // line 0 into set 0
      [0x08n, false], // line 0 again
      [0x20n, true], // line 2: set 0 = [2, 0]
      [0x10n, true], // line 1 into set 1
      [0x04n, false], // line 0: set 0 = [0, 2]
      [0x40n, true], // line 4 evicts line 2 (least recent): set 0 = [4, 0]
      [0x20n, true], // line 2 evicts line 0: [2, 4]
      [0x00n, true], // line 0 evicts 4: [0, 2]
      [0x4fn, true], // line 4 evicts 2: [4, 0]
      [0x1fn, false], // line 1 still in set 1
    ];
    steps.forEach(([address, miss], index) => assert.equal(access(level, address, 1), miss, `step ${index} at 0x${address.toString(16)}`));
  });

  it("FIFO keeps the installation order on a hit; LRU refreshes it", () => {
    const fifo = new CacheLevel(1, 2, 16, "fifo");
    const lru = new CacheLevel(1, 2, 16, "lru");
    for (const level of [fifo, lru]) for (const address of [0x00n, 0x10n, 0x00n, 0x20n]) access(level, address, 1);
    // FIFO evicted line 0 (oldest) for line 2; LRU evicted line 1.
    assert.equal(access(fifo, 0x00n, 1), true);
    assert.equal(access(lru, 0x00n, 1), false);
  });

  it("an access straddling two lines looks both up and counts one miss", () => {
    const level = new CacheLevel(4, 1, 16);
    assert.equal(access(level, 0x0cn, 8), true, "lines 0 and 1 both missed: one miss");
    assert.equal(access(level, 0x00n, 1), false, "line 0 was installed");
    assert.equal(access(level, 0x10n, 1), false, "line 1 was installed");
    assert.equal(access(level, 0x1cn, 8), true, "line 1 hits, line 2 misses: a miss");
  });

  it("addresses differing only in their high word are different lines, also across a 2^32 carry", () => {
    const level = new CacheLevel(1, 4, 64);
    assert.equal(access(level, 0x1_0000_0000n, 1), true);
    assert.equal(access(level, 0x0n, 1), true);
    assert.equal(access(level, 0xffff_fff8n, 16), true, "straddles into the line at 2^32");
    assert.equal(access(level, 0x1_0000_0000n, 1), false);
    assert.equal(access(level, 0x2_0000_0000n, 1), true);
  });

  it("random replacement fills empty ways first and repeats with its seed", () => {
    const run = (seed: number): boolean[] => {
      const level = new CacheLevel(1, 4, 16, "random", seed);
      return [0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3].map((line) => access(level, BigInt(line * 16), 1));
    };
    assert.deepEqual(run(7).slice(0, 8), [true, true, true, true, false, false, false, false]);
    assert.deepEqual(run(7), run(7));
  });

  for (const policy of ["lru", "fifo"] as const) {
    it(`${policy}: agrees with a naive simulator (lists per set) on random streams and geometries`, () => {
      fc.assert(
        fc.property(
          fc.record({
            setBits: fc.integer({ min: 0, max: 4 }),
            assoc: fc.integer({ min: 1, max: 6 }),
            lineBits: fc.integer({ min: 4, max: 7 }),
            // Addresses from a few regions, one just below 2^32 and one far up, so that set
            // conflicts, straddles and high words all occur.
            accesses: fc.array(
              fc.tuple(fc.constantFrom(0n, 0xffff_f000n, 0x7fff_0000_0000n), fc.integer({ min: 0, max: 8191 }), fc.integer({ min: 1, max: 16 })),
              { maxLength: 300 },
            ),
          }),
          ({ setBits, assoc, lineBits, accesses }) => {
            const level = new CacheLevel(1 << setBits, assoc, 1 << lineBits, policy);
            const naive = new NaiveCache(1 << setBits, assoc, 1 << lineBits, policy);
            for (const [region, offset, size] of accesses) {
              const address = region + BigInt(offset);
              assert.equal(access(level, address, size), naive.access(address, size), `0x${address.toString(16)},${size}`);
            }
          },
        ),
        { numRuns: 200 },
      );
    });
  }
});

describe("cache geometry", () => {
  it("takes Cachegrind's SIZE,ASSOC,LINE and refuses what Cachegrind refuses", () => {
    assert.deepEqual(parseCacheGeometry("--D1", "32768,8,64"), { sizeBytes: 32768, assoc: 8, lineSizeBytes: 64 });
    // 12 MiB 24-way: 8192 sets, a power of two though the size is not.
    assert.deepEqual(parseCacheGeometry("--LL", "12582912,24,64"), { sizeBytes: 12582912, assoc: 24, lineSizeBytes: 64 });
    const refused: [string, RegExp][] = [
      ["12582912,16,64", /set count is not a power of two/],
      ["32768,8,8", /line size is below 16/],
      ["32768,8,48", /set count|line size is not a power of two/],
      ["64,1,64", /size is not above the line size/],
      ["32768,0,64", /associativity/],
      ["32768,8", /three comma-separated/],
      ["32k,8,64", /three comma-separated/],
    ];
    for (const [text, message] of refused) assert.throws(() => parseCacheGeometry("--LL", text), (error: Error) => error instanceof GeometryError && message.test(error.message), text);
    assert.deepEqual(parseTlbGeometry("--dtlb", "64,4,4096"), { entries: 64, assoc: 4, pageSizeBytes: 4096 });
    assert.throws(() => parseTlbGeometry("--dtlb", "48,4,4096"), /power of two/);
  });
});

describe("cache hierarchy", () => {
  it("goes to LL only on a first-level miss, keeps I and D apart, and cuts long accesses to a line", () => {
    const caches = new CacheHierarchy({
      I1: { sizeBytes: 1024, assoc: 2, lineSizeBytes: 64 },
      D1: { sizeBytes: 1024, assoc: 2, lineSizeBytes: 64 },
      LL: { sizeBytes: 8192, assoc: 4, lineSizeBytes: 64 },
    });
    caches.fetch(0x1000, 0, 4); // I1 miss, LL miss
    caches.read(0x1000, 0, 8); // D1 miss, LL hit (the fetch brought it into LL)
    caches.write(0x1008, 0, 8); // D1 hit
    caches.read(0x2000, 0, 4096); // cut to 64 bytes: one line, D1 and LL miss
    caches.fetch(0x1004, 0, 4); // I1 hit
    const summary = caches.summary();
    assert.deepEqual(summary.I1, { refs: 2, misses: 1 });
    assert.deepEqual(summary.D1, { refs: 3, misses: 2, reads: { refs: 2, misses: 2 }, writes: { refs: 1, misses: 0 } });
    assert.deepEqual(summary.LL, { refs: 3, misses: 2, reads: { refs: 3, misses: 2 }, writes: { refs: 0, misses: 0 }, fetchMisses: 1, dataMisses: 1 });
    assert.equal(summary.itlb, null);
  });

  it("TLBs count a lookup per access and a miss per new page beyond their reach", () => {
    const caches = new CacheHierarchy({ dtlb: { entries: 2, assoc: 2, pageSizeBytes: 4096 }, itlb: { entries: 1, assoc: 1, pageSizeBytes: 4096 } });
    for (const page of [0, 1, 0, 2, 1, 0]) caches.read(page * 4096 + 8, 0, 8);
    caches.fetch(0x5000, 0, 4);
    caches.fetch(0x5ffe, 0, 4); // straddles into page 6: one lookup, one miss
    const summary = caches.summary();
    // LRU over 2 entries: 0 1 hit0 2(evict 1) 1(evict 0) 0(evict 2).
    assert.deepEqual(summary.dtlb, { refs: 6, misses: 5 });
    assert.deepEqual(summary.itlb, { refs: 2, misses: 2 });
    assert.match(formatCachegrindSummary(summary), /^DTLB misses:  +5$/m);
  });

  it("a lackey log feeds fetches, loads, stores, and a modify as one read (as Cachegrind counts it)", () => {
    withTempDir((folder) => {
      const log = join(folder, "lackey.txt");
      writeFileSync(log, ["==1== Lackey", "I  00400000,4", " L 7ff000,8", " S 7ff008,8", " M 7ff010,4", "I  00400004,2", ""].join("\n"));
      const caches = new CacheHierarchy();
      assert.deepEqual(feedLackey(log, caches), { fetches: 2, reads: 2, writes: 1 });
      const summary = caches.summary();
      assert.deepEqual([summary.I1.refs, summary.D1.reads.refs, summary.D1.writes.refs], [2, 2, 1]);
      assert.deepEqual([summary.I1.misses, summary.D1.misses], [1, 1]);
    });
  });

  it("a seed trace's reads are all data reads", () => {
    withTempDir((folder) => {
      const path = join(folder, "t.trace");
      const writer = new TraceWriter(path);
      writer.read(0x1000, 0, 2);
      writer.write(0x1040, 0, 8, 1, 0);
      writer.read(0x1002, 0, 4);
      writer.close();
      const caches = new CacheHierarchy();
      assert.deepEqual(feedTrace(path, caches), { fetches: 0, reads: 2, writes: 1 });
      const summary = caches.summary();
      assert.deepEqual([summary.I1.refs, summary.D1.reads, summary.D1.writes], [0, { refs: 2, misses: 1 }, { refs: 1, misses: 1 }]);
    });
  });
});

describe("Cachegrind's summary layout", () => {
  it("rounds percentages as printf does: exact ties to even", () => {
    assert.equal(formatFixedLikeC(0.125, 2), "0.12");
    assert.equal(formatFixedLikeC(0.375, 2), "0.38");
    assert.equal(formatFixedLikeC(2.5, 0), "2");
    assert.equal(formatFixedLikeC(1.05, 1), "1.1"); // 1.05 is above the tie in binary
    assert.equal(formatFixedLikeC(33.33333, 1), "33.3");
  });

  it("widths follow the counts as Cachegrind sizes its columns", () => {
    const caches = new CacheHierarchy();
    for (let index = 0; index < 1500; index++) caches.fetch(0x400000 + index * 4, 0, 4);
    for (let index = 0; index < 20; index++) caches.read(0x800000 + index * 64, 0, 8);
    caches.write(0x900000, 0, 4);
    const text = formatCachegrindSummary(caches.summary());
    assert.equal(
      text,
      [
        "I   refs:      1,500",
        "I1  misses:       94",
        "LLi misses:       94",
        "I1  miss rate:  6.27%",
        "LLi miss rate:  6.27%",
        "",
        "D   refs:         21  (20 rd   + 1 wr)",
        "D1  misses:       21  (20 rd   + 1 wr)",
        "LLd misses:       21  (20 rd   + 1 wr)",
        "D1  miss rate: 100.0% (100.0%     + 100.0%  )",
        "LLd miss rate: 100.0% (100.0%     + 100.0%  )",
        "",
        "LL refs:         115  (114 rd   + 1 wr)",
        "LL misses:       115  (114 rd   + 1 wr)",
        "LL miss rate:    7.6% (7.5%     + 100.0%  )",
      ].join("\n"),
    );
  });
});

describe("reuse distance", () => {
  /** Stack distances by moving each block to the front of a plain list. */
  function naiveDistances(blocks: number[]): { counts: Map<number, number>; cold: number } {
    const stack: number[] = [];
    const counts = new Map<number, number>();
    let cold = 0;
    for (const block of blocks) {
      const at = stack.indexOf(block);
      if (at < 0) cold++;
      else {
        counts.set(at + 1, (counts.get(at + 1) ?? 0) + 1);
        stack.splice(at, 1);
      }
      stack.unshift(block);
    }
    return { counts, cold };
  }

  it("agrees with a naive LRU stack on random streams, through compactions of its times", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 50 }), (blocks, capacity) => {
        const reuse = new ReuseDistance(64);
        for (const block of blocks) reuse.read(block * 64, 0, 4);
        const { counts, cold } = naiveDistances(blocks);
        let expected = cold;
        for (const [distance, count] of counts) if (distance > capacity) expected += count;
        assert.equal(reuse.missesAt(capacity), expected);
      }),
      { numRuns: 200 },
    );
    // Long enough for compactions (the first at 65,536 times) with a footprint of 1,000.
    const reuse = new ReuseDistance(64);
    const blocks: number[] = [];
    let state = 12345;
    for (let index = 0; index < 150_000; index++) {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      blocks.push((state >>> 8) % 1000);
    }
    for (const block of blocks) reuse.write(block * 64, 1, 8);
    const { counts, cold } = naiveDistances(blocks);
    for (const capacity of [1, 100, 500, 999]) {
      let expected = cold;
      for (const [distance, count] of counts) if (distance > capacity) expected += count;
      assert.equal(reuse.missesAt(capacity), expected, `capacity ${capacity}`);
    }
  });

  it("its miss-ratio curve matches the simulator configured fully associative at several sizes", () => {
    const reuse = new ReuseDistance(64);
    const sizes = [2, 16, 64, 256];
    const caches = sizes.map((blocks) => new CacheHierarchy({ D1: { sizeBytes: blocks * 64, assoc: blocks, lineSizeBytes: 64 } }));
    let state = 99;
    for (let index = 0; index < 30_000; index++) {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      // A hot set and a cold tail, line-aligned 8-byte reads (no straddles).
      const line = state % 4 === 0 ? 1000 + (state >>> 4) % 2000 : (state >>> 4) % 200;
      reuse.read(line * 64 + 8, 0, 8);
      for (const cache of caches) cache.read(line * 64 + 8, 0, 8);
    }
    const curve = reuse.report().missRatioCurve;
    sizes.forEach((blocks, index) => {
      const misses = caches[index].summary().D1.misses;
      assert.equal(reuse.missesAt(blocks), misses, `${blocks} blocks`);
      const point = curve.find((p) => p.blocks === blocks);
      assert.equal(point?.misses, misses);
    });
  });

  it("counts a block per page or line an access spans, and buckets distances in powers of two", () => {
    const reuse = new ReuseDistance(4096);
    reuse.read(4090, 0, 8); // pages 0 and 1
    reuse.read(0, 0, 1); // page 0: distance 2
    reuse.read(0, 0, 1); // distance 1
    const report = reuse.report();
    assert.equal(report.references, 4);
    assert.equal(report.footprintBlocks, 2);
    assert.equal(report.coldMisses, 2);
    assert.deepEqual(report.histogram, [
      { from: 1, to: 1, count: 1 },
      { from: 2, to: 3, count: 1 },
    ]);
    assert.deepEqual(
      report.missRatioCurve.map((p) => [p.blocks, p.misses]),
      [
        [1, 3],
        [2, 2],
      ],
    );
  });
});

describe("memspace trace cache and trace reuse", () => {
  it("print Cachegrind's summary and reuse tables, and write JSON", () => {
    withTempDir((folder) => {
      const trace = join(folder, "fib.trace");
      assert.equal(memspace("trace", "gen", "--shape", "fib", "--ops", "5000", "-o", trace).status, 0);
      const json = join(folder, "cache.json");
      const cache = memspace("trace", "cache", trace, "--D1", "1024,2,64", "--dtlb", "16,4,4096", "--json", json);
      assert.equal(cache.status, 0, cache.stderr);
      assert.match(cache.stdout, /^D   refs: +5,000 +\(/m);
      const figures = JSON.parse(readFileSync(json, "utf8"));
      assert.equal(figures.D1.refs, 5000);
      assert.equal(figures.D1.reads.refs + figures.D1.writes.refs, 5000);
      assert.deepEqual(Object.keys(figures.I1), ["refs", "misses"]);
      assert.equal(typeof figures.LL.misses, "number");
      assert.equal(figures.dtlb.refs, 5000);
      assert.deepEqual(figures.geometry.D1, { sizeBytes: 1024, assoc: 2, lineSizeBytes: 64 });
      // A v2 file in parts prints what one pass on this thread prints.
      const v2 = join(folder, "fib.v2");
      assert.equal(memspace("trace", "gen", "--shape", "execblock", "--ops", "600000", "--format", "v2", "-o", v2).status, 0);
      const [inParts, onePass] = ["3", "0"].map((workers) => memspace("trace", "cache", v2, "--D1", "1024,2,64", "--dtlb", "16,4,4096", "--workers", workers));
      assert.equal(inParts.status, 0, inParts.stderr);
      assert.equal(inParts.stdout, onePass.stdout);
      assert.match(inParts.stdout, /D1  misses: +[1-9]/);
      const reuse = memspace("trace", "reuse", trace, "--granularity", "line", "--json", "-");
      assert.equal(reuse.status, 0, reuse.stderr);
      const report = JSON.parse(reuse.stdout);
      assert.equal(report.blockSizeBytes, 64);
      assert.equal(report.references, 5000);
      assert.match(reuse.stderr, /LRU stack distance/);
    });
  });

  it("refuse a geometry Cachegrind refuses, with a usage error", () => {
    const bad = memspace("trace", "cache", "-", "--LL", "12582912,16,64");
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--LL=12582912,16,64: set count is not a power of two/);
  });
});

/** Cachegrind's summary figures, read off its log. */
interface CachegrindFigures {
  Ir: number;
  I1mr: number;
  ILmr: number;
  Dr: number;
  Dw: number;
  D1mr: number;
  D1mw: number;
  LLrefs: number;
  LLmisses: number;
}

function number(text: string): number {
  return Number(text.replace(/,/g, ""));
}

function parseCachegrindLog(log: string): CachegrindFigures {
  const single = (label: string): number => number(new RegExp(`${label}\\s+([\\d,]+)`).exec(log)![1]);
  const split = (label: string): [number, number, number] => {
    const match = new RegExp(`${label}\\s+([\\d,]+)\\s+\\(\\s*([\\d,]+) rd\\s+\\+\\s+([\\d,]+) wr\\)`).exec(log)!;
    return [number(match[1]), number(match[2]), number(match[3])];
  };
  const [, Dr, Dw] = split("D   refs:");
  const [, D1mr, D1mw] = split("D1  misses:");
  return { Ir: single("I   refs:"), I1mr: single("I1  misses:"), ILmr: single("LLi misses:"), Dr, Dw, D1mr, D1mw, LLrefs: split("LL refs:")[0], LLmisses: split("LL misses:")[0] };
}

const PROGRAMS = {
  // Column-order walk over a row-major matrix: a D1 miss on most reads.
  matrix: `#include <stdio.h>
#include <stdlib.h>
#define N 96
int main(void) {
  double *a = malloc(sizeof(double) * N * N);
  for (int i = 0; i < N * N; i++) a[i] = i;
  double sum = 0;
  for (int round = 0; round < 3; round++)
    for (int j = 0; j < N; j++)
      for (int i = 0; i < N; i++) sum += a[i * N + j];
  printf("%f\\n", sum);
  return 0;
}
`,
  // A shuffled linked list walked a few times, then a chained hash table.
  "list-hash": `#include <stdio.h>
#include <stdlib.h>
struct node { struct node *next; long value; char pad[48]; };
#define NODES 3000
#define BUCKETS 1024
int main(void) {
  struct node *nodes = malloc(sizeof(struct node) * NODES);
  int *order = malloc(sizeof(int) * NODES);
  for (int i = 0; i < NODES; i++) order[i] = i;
  unsigned state = 7;
  for (int i = NODES - 1; i > 0; i--) { state = state * 1103515245u + 12345u; int j = state % (i + 1); int t = order[i]; order[i] = order[j]; order[j] = t; }
  for (int i = 0; i < NODES; i++) { nodes[order[i]].next = i + 1 < NODES ? &nodes[order[i + 1]] : NULL; nodes[order[i]].value = i; }
  long sum = 0;
  for (int round = 0; round < 4; round++) for (struct node *n = &nodes[order[0]]; n; n = n->next) sum += n->value;
  struct node **table = calloc(BUCKETS, sizeof(struct node *));
  for (int i = 0; i < NODES; i++) { unsigned h = (unsigned)(nodes[i].value * 2654435761u) % BUCKETS; nodes[i].next = table[h]; table[h] = &nodes[i]; }
  for (int k = 0; k < 2 * NODES; k++) { unsigned h = (unsigned)(k * 2654435761u) % BUCKETS; for (struct node *n = table[h]; n; n = n->next) if (n->value == k) { sum += k; break; } }
  printf("%ld\\n", sum);
  return 0;
}
`,
} as const;

const GEOMETRIES = {
  matrix: { I1: "8192,2,64", D1: "16384,4,64", LL: "131072,8,64" },
  "list-hash": { I1: "4096,4,32", D1: "8192,2,32", LL: "65536,4,32" },
} as const;

const hasValgrind = spawnSync("valgrind", ["--version"], { encoding: "utf8" }).status === 0;
const valgrindSkip = !hasValgrind && process.env.CI !== "true" ? "valgrind is not installed (apt-get install valgrind)" : false;
/** The agreement required of every count. */
const TOLERANCE = 0.01;

/** Runs `command` to completion without blocking the other tests; fails on a non-zero exit. */
async function run(command: string, args: string[]): Promise<void> {
  const child = spawn(command, args, { stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text));
  const [status] = (await once(child, "close")) as [number | null];
  assert.equal(status, 0, `${command} ${args.join(" ")}: ${stderr}`);
}

// The programs, and the two tools on each, run side by side: each valgrind run takes about a second.
describe("against Cachegrind on real programs", { skip: valgrindSkip, concurrency: true }, () => {
  for (const name of Object.keys(PROGRAMS) as (keyof typeof PROGRAMS)[]) {
    it(`${name}: refs and I1, D1 and LL misses within 1% of Cachegrind's with the same geometry`, async (t) => {
      assert.ok(hasValgrind, "valgrind is required in CI");
      const folder = mkdtempSync(join(tmpdir(), "memspace-test-"));
      try {
        const source = join(folder, `${name}.c`);
        const binary = join(folder, name);
        writeFileSync(source, PROGRAMS[name]);
        await run("gcc", ["-O1", "-o", binary, source]);
        const geometry = GEOMETRIES[name];
        const cachegrindLog = join(folder, "cachegrind.log");
        const lackeyLog = join(folder, "lackey.log");
        await Promise.all([
          run("valgrind", ["--tool=cachegrind", "--cache-sim=yes", `--I1=${geometry.I1}`, `--D1=${geometry.D1}`, `--LL=${geometry.LL}`, "--cachegrind-out-file=/dev/null", `--log-file=${cachegrindLog}`, binary]),
          run("valgrind", ["--tool=lackey", "--trace-mem=yes", `--log-file=${lackeyLog}`, binary]),
        ]);
        const theirs = parseCachegrindLog(readFileSync(cachegrindLog, "utf8"));
        const caches = new CacheHierarchy({
          I1: parseCacheGeometry("--I1", geometry.I1),
          D1: parseCacheGeometry("--D1", geometry.D1),
          LL: parseCacheGeometry("--LL", geometry.LL),
        });
        feedLackey(lackeyLog, caches);
        const s = caches.summary();
        const ours: CachegrindFigures = {
          Ir: s.I1.refs,
          I1mr: s.I1.misses,
          ILmr: s.LL.fetchMisses,
          Dr: s.D1.reads.refs,
          Dw: s.D1.writes.refs,
          D1mr: s.D1.reads.misses,
          D1mw: s.D1.writes.misses,
          LLrefs: s.LL.refs,
          LLmisses: s.LL.misses,
        };
        assert.ok(theirs.D1mr > 1000, `the workload misses in D1 (${theirs.D1mr})`);
        t.diagnostic(`ours ${JSON.stringify(ours)}; Cachegrind's ${JSON.stringify(theirs)}`);
        for (const key of Object.keys(ours) as (keyof CachegrindFigures)[]) {
          const gap = Math.abs(ours[key] - theirs[key]) / Math.max(1, theirs[key]);
          assert.ok(gap <= TOLERANCE, `${key}: ours ${ours[key]}, Cachegrind's ${theirs[key]} (${(gap * 100).toFixed(2)}% apart)`);
        }
      } finally {
        rmSync(folder, { recursive: true, force: true });
      }
    });
  }
});
