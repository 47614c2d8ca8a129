import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import { AddressSpace } from "../../src/space/address-space.js";
import type { MemoryAccess } from "../../src/space/backend.js";
import { createBackend } from "../../src/space/create-backend.js";
import { NoopBackend } from "../../src/space/noop-backend.js";
import { TraceFormatError } from "../../src/trace/format.js";
import { generateTrace } from "../../src/trace/generators.js";
import { streamTrace, type ChunkConsumer } from "../../src/trace/reader.js";
import { replayChunk, replayFile, ReplayTally } from "../../src/trace/replay.js";
import { TraceStats } from "../../src/trace/stats.js";
import { TraceWriter } from "../../src/trace/writer.js";
import { createTraceOutput } from "../../src/trace/open-output.js";
import { FETCH_RUN_MAX } from "../../src/trace/output.js";
import { V2TraceWriter } from "../../src/trace/v2/writer.js";
import { MAX_RECORD_SEED_BYTES } from "../../src/trace/v2/layout.js";
import { highOf, lowOf, RecordingSink, withTempDir, type TestOp } from "../helpers.js";

/** Any valid op: its last byte at or below 2^64 - 1. */
const opArb: fc.Arbitrary<TestOp> = fc
  .constantFrom(1 as const, 2 as const, 4 as const, 8 as const)
  .chain((width) =>
    fc.record({
      write: fc.boolean(),
      width: fc.constant(width),
      address: fc.bigInt({ min: 0n, max: (1n << 64n) - BigInt(width) }),
      value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    }),
  )
  .map((op) => ({ ...op, value: op.write ? BigInt.asUintN(8 * op.width, op.value) : 0n }));

function writeOps(path: string, ops: TestOp[], bufferBytes?: number, writeBehindFromBytes?: number): void {
  const writer = new TraceWriter(path, { bufferBytes, writeBehindFromBytes });
  for (const op of ops) {
    if (op.write) writer.write(lowOf(op.address), highOf(op.address), op.width, lowOf(op.value), highOf(op.value));
    else writer.read(lowOf(op.address), highOf(op.address), op.width);
  }
  writer.close();
}

/** Replays through the chunked reader with a given chunk size and records the ops. */
function readOps(path: string, chunkBytes?: number, readAhead: boolean | "auto" = "auto"): TestOp[] {
  const sink = new RecordingSink();
  const tally = new ReplayTally(path);
  streamTrace(path, (bytes, view, start, end, offset) => replayChunk(sink, bytes, view, start, end, offset, tally), { chunkBytes, readAhead });
  return sink.ops;
}

function errorOf(action: () => unknown): TraceFormatError {
  try {
    action();
  } catch (error) {
    assert.ok(error instanceof TraceFormatError, `expected TraceFormatError, got ${String(error)}`);
    return error;
  }
  assert.fail("expected a TraceFormatError");
}

describe("trace format", () => {
  it("round trip: written ops read back identical, across any chunk boundary", () => {
    withTempDir((folder) => {
      const path = join(folder, "round.trace");
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 60 }), fc.integer({ min: 18, max: 200 }), (ops, chunkBytes) => {
          writeOps(path, ops, 64);
          const expectedBytes = ops.reduce((sum, op) => sum + 10 + (op.write ? op.width : 0), 0);
          assert.equal(statSync(path).size, expectedBytes);
          assert.deepEqual(readOps(path, chunkBytes, false), ops);
        }),
        { numRuns: 200 },
      );
    });
  });

  it("fetchRun writes what a fetch per instruction writes, seed and v2, across the 2^32 line, runs that go on where the last ended, any buffer or chunk size", () => {
    withTempDir((folder) => {
      const run = fc.record({
        address: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 256n }), fc.bigInt({ min: (1n << 32n) - 130n, max: (1n << 32n) + 2n })),
        // Going on from the last run's end: v2 writes it as one parcel run with the last.
        continues: fc.boolean(),
        count: fc.integer({ min: 1, max: FETCH_RUN_MAX }),
        wideMask: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
      });
      fc.assert(
        fc.property(fc.array(run, { minLength: 1, maxLength: 160 }), fc.constantFrom<"seed" | "v2">("seed", "v2"), fc.integer({ min: 18, max: 700 }), fc.boolean(), (runs, format, bufferBytes, pcs) => {
          const byRun = join(folder, `run.${format}`);
          const byFetch = join(folder, `fetch.${format}`);
          // v2: chunks from the least a writer takes, so runs straddle chunk ends; with or without a pc column.
          const v2Options = { chunkSeedBytes: MAX_RECORD_SEED_BYTES + bufferBytes * 10, pcs };
          const runWriter = format === "seed" ? new TraceWriter(byRun, { bufferBytes }) : new V2TraceWriter(byRun, v2Options);
          const fetchWriter = format === "seed" ? createTraceOutput(byFetch, format) : new V2TraceWriter(byFetch, v2Options);
          let end: bigint | null = null;
          for (const { address: random, continues, count, wideMask } of runs) {
            const address: bigint = continues && end !== null && end < (1n << 64n) - 256n ? end : random;
            runWriter.fetchRun(lowOf(address), highOf(address), count, wideMask);
            let at: bigint = address;
            for (let index = 0; index < count; index++) {
              const sizeBytes = (wideMask >>> index) & 1 ? 4 : 2;
              fetchWriter.fetch(lowOf(at), highOf(at), sizeBytes);
              at += BigInt(sizeBytes);
            }
            end = at;
          }
          assert.equal(runWriter.recordsWritten, fetchWriter.recordsWritten);
          assert.equal(runWriter.opsWritten, fetchWriter.opsWritten);
          runWriter.close();
          fetchWriter.close();
          assert.ok(readFileSync(byRun).equals(readFileSync(byFetch)));
        }),
        { numRuns: 60 },
      );
    });
  });

  it("round trip through the writer thread: buffers handed over from the first byte or later, written in order", () => {
    withTempDir((folder) => {
      const path = join(folder, "behind.trace");
      fc.assert(
        fc.property(fc.array(opArb, { maxLength: 400 }), fc.integer({ min: 18, max: 300 }), fc.integer({ min: 0, max: 2000 }), (ops, bufferBytes, fromBytes) => {
          writeOps(path, ops, bufferBytes, fromBytes);
          const expectedBytes = ops.reduce((sum, op) => sum + 10 + (op.write ? op.width : 0), 0);
          assert.equal(statSync(path).size, expectedBytes);
          assert.deepEqual(readOps(path, 4096, false), ops);
        }),
        { numRuns: 25 },
      );
    });
  });

  it("round trip through the read-ahead worker, across chunk boundaries", () => {
    withTempDir((folder) => {
      const path = join(folder, "ahead.trace");
      for (const [index, ops] of fc.sample(fc.array(opArb, { minLength: 1, maxLength: 300 }), { numRuns: 6, seed: 42 }).entries()) {
        writeOps(path, ops);
        const chunkBytes = [18, 19, 33, 64, 100, 4096][index];
        assert.deepEqual(readOps(path, chunkBytes, true), ops, `chunk ${chunkBytes}`);
      }
    });
  });

  it("round trip with the read-ahead worker ahead of a slow consumer (chunks it read, not only ours)", () => {
    withTempDir((folder) => {
      const path = join(folder, "slow.trace");
      const ops = fc.sample(opArb, { numRuns: 2_000, seed: 5 });
      writeOps(path, ops);
      const sink = new RecordingSink();
      const tally = new ReplayTally(path);
      const pause = new Int32Array(new SharedArrayBuffer(4));
      const consume: ChunkConsumer = (bytes, view, start, end, offset) => {
        // The first chunk waits for the worker to start (tens of ms) and fill the ring, so the
        // chunks after it come from the worker; small files are otherwise read by this thread.
        if (offset === 0) Atomics.wait(pause, 0, 0, 200);
        return replayChunk(sink, bytes, view, start, end, offset, tally);
      };
      streamTrace(path, consume, { chunkBytes: 1000, readAhead: true });
      assert.deepEqual(sink.ops, ops);
    });
  });

  it("a chunk longer than a replay slice (32 KiB): records cut by a slice boundary replay once, in order", () => {
    withTempDir((folder) => {
      const path = join(folder, "long.trace");
      // Random records of 10 to 18 bytes, so the slice boundaries fall inside records of
      // several kinds; 30,000 ops is about 390 KiB, a dozen slices in one chunk.
      const ops = fc.sample(opArb, { numRuns: 30_000, seed: 9 });
      writeOps(path, ops);
      assert.deepEqual(readOps(path), ops);
      // Chunks of 100,000 bytes through the read-ahead worker: slice and chunk boundaries both.
      assert.deepEqual(readOps(path, 100_000, true), ops);
      // A malformed record past the first slices is named at its own offset.
      const bytes = readFileSync(path);
      const badAt = ops.slice(0, 20_000).reduce((sum, op) => sum + 10 + (op.write ? op.width : 0), 0);
      bytes[badAt] = 7;
      writeFileSync(path, bytes);
      for (const [chunkBytes, readAhead] of [[undefined, "auto"], [100_000, true]] as const) {
        const error = errorOf(() => readOps(path, chunkBytes, readAhead));
        assert.equal(error.byteOffset, badAt);
        assert.match(error.message, /unknown op 7/);
      }
    });
  });

  it("is byte for byte the interchange format", () => {
    withTempDir((folder) => {
      const path = join(folder, "bytes.trace");
      writeOps(path, [
        { write: true, width: 2, address: 0x1122334455667788n, value: 0xbeefn },
        { write: false, width: 8, address: 0x10n, value: 0n },
      ]);
      assert.deepEqual(
        Array.from(readFileSync(path)),
        [1, 2, 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0xef, 0xbe, 2, 8, 0x10, 0, 0, 0, 0, 0, 0, 0],
      );
    });
  });

  const good = [2, 2, 0, 0x10, 0, 0, 0, 0, 0, 0]; // a 2-byte read: bytes 0..9
  const cases: [string, number[], number, RegExp][] = [
    ["unknown op", [...good, 3, 2, 0, 0, 0, 0, 0, 0, 0, 0], 10, /unknown op 3/],
    ["op zero", [...good, ...good, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0], 20, /unknown op 0/],
    ["bad read width", [...good, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0], 10, /bad width 3/],
    ["bad write width", [...good, 1, 16, 0, 0, 0, 0, 0, 0, 0, 0, ...new Array(16).fill(0)], 10, /bad width 16/],
    ["truncated header", [...good, 2, 2, 0, 0], 10, /truncated record: 4 of 10 bytes/],
    ["truncated write value", [...good, 1, 8, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3], 10, /truncated record: 13 of 18 bytes/],
    ["lone byte", [...good, 2], 10, /truncated record: 1 of 10 bytes/],
    ["bad width at end of file", [...good, 1, 9, 0], 10, /bad width 9/],
  ];
  for (const [name, bytes, offset, message] of cases) {
    it(`rejects ${name}, naming the file and byte offset ${offset}`, () => {
      withTempDir((folder) => {
        const path = join(folder, "bad.trace");
        writeFileSync(path, Uint8Array.from(bytes));
        for (const [chunkBytes, readAhead] of [[18, false], [19, true], [64, false], [undefined, "auto"]] as const) {
          const error = errorOf(() => readOps(path, chunkBytes, readAhead));
          assert.equal(error.byteOffset, offset);
          assert.equal(error.file, path);
          assert.match(error.message, message);
          assert.ok(error.message.startsWith(`${path}: byte offset ${offset}: `), error.message);
        }
      });
    });
  }

  it("fuzz: any bytes either replay fully or fail with a TraceFormatError at a record start", () => {
    withTempDir((folder) => {
      const path = join(folder, "fuzz.trace");
      const byteArb = fc.oneof(fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 0, max: 255 }));
      fc.assert(
        fc.property(fc.array(byteArb, { maxLength: 120 }), fc.integer({ min: 18, max: 70 }), (bytes, chunkBytes) => {
          writeFileSync(path, Uint8Array.from(bytes));
          let recordStarts = [0];
          let at = 0;
          while (at + 2 <= bytes.length && (bytes[at] === 1 || bytes[at] === 2) && [1, 2, 4, 8].includes(bytes[at + 1])) {
            at += 10 + (bytes[at] === 1 ? bytes[at + 1] : 0);
            recordStarts.push(at);
          }
          recordStarts = recordStarts.filter((start) => start <= bytes.length);
          try {
            const ops = readOps(path, chunkBytes, false);
            assert.equal(recordStarts[recordStarts.length - 1], bytes.length, "accepted input must end at a record boundary");
            assert.equal(ops.length, recordStarts.length - 1);
          } catch (error) {
            assert.ok(error instanceof TraceFormatError, String(error));
            assert.ok(recordStarts.includes(error.byteOffset), `offset ${error.byteOffset} is not a record start`);
          }
        }),
        { numRuns: 300 },
      );
    });
  });

  it("a missing file is an error naming it", () => {
    assert.throws(() => replayFile("/nonexistent/x.trace", new NoopBackend()), /ENOENT.*\/nonexistent\/x\.trace/);
  });
});

describe("replay", () => {
  it("applies writes and sums read values; backends that keep state agree", () => {
    withTempDir((folder) => {
      const path = join(folder, "eb.trace");
      generateTrace("execblock", 30_000, path, { seed: 7 });
      const checksums = (["map", "paged"] as const).map((backend) => replayFile(path, new AddressSpace({ backend }).access).checksum);
      assert.equal(checksums[0], checksums[1]);
      // Same result as replaying through the bigint API by hand.
      const space = new AddressSpace({ backend: "map" });
      let sum = 0n;
      for (const op of readOps(path)) {
        if (op.write) {
          if (op.width === 8) space.store64(op.address, op.value);
          else if (op.width === 4) space.store32(op.address, Number(op.value));
          else if (op.width === 2) space.store16(op.address, Number(op.value));
          else space.store8(op.address, Number(op.value));
        } else {
          sum += op.width === 8 ? space.load64(op.address) : BigInt(op.width === 4 ? space.load32(op.address) : op.width === 2 ? space.load16(op.address) : space.load8(op.address));
        }
      }
      assert.equal(checksums[0], BigInt.asUintN(64, sum));
      assert.ok(sum > 0n, "the trace reads back written values");
    });
  });

  it("an access past 2^64 - 1 is the same TraceFormatError, naming file and offset, on every sink", () => {
    const header = (op: number, width: number, address: bigint): number[] => [op, width, ...new Uint8Array(new BigUint64Array([address]).buffer)];
    const read2 = header(2, 2, 0x1000n);
    const slices = new Array(5000).fill(read2).flat(); // 50,000 bytes: more than a replay slice
    const top = (1n << 64n) - 1n;
    const cases: [string, number[], number][] = [
      // The second of two 2-byte reads: the kernel's unrolled path.
      ["2-byte read at the last byte", [...read2, ...header(2, 2, top)], 10],
      ["4-byte read", [...header(2, 4, 0x2000n), ...header(2, 4, top - 2n)], 10],
      ["8-byte write", [...header(1, 1, 0x3000n), 9, ...header(1, 8, top - 3n), 1, 2, 3, 4, 5, 6, 7, 8], 11],
      ["8-byte read past the first slice", [...slices, ...header(2, 8, top - 6n)], slices.length],
      ["write cut off by the end of the file", [...read2, ...header(1, 2, top), 1], 10],
    ];
    const sinks = (): [string, MemoryAccess][] => [
      ["noop", createBackend("noop")],
      ["map", createBackend("map")],
      ["paged", createBackend("paged")],
      ["stats", new TraceStats()],
    ];
    withTempDir((folder) => {
      const path = join(folder, "top.trace");
      for (const [name, bytes, offset] of cases) {
        writeFileSync(path, Uint8Array.from(bytes));
        const messages = sinks().map(([sinkName, sink]) => {
          const error = errorOf(() => replayFile(path, sink));
          assert.deepEqual([error.file, error.byteOffset], [path, offset], `${name} on ${sinkName}`);
          return error.message;
        });
        assert.match(messages[0], /^.*: byte offset \d+: \d-byte access at 0x[0-9a-f]{16} runs past the top of the 64-bit space$/, name);
        assert.deepEqual(messages, new Array(messages.length).fill(messages[0]), name);
      }
      // Accesses that end on the last byte are valid everywhere.
      writeFileSync(path, Uint8Array.from([...header(2, 8, top - 7n), ...header(2, 2, top - 1n), ...header(2, 2, top - 1n), ...header(1, 1, top), 5]));
      for (const [sinkName, sink] of sinks()) assert.equal(replayFile(path, sink).ops, 4, sinkName);
    });
  });

  it("reports ops, reads, writes and bytes", () => {
    withTempDir((folder) => {
      const path = join(folder, "fib.trace");
      generateTrace("fib", 1000, path);
      const space = new AddressSpace();
      const result = replayFile(path, space.access, { chunkBytes: 4096 });
      assert.deepEqual([result.ops, result.reads, result.writes, result.bytes], [1000, 999, 1, 999 * 10 + 18]);
      // The replayer reports its loads and stores to the space's counters, chunk by chunk.
      assert.deepEqual([space.stats().loads, space.stats().stores], [999, 1]);
    });
  });
});

describe("trace stats", () => {
  it("counts widths, pages, transitions, crossings and reuse distance", () => {
    const stats = new TraceStats();
    const page = (n: number, offset = 0): number => n * 0x1000 + offset;
    stats.load16(page(1), 0); // first touch, transition
    stats.load16(page(1, 2), 0); // distance 1
    stats.store64(page(2), 0, 0, 0); // first touch
    stats.load32(page(1), 0); // distance 2
    stats.load8(page(3), 0); // first touch
    stats.load8(page(2), 0); // distance 3
    stats.load16(page(4, 0xfff), 0); // first touch, crosses into page 5
    for (let n = 10; n < 50; n++) stats.load8(page(n), 0); // 40 first touches
    stats.load8(page(1), 0); // 32+
    stats.load8(page(45), 0); // distance 5 -> bucket 4-7
    const report = stats.report();
    assert.equal(report.ops, 49);
    assert.deepEqual(report.readsByWidth, { 1: 44, 2: 3, 4: 1, 8: 0 });
    assert.deepEqual(report.writesByWidth, { 1: 0, 2: 0, 4: 0, 8: 1 });
    assert.equal(report.pageCrossings, 1);
    assert.equal(report.distinctPages, 5 + 40);
    assert.equal(report.pageTransitions, 48);
    assert.deepEqual(report.reuseDistance, { "1": 1, "2": 1, "3": 1, "4-7": 1, "8-31": 0, "32+": 1, "first touch": 44 });
  });

  it("the fib generator has the reference shape", () => {
    withTempDir((folder) => {
      const path = join(folder, "fib.trace");
      generateTrace("fib", 5000, path);
      const stats = new TraceStats();
      replayFile(path, stats);
      const report = stats.report();
      assert.equal(statSync(path).size, 4999 * 10 + 18);
      assert.deepEqual([report.reads, report.readsByWidth[2], report.writes, report.writesByWidth[8]], [4999, 4999, 1, 1]);
      assert.equal(report.pageTransitions, 3);
      assert.equal(report.pageCrossings, 0);
    });
  });

  it("the execblock generator lands near the reference figures", () => {
    withTempDir((folder) => {
      const path = join(folder, "eb.trace");
      generateTrace("execblock", 200_000, path);
      const stats = new TraceStats();
      replayFile(path, stats);
      const report = stats.report();
      const share = (part: number, whole: number): number => part / whole;
      assert.equal(report.ops, 200_000);
      assert.ok(Math.abs(share(report.reads, report.ops) - 0.925) < 0.01);
      assert.ok(Math.abs(share(report.readsByWidth[2], report.reads) - 0.8956) < 0.01);
      assert.ok(Math.abs(share(report.writesByWidth[8], report.writes) - 0.9245) < 0.02);
      assert.ok(Math.abs(share(report.pageTransitions, report.ops) - 0.35) < 0.02);
      assert.ok(Math.abs(share(report.reuseDistance["1"], report.ops) - 0.65) < 0.02);
      assert.equal(report.pageCrossings, 0);
    });
  });
});
