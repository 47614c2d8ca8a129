import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { describe, it } from "node:test";
import fc from "fast-check";
import { createBackend } from "../../src/space/create-backend.js";
import { convertTrace } from "../../src/trace/convert.js";
import { TraceFormatError } from "../../src/trace/format.js";
import { generateTrace } from "../../src/trace/generators.js";
import type { RecordSink } from "../../src/trace/output.js";
import { feedRecords } from "../../src/trace/records.js";
import { replayFile } from "../../src/trace/replay.js";
import { openTrace } from "../../src/trace/trace-input.js";
import { forEachV2Payload } from "../../src/trace/v2/chunks.js";
import { decodeV2Parallel, readV2Index } from "../../src/trace/v2/parallel-decode.js";
import { RecordKind, V2Layout } from "../../src/trace/v2/layout.js";
import { V2TraceWriter, type V2WriterOptions } from "../../src/trace/v2/writer.js";
import { withTempDir } from "../helpers.js";

/** One record as a RecordSink sees it: kind, address halves (unsigned), size, value halves (unsigned; 0 for reads and fetches). */
type Rec = [kind: RecordKind, lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number];

/** A RecordSink that keeps every record it is given. */
class CollectingSink implements RecordSink {
  readonly records: Rec[] = [];
  fetch(lo: number, hi: number, sizeBytes: number): void {
    this.records.push([RecordKind.Fetch, lo >>> 0, hi >>> 0, sizeBytes, 0, 0]);
  }
  read(lo: number, hi: number, sizeBytes: number): void {
    this.records.push([RecordKind.Read, lo >>> 0, hi >>> 0, sizeBytes, 0, 0]);
  }
  write(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    this.records.push([RecordKind.Write, lo >>> 0, hi >>> 0, sizeBytes, valueLo >>> 0, valueHi >>> 0]);
  }
  modify(lo: number, hi: number, sizeBytes: number, valueLo: number, valueHi: number): void {
    this.records.push([RecordKind.Modify, lo >>> 0, hi >>> 0, sizeBytes, valueLo >>> 0, valueHi >>> 0]);
  }
}

/** The records `path` delivers through feedRecords. */
function recordsOf(path: string): Rec[] {
  const sink = new CollectingSink();
  feedRecords(path, sink);
  return sink.records;
}

/** Writes `records` (with pcs, if given) to a v2 trace at `path`. */
function writeV2(path: string, records: readonly Rec[], options: V2WriterOptions = {}, pcs?: readonly [number, number][]): void {
  const writer = new V2TraceWriter(path, options);
  records.forEach(([kind, lo, hi, sizeBytes, valueLo, valueHi], index) => {
    const [pcLo, pcHi] = pcs?.[index] ?? [0, 0];
    writer.append(kind, sizeBytes, lo, hi, valueLo, valueHi, pcLo, pcHi);
  });
  writer.close();
}

const TOP_HI = 0xffffffff;
/** Records that use every corner: fetches of 2, 4 and odd sizes, sizes 3, 16 and 4096, the 2^32 line and the top of the space. */
const CORNER_RECORDS: Rec[] = [
  [RecordKind.Fetch, 0x100b0, 0, 4, 0, 0],
  [RecordKind.Fetch, 0x100b4, 0, 2, 0, 0],
  [RecordKind.Fetch, 0xfffffffe, 0, 4, 0, 0], // crosses the 2^32 line
  [RecordKind.Fetch, 0x1001, 0, 3, 0, 0],
  [RecordKind.Read, 0xfffffffd, 0, 3, 0, 0],
  [RecordKind.Read, 0x10, 1, 16, 0, 0],
  [RecordKind.Read, 0xfffff000, TOP_HI, 4096, 0, 0], // ends at the last byte of the space
  [RecordKind.Read, 0xfffffff8, TOP_HI, 8, 0, 0],
  [RecordKind.Write, 0xffffffff, TOP_HI, 1, 0xab, 0],
  [RecordKind.Write, 0xfffffffc, 0, 8, 0xdeadbeef, 0xfeedface], // crosses the 2^32 line
  [RecordKind.Write, 0x20, 0, 2, 0xbeef, 0],
  [RecordKind.Write, 0x7ffffffc, 0x7fffffff, 4, 0x80000000, 0],
  [RecordKind.Read, 0, 0, 1, 0, 0],
  [RecordKind.Fetch, 0xfffffffc, TOP_HI, 4, 0, 0],
];

describe("v2 trace container: conversions", () => {
  for (const [shape, ops] of [
    ["execblock", 200_000],
    ["fib", 50_000],
  ] as const) {
    it(`${shape}: seed -> v2 -> seed gives back the same bytes`, () => {
      withTempDir((folder) => {
        const seed = join(folder, "a.trace");
        const v2 = join(folder, "a.v2");
        const back = join(folder, "b.trace");
        generateTrace(shape, ops, seed);
        const there = convertTrace(seed, v2, "v2");
        assert.deepEqual([there.from, there.to, there.ops], ["seed", "v2", ops]);
        assert.equal(there.inputBytes, readFileSync(seed).length);
        assert.ok(there.sizeBytes * 3 < there.inputBytes, `v2 is smaller: ${there.sizeBytes} of ${there.inputBytes} bytes`);
        const home = convertTrace(v2, back, "seed");
        assert.equal(home.from, "v2");
        assert.equal(home.reads + home.writes, ops);
        assert.ok(readFileSync(back).equals(readFileSync(seed)), "byte-identical after the round trip");
      });
    });
  }

  it("v2 -> seed -> v2 gives back the same bytes for a trace without fetches", () => {
    withTempDir((folder) => {
      const v2 = join(folder, "a.v2");
      const seed = join(folder, "a.trace");
      const back = join(folder, "b.v2");
      generateTrace("execblock", 120_000, v2, { format: "v2", seed: 7 });
      convertTrace(v2, seed, "seed");
      convertTrace(seed, back, "v2");
      assert.ok(readFileSync(back).equals(readFileSync(v2)));
    });
  });

  it("generateTrace writes the same records in either format", () => {
    withTempDir((folder) => {
      generateTrace("execblock", 30_000, join(folder, "a.trace"), { seed: 3 });
      generateTrace("execblock", 30_000, join(folder, "a.v2"), { seed: 3, format: "v2" });
      assert.equal(readFileSync(join(folder, "a.v2"))[0], 0x89, "a v2 file");
      assert.deepEqual(recordsOf(join(folder, "a.v2")), recordsOf(join(folder, "a.trace")));
    });
  });

  it("replay of a v2 trace and of its seed conversion: same ops, reads, writes and checksum on the paged backend", () => {
    withTempDir((folder) => {
      const v2 = join(folder, "a.v2");
      const seed = join(folder, "a.trace");
      // Many small chunks, the corner records among generated ones, and a trace with derived values.
      const records: Rec[] = [];
      for (let round = 0; round < 300; round++) for (const record of CORNER_RECORDS) records.push([...record]);
      writeV2(v2, records, { chunkSeedBytes: 1 << 15 });
      convertTrace(v2, seed, "seed");
      const fromV2 = replayFile(v2, createBackend("paged"));
      const fromSeed = replayFile(seed, createBackend("paged"));
      assert.deepEqual([fromV2.ops, fromV2.reads, fromV2.writes, fromV2.checksum], [fromSeed.ops, fromSeed.reads, fromSeed.writes, fromSeed.checksum]);
      assert.notEqual(fromV2.checksum, 0n, "values were read back");

      const noValues = join(folder, "nv.v2");
      const noValuesSeed = join(folder, "nv.trace");
      writeV2(noValues, records.map(([kind, lo, hi, size]) => [kind, lo, hi, size, 0, 0]), { values: false, chunkSeedBytes: 1 << 15 });
      convertTrace(noValues, noValuesSeed, "seed");
      const a = replayFile(noValues, createBackend("paged"));
      const b = replayFile(noValuesSeed, createBackend("paged"));
      assert.deepEqual([a.ops, a.reads, a.writes, a.checksum], [b.ops, b.reads, b.writes, b.checksum]);
    });
  });

  it("a v2 trace with fetches, pcs, sizes of 3, 16 and 4096 bytes and addresses at 2^32 and 2^64 round-trips its records", () => {
    withTempDir((folder) => {
      const path = join(folder, "corners.v2");
      const pcs = CORNER_RECORDS.map((_, index): [number, number] => [(0x80000000 + index * 4) | 0, index % 2 === 0 ? 0 : TOP_HI]);
      writeV2(path, CORNER_RECORDS, { pcs: true }, pcs);
      assert.deepEqual(recordsOf(path), CORNER_RECORDS);
      const counts = feedRecords(path, new CollectingSink());
      assert.deepEqual([counts.format, counts.fetches, counts.reads, counts.writes], ["v2", 5, 5, 4]);
      // Odd-sized writes fit a trace without values; a reader gives them their derived values, as seed conversion does.
      const noValues = join(folder, "nv.v2");
      const records: Rec[] = [...CORNER_RECORDS, [RecordKind.Write, 0x1000, 0, 4096, 0, 0], [RecordKind.Write, 3, 0, 3, 0, 0]];
      writeV2(noValues, records, { values: false });
      const read = recordsOf(noValues);
      assert.deepEqual(
        read.map(([kind, lo, hi, size]) => [kind, lo, hi, size]),
        records.map(([kind, lo, hi, size]) => [kind, lo, hi, size]),
      );
      const seed = join(folder, "nv.trace");
      convertTrace(noValues, seed, "seed");
      const seedWrites = recordsOf(seed).filter(([kind]) => kind === RecordKind.Write);
      // The 1-byte write at the top of the space is seed write 0: its value is the derived one, as the v2 reader gave it.
      const firstV2Write = read.find(([kind]) => kind === RecordKind.Write)!;
      assert.deepEqual(seedWrites[0], [RecordKind.Write, firstV2Write[1], firstV2Write[2], 1, firstV2Write[4] & 0xff, 0]);
    });
  });

  it("random record sequences round-trip through v2 (many chunks, pcs or not, values or not)", () => {
    const recordArb = fc
      .tuple(fc.constantFrom(RecordKind.Fetch, RecordKind.Read, RecordKind.Write, RecordKind.Modify), fc.oneof(fc.constantFrom(1, 2, 4, 8), fc.integer({ min: 1, max: 4096 })), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.integer(), fc.integer())
      .map(([kind, size, address, valueLo, valueHi]): Rec => {
        const start = address > (1n << 64n) - BigInt(size) ? (1n << 64n) - BigInt(size) : address;
        return [kind, Number(start & 0xffffffffn), Number(start >> 32n), size, valueLo >>> 0, valueHi >>> 0];
      });
    withTempDir((folder) => {
      const path = join(folder, "random.v2");
      fc.assert(
        fc.property(fc.array(fc.tuple(recordArb, fc.oneof(fc.constant(1), fc.integer({ min: 1, max: 60 }))), { maxLength: 150 }), fc.boolean(), fc.boolean(), fc.boolean(), (bursts, values, pcs, runs) => {
          // Each draw repeated as a burst of records that each start where the one before ended (head runs).
          const records: Rec[] = bursts.flatMap(([[kind, lo, hi, size, valueLo, valueHi], count]) => {
            const burst: Rec[] = [];
            let address = BigInt(lo >>> 0) + (BigInt(hi >>> 0) << 32n);
            for (let record = 0; record < count && address <= (1n << 64n) - BigInt(size); record++, address += BigInt(size)) {
              burst.push([kind, Number(address & 0xffffffffn), Number(address >> 32n), size, (valueLo + record) >>> 0, valueHi]);
            }
            return burst;
          });
          // A write or modify carries a value only at 1, 2, 4 or 8 bytes: narrow the others to the widest that fits.
          const written: Rec[] = records.map(([kind, lo, hi, size, valueLo, valueHi]) => {
            if ((kind !== RecordKind.Write && kind !== RecordKind.Modify) || !values) return [kind, lo, hi, size, 0, 0];
            const width = size >= 8 ? 8 : size >= 4 ? 4 : size >= 2 ? 2 : 1;
            const low = width >= 4 ? valueLo : valueLo & ((1 << (8 * width)) - 1);
            return [kind, lo, hi, width, low >>> 0, width === 8 ? valueHi : 0];
          });
          writeV2(path, written, { values, pcs, runs, chunkSeedBytes: 20_480 }, written.map((_, index) => [index * 977, index]));
          const read = recordsOf(path);
          assert.deepEqual(
            read.map(([kind, lo, hi, size, valueLo, valueHi]) => ((kind === RecordKind.Write || kind === RecordKind.Modify) && !values ? [kind, lo, hi, size, 0, 0] : [kind, lo, hi, size, valueLo, valueHi])),
            written,
          );
        }),
        { numRuns: 150 },
      );
    });
  });
});

/** Chunk offsets of a well-formed v2 file, from its trailer and index. */
function chunkOffsets(bytes: Buffer): { offsets: number[]; indexOffset: number } {
  const trailerAt = bytes.length - V2Layout.TrailerBytes;
  const indexOffset = bytes.readUInt32LE(trailerAt);
  const count = bytes.readUInt32LE(indexOffset + 4);
  const offsets: number[] = [];
  for (let chunk = 0; chunk < count; chunk++) offsets.push(bytes.readUInt32LE(indexOffset + V2Layout.IndexHeaderBytes + chunk * V2Layout.IndexEntryBytes));
  return { offsets, indexOffset };
}

/** Reads `bytes` as a trace file and returns its TraceFormatError (failing on any other outcome). */
function formatErrorOf(folder: string, bytes: Uint8Array, name = "bad.v2"): TraceFormatError {
  const path = join(folder, name);
  writeFileSync(path, bytes);
  try {
    feedRecords(path, new CollectingSink());
  } catch (error) {
    assert.ok(error instanceof TraceFormatError, `a TraceFormatError, not ${String(error)}`);
    assert.ok(error.message.startsWith(`${path}: byte offset ${error.byteOffset}: `), error.message);
    // Replay reads the same way and must fail alike.
    assert.throws(() => replayFile(path, createBackend("noop")), TraceFormatError);
    return error;
  }
  assert.fail(`${bytes.length} bytes read as a trace without an error`);
}

describe("v2 trace container: damaged files", () => {
  /** A small trace of several chunks, deflated and stored. */
  function sample(folder: string): Buffer {
    const path = join(folder, "good.v2");
    const records: Rec[] = [];
    for (let index = 0; index < 6000; index++) records.push([index % 3, (index * 40) >>> 0, index % 7 === 0 ? 1 : 0, 1 << index % 4, index, 0]);
    writeV2(path, records, { chunkSeedBytes: 20_480, pcs: true }, records.map((_, index) => [index, 0]));
    return readFileSync(path);
  }

  it("a file cut anywhere is a TraceFormatError naming the file and an offset (the chunk, mid-chunk)", () => {
    withTempDir((folder) => {
      const bytes = sample(folder);
      const { offsets, indexOffset } = chunkOffsets(bytes);
      assert.ok(offsets.length >= 3, `${offsets.length} chunks`);
      const cuts = new Set<number>([1, 7, 8, 20, 31, 32, 33, offsets[1] - 1, offsets[1], offsets[1] + 10, offsets[1] + 64, offsets[2] - 3, indexOffset, indexOffset + 3, indexOffset + 9, bytes.length - 16, bytes.length - 9, bytes.length - 1]);
      for (let cut = 1; cut < bytes.length; cut += 97) cuts.add(cut);
      for (const cut of cuts) {
        const error = formatErrorOf(folder, bytes.subarray(0, cut));
        assert.ok(error.byteOffset <= cut, `cut at ${cut}: offset ${error.byteOffset}`);
        if (cut > offsets[1] + V2Layout.ChunkHeaderBytes && cut < offsets[2]) assert.match(error.message, /chunk 1\b/, `cut at ${cut}`);
      }
    });
  });

  it("a flipped byte in a chunk's payload or header, the file header, the index or the trailer is a TraceFormatError", () => {
    withTempDir((folder) => {
      const bytes = sample(folder);
      const { offsets, indexOffset } = chunkOffsets(bytes);
      const flipped = (at: number): Buffer => {
        const copy = Buffer.from(bytes);
        copy[at] ^= 0x10;
        return copy;
      };
      const payload = formatErrorOf(folder, flipped(offsets[1] + V2Layout.ChunkHeaderBytes + 5));
      assert.equal(payload.byteOffset, offsets[1]);
      assert.match(payload.message, /chunk 1: payload CRC mismatch/);
      const header = formatErrorOf(folder, flipped(offsets[2] + V2Layout.ChunkRecordsAt));
      assert.equal(header.byteOffset, offsets[2]);
      assert.match(header.message, /chunk 2: .*CRC/);
      assert.match(formatErrorOf(folder, flipped(V2Layout.FileFlagsAt)).message, /file header CRC/);
      assert.match(formatErrorOf(folder, flipped(indexOffset + V2Layout.IndexHeaderBytes + 2)).message, /index CRC/);
      assert.match(formatErrorOf(folder, flipped(bytes.length - 12)).message, /trailer/);
    });
  });

  it("another version, and bytes after the trailer, are TraceFormatErrors", () => {
    withTempDir((folder) => {
      const bytes = sample(folder);
      const version = Buffer.from(bytes);
      version.writeUInt16LE(3, V2Layout.FileVersionAt);
      const error = formatErrorOf(folder, version);
      assert.equal(error.byteOffset, V2Layout.FileVersionAt);
      assert.match(error.message, /version 3; this memspace reads version 2/);
      const extra = formatErrorOf(folder, Buffer.concat([bytes, Buffer.of(0)]));
      assert.equal(extra.byteOffset, bytes.length);
      assert.match(extra.message, /bytes after the trailer/);
    });
  });

  it("random byte mutations decode to the same records or raise a TraceFormatError, nothing else", () => {
    withTempDir((folder) => {
      const good = join(folder, "good.v2");
      const records: Rec[] = [];
      for (let index = 0; index < 3000; index++) records.push([index % 3, (index * 24 + (index % 5) * 4096) >>> 0, 0, index % 11 === 0 ? 3 : 4, 0, 0]);
      writeV2(good, records, { chunkSeedBytes: 20_480, values: false });
      const bytes = readFileSync(good);
      const expected = recordsOf(good);
      const path = join(folder, "mutated.v2");
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 4 }), (mutations) => {
          const copy = Buffer.from(bytes);
          for (const [at, xor] of mutations) copy[at] ^= xor;
          writeFileSync(path, copy);
          try {
            assert.deepEqual(recordsOf(path), expected);
          } catch (error) {
            if (!(error instanceof TraceFormatError)) throw error;
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});

/** Sets a u32 field of the chunk header at `chunkAt` and recomputes the header's CRC, as a writer of a crafted file would. */
function setChunkField(bytes: Buffer, chunkAt: number, fieldAt: number, value: number): void {
  bytes.writeUInt32LE(value >>> 0, chunkAt + fieldAt);
  bytes.writeUInt32LE(crc32(bytes.subarray(chunkAt, chunkAt + V2Layout.ChunkHeaderCrcAt)), chunkAt + V2Layout.ChunkHeaderCrcAt);
}

describe("v2 trace container: chunk headers with valid CRCs but impossible fields", () => {
  it("a chunk header claiming a 4 GiB payload is a TraceFormatError naming chunk 0 (not a read error)", () => {
    withTempDir((folder) => {
      const path = join(folder, "good.v2");
      writeV2(path, [[RecordKind.Read, 0, 0, 8, 0, 0]]);
      const bytes = Buffer.from(readFileSync(path));
      const chunkAt = V2Layout.FileHeaderBytes;
      // No records, and one column (addresses) as long as the stored payload: the header's sums add up.
      for (const field of [V2Layout.ChunkRecordsAt, V2Layout.ChunkCodecAt, V2Layout.ChunkReadsAt, V2Layout.ChunkSeedBytesAt]) setChunkField(bytes, chunkAt, field, 0);
      for (const field of [V2Layout.ChunkStoredBytesAt, V2Layout.ChunkRawBytesAt, V2Layout.ChunkAddressBytesAt]) setChunkField(bytes, chunkAt, field, 0xfffffff0);
      const error = formatErrorOf(folder, bytes);
      assert.equal(error.byteOffset, chunkAt);
      assert.match(error.message, /chunk 0/);
    });
  });

  it("a chunk whose records take more seed bytes than the file's chunk limit is a TraceFormatError, whatever its header says", () => {
    withTempDir((folder) => {
      const path = join(folder, "good.v2");
      const fetchSeedBytes = (4096 / 2) * 10;
      writeV2(path, Array.from({ length: 100 }, (_, index): Rec => [RecordKind.Fetch, index * 4096, 0, 4096, 0, 0]), { chunkSeedBytes: 100 * fetchSeedBytes });
      const bytes = Buffer.from(readFileSync(path));
      // The file's limit lowered to two such fetches, and the chunk's seed size understated to fit it.
      bytes.writeUInt32LE(2 * fetchSeedBytes, V2Layout.FileChunkLimitAt);
      bytes.writeUInt32LE(crc32(bytes.subarray(0, V2Layout.FileHeaderCrcAt)), V2Layout.FileHeaderCrcAt);
      setChunkField(bytes, V2Layout.FileHeaderBytes, V2Layout.ChunkSeedBytesAt, fetchSeedBytes);
      const error = formatErrorOf(folder, bytes);
      assert.match(error.message, /chunk 0/);
    });
  });
});

/** Each chunk's number, first record, records, raw length and CRC, from decodeV2Parallel with `workers` workers. */
function payloadsInParallel(path: string, workers: number, consumerDecodes: boolean): string[] {
  const trace = openTrace(path);
  const chunks: string[] = [];
  try {
    const visit = (raw: Uint8Array, info: { records: number }, firstRecord: number, chunkNumber: number): number => chunks.push(`${chunkNumber}:${firstRecord}:${info.records}:${raw.length}:${crc32(raw)}`);
    decodeV2Parallel(trace.input, trace.v2Header!, readV2Index(trace.input), workers, { payloads: true, visit }, undefined, consumerDecodes);
  } finally {
    trace.input.close();
  }
  return chunks;
}

/** Each chunk's number, first record and records, decoded into columns by decodeV2Parallel with `workers` workers. */
function columnsInParallel(path: string, workers: number, consumerDecodes: boolean): string[] {
  const trace = openTrace(path);
  const chunks: string[] = [];
  try {
    const visit = (columns: { count: number }, firstRecord: number, chunkNumber: number): number => chunks.push(`${chunkNumber}:${firstRecord}:${columns.count}`);
    decodeV2Parallel(trace.input, trace.v2Header!, readV2Index(trace.input), workers, { payloads: false, visit }, undefined, consumerDecodes);
  } finally {
    trace.input.close();
  }
  return chunks;
}

describe("v2 replay straight from chunk payloads", () => {
  /** What replayFile reports that must not depend on how the chunks are read. */
  const outcome = (path: string, decodeWorkers: number): [number, number, number, bigint] => {
    const result = replayFile(path, createBackend("paged"), { decodeWorkers });
    return [result.ops, result.reads, result.writes, result.checksum];
  };

  it("forEachV2Payload hands over every chunk's raw payload, header and first record, in order, in this thread and from workers", () => {
    withTempDir((folder) => {
      const path = join(folder, "a.v2");
      const records: Rec[] = [];
      for (let index = 0; index < 5000; index++) records.push([index % 3, index * 16, 0, 2 << index % 3, index, 0]);
      writeV2(path, records, { chunkSeedBytes: 20_480 });
      const seen = (decodeWorkers: number): string[] => {
        const trace = openTrace(path);
        const chunks: string[] = [];
        try {
          forEachV2Payload(trace.input, trace.v2Header!, (raw, info, firstRecord, chunkNumber) => chunks.push(`${chunkNumber}:${firstRecord}:${info.records}:${raw.length}:${crc32(raw)}`), { decodeWorkers });
        } finally {
          trace.input.close();
        }
        return chunks;
      };
      const inThread = seen(0);
      assert.ok(inThread.length >= 3, `${inThread.length} chunks`);
      assert.equal(inThread.map((chunk) => Number(chunk.split(":")[2])).reduce((a, b) => a + b), records.length);
      assert.deepEqual(seen(1), inThread);
      assert.deepEqual(seen(2), inThread);
      assert.deepEqual(payloadsInParallel(path, 0, true), inThread, "every chunk decoded by the consuming thread");
      assert.deepEqual(payloadsInParallel(path, 1, false), inThread, "every chunk decoded by the worker");
    });
  });

  it("modifies of 2, 4 and 8 bytes replay their stored values, as their seed conversion does", () => {
    withTempDir((folder) => {
      const v2 = join(folder, "m.v2");
      const seed = join(folder, "m.trace");
      // The later loads read what the modifies wrote, so a wrong value changes the checksum.
      const records: Rec[] = [
        [RecordKind.Fetch, 0xfffffff0, 0, 2, 0, 0],
        [RecordKind.Modify, 0xfffffff1, 0, 2, 0x100, 0],
        [RecordKind.Fetch, 0xfffffff2, 0, 1, 0, 0],
        [RecordKind.Modify, 0x2000, 0, 4, 0x11223344, 0],
        [RecordKind.Read, 0x2000, 0, 4, 0, 0],
        [RecordKind.Modify, 0x3000, 0, 8, 0x55667788, 0x99aabbcc],
        [RecordKind.Read, 0x3000, 0, 8, 0, 0],
      ];
      writeV2(v2, records, { values: true });
      convertTrace(v2, seed, "seed");
      const expected = outcome(seed, 0);
      assert.notEqual(expected[3], 0n);
      for (const workers of [0, 1]) assert.deepEqual(outcome(v2, workers), expected, `${workers} workers`);
    });
  });

  it("random traces (fetch runs, deltas of every length, odd sizes, the top of the space) replay as their seed conversion, on 0, 1 and 2 workers", () => {
    // Addresses near a few bases, so deltas take one byte as often as ten.
    const bases = [0x10000n, 0x7fff0000n, 0xfffffff0n, (1n << 64n) - 0x100n, 0x123456789an];
    const recordArb = fc
      .tuple(fc.constantFrom(RecordKind.Fetch, RecordKind.Fetch, RecordKind.Read, RecordKind.Read, RecordKind.Write, RecordKind.Modify), fc.oneof(fc.constantFrom(2, 2, 4, 1, 8), fc.integer({ min: 1, max: 40 })), fc.constantFrom(...bases), fc.integer({ min: 0, max: 200 }), fc.integer(), fc.boolean())
      .map(([kind, size, base, offset, value, sequential]): [RecordKind, number, bigint, number, boolean] => [kind, size, base + BigInt(offset), value >>> 0, sequential]);
    withTempDir((folder) => {
      const v2 = join(folder, "r.v2");
      const seed = join(folder, "r.trace");
      fc.assert(
        fc.property(fc.array(recordArb, { maxLength: 4000 }), fc.boolean(), (draws, values) => {
          const ends = new Map<RecordKind, bigint>();
          const records: Rec[] = draws.map(([kind, drawnSize, drawnAddress, value, sequential]) => {
            // A write with a value is 1, 2, 4 or 8 bytes; a sequential record continues its kind's stream (a zero delta).
            const carriesValue = (kind === RecordKind.Write || kind === RecordKind.Modify) && values;
            const size = carriesValue ? [1, 2, 4, 8].find((width) => width >= drawnSize) ?? 8 : drawnSize;
            let address = sequential && ends.has(kind) ? ends.get(kind)! : drawnAddress;
            if (address > (1n << 64n) - BigInt(size)) address = (1n << 64n) - BigInt(size);
            ends.set(kind, (address + BigInt(size)) % (1n << 64n));
            const valueLo = carriesValue ? (size >= 4 ? value : value & ((1 << (8 * size)) - 1)) >>> 0 : 0;
            return [kind, Number(address & 0xffffffffn), Number(address >> 32n), size, valueLo, carriesValue && size === 8 ? value ^ 0x5a5a5a5a : 0];
          });
          writeV2(v2, records, { values, chunkSeedBytes: 20_480 });
          convertTrace(v2, seed, "seed");
          const expected = outcome(seed, 0);
          for (const workers of [0, 1, 2]) assert.deepEqual(outcome(v2, workers), expected, `${workers} workers`);
        }),
        { numRuns: 40 },
      );
    });
  });

  it("a chunk with valid CRCs but a bad head, a bad varint, an access past the top or a wrong seed size fails replay as the analyses' decoder names it, on 0 and 1 workers", () => {
    withTempDir((folder) => {
      const path = join(folder, "good.v2");
      const records: Rec[] = [];
      for (let index = 0; index < 40; index++) records.push([RecordKind.Read, 0x1000 + index * 2, 0, 2, 0, 0]);
      records.push([RecordKind.Write, 0x2000, 0, 4, 0xabcd, 0], [RecordKind.Read, 0xfffffffc, TOP_HI, 4, 0, 0], [RecordKind.Read, 0x1050, 0, 2, 0, 0], [RecordKind.Read, 0x1152, 0, 2, 0, 0]);
      // Level 0: deflate saves nothing, so the payload is stored and can be edited in place;
      // without runs, record i's head is byte i of the payload.
      writeV2(path, records, { deflateLevel: 0, runs: false });
      const good = readFileSync(path);
      const chunkAt = V2Layout.FileHeaderBytes;
      const payloadAt = chunkAt + V2Layout.ChunkHeaderBytes;
      assert.equal(good.readUInt32LE(chunkAt + V2Layout.ChunkCodecAt), 0, "stored");
      const edited = (edit: (bytes: Buffer) => void): Buffer => editedFirstChunk(good, edit);
      const addressAt = payloadAt + records.length;
      const cases: [Buffer, RegExp][] = [
        // A run's head in a file without runs.
        [edited((bytes) => (bytes[payloadAt + 5] = 0x20)), /chunk 0: record 5: bad head byte/],
        [edited((bytes) => bytes.fill(0xff, addressAt + 3, addressAt + 14)), /chunk 0: record 2: bad address varint/],
        // The last delta (2 bytes) made to continue past the address column's end.
        [edited((bytes) => (bytes[addressAt + bytes.readUInt32LE(chunkAt + V2Layout.ChunkAddressBytesAt) - 1] |= 0x80)), /chunk 0: record 43: bad address varint/],
        // The 4-byte read that ends at the top of the space made an 8-byte one.
        [edited((bytes) => (bytes[payloadAt + 41] = RecordKind.Read | (3 << 2))), /chunk 0: record 41: access runs past the top/],
        [edited((bytes) => setChunkField(bytes, chunkAt, V2Layout.ChunkSeedBytesAt, bytes.readUInt32LE(chunkAt + V2Layout.ChunkSeedBytesAt) - 2)), /chunk 0: records come to \d+ seed bytes/],
        // The address column claims the head column's last byte: the heads run out at the last record.
        [edited((bytes) => setChunkField(bytes, chunkAt, V2Layout.ChunkAddressBytesAt, bytes.readUInt32LE(chunkAt + V2Layout.ChunkAddressBytesAt) + 1)), /chunk 0: record 43: head column ends early/],
        // A read made a fetch: the header's kind counts no longer match.
        [edited((bytes) => (bytes[payloadAt + 2] = RecordKind.Fetch | (1 << 2))), /chunk 0: record kinds disagree/],
      ];
      for (const [bytes, message] of cases) assertEveryReaderFails(folder, bytes, message, chunkAt);
    });
  });

  it("a run of the head column with a length of 0, a length past the chunk's records or an explicit size fails alike on every path", () => {
    withTempDir((folder) => {
      const path = join(folder, "good.v2");
      const records: Rec[] = [];
      for (let index = 0; index < 40; index++) records.push([RecordKind.Read, 0x1000 + index * 2, 0, 2, 0, 0]);
      records.push([RecordKind.Write, 0x2000, 0, 4, 0xabcd, 0], [RecordKind.Read, 0x1050, 0, 2, 0, 0], [RecordKind.Read, 0x1052, 0, 2, 0, 0]);
      writeV2(path, records, { deflateLevel: 0 });
      const good = readFileSync(path);
      const chunkAt = V2Layout.FileHeaderBytes;
      const payloadAt = chunkAt + V2Layout.ChunkHeaderBytes;
      // The head column: the 40 reads as one run (head, 39), the write, then the last two reads as a run (head, 1).
      const read2 = RecordKind.Read | (1 << 2);
      assert.deepEqual([...good.subarray(payloadAt, payloadAt + 5)], [0x20 | read2, 39, RecordKind.Write | (2 << 2), 0x20 | read2, 1]);
      assert.deepEqual(recordsOf(path), records);
      const edited = (edit: (bytes: Buffer) => void): Buffer => editedFirstChunk(good, edit);
      const cases: [Buffer, RegExp][] = [
        [edited((bytes) => (bytes[payloadAt + 1] = 0)), /chunk 0: record 0: bad run length/],
        [edited((bytes) => (bytes[payloadAt + 4] = 2)), /chunk 0: record 41: bad run length/],
        [edited((bytes) => (bytes[payloadAt] = 0x20 | RecordKind.Read | (4 << 2))), /chunk 0: record 0: bad head byte/],
        // The first run one record longer: the later records shift by one, and the last run then ends past the chunk.
        [edited((bytes) => (bytes[payloadAt + 1] = 40)), /chunk 0: record 42: bad run length/],
      ];
      for (const [bytes, message] of cases) assertEveryReaderFails(folder, bytes, message, chunkAt);
    });
  });
});

describe("v2 trace container: parcel runs (fetches of 2 and 4 bytes in sequence)", () => {
  it("fold an instruction stream into one head, a length and a bit a fetch, read back as the fetches they were", () => {
    withTempDir((folder) => {
      const path = join(folder, "parcels.v2");
      const records: Rec[] = [];
      let pc = 0x10000;
      for (let index = 0; index < 10; index++) {
        const size = index % 3 === 1 ? 4 : 2;
        records.push([RecordKind.Fetch, pc, 0, size, 0, 0]);
        pc += size;
      }
      records.push([RecordKind.Read, 0x2000, 0, 8, 0, 0]);
      writeV2(path, records, { deflateLevel: 0 });
      const good = readFileSync(path);
      const chunkAt = V2Layout.FileHeaderBytes;
      const payloadAt = chunkAt + V2Layout.ChunkHeaderBytes;
      // 0x34 (a parcel run), 9 more fetches, then a bit a fetch (fetches 1, 4 and 7 are 4 bytes), then the read's head.
      assert.deepEqual([...good.subarray(payloadAt, payloadAt + 5)], [0x34, 9, 0b10010010, 0b00, RecordKind.Read | (3 << 2)]);
      assert.deepEqual(recordsOf(path), records);
      const edited = (edit: (bytes: Buffer) => void): Buffer => editedFirstChunk(good, edit);
      const cases: [Buffer, RegExp][] = [
        // A bit past the run's 10 fetches.
        [edited((bytes) => (bytes[payloadAt + 3] = 0b100)), /chunk 0: record 0: bad run length/],
        // A head of the parcel-run family that is no parcel run.
        [edited((bytes) => (bytes[payloadAt] = 0x35)), /chunk 0: record 0: bad head byte/],
        // A 4-byte fetch where a 2-byte one was: the fetches no longer come to the header's seed bytes.
        [edited((bytes) => (bytes[payloadAt + 2] |= 1)), /chunk 0: records come to \d+ seed bytes/],
      ];
      for (const [bytes, message] of cases) assertEveryReaderFails(folder, bytes, message, chunkAt);
    });
  });
});

/** A copy of the v2 file `good` with `edit` made to it, and its first chunk's payload CRC set to match (a stored payload, edited in place). */
function editedFirstChunk(good: Buffer, edit: (bytes: Buffer) => void): Buffer {
  const chunkAt = V2Layout.FileHeaderBytes;
  const payloadAt = chunkAt + V2Layout.ChunkHeaderBytes;
  const bytes = Buffer.from(good);
  edit(bytes);
  setChunkField(bytes, chunkAt, V2Layout.ChunkPayloadCrcAt, crc32(bytes.subarray(payloadAt, payloadAt + bytes.readUInt32LE(chunkAt + V2Layout.ChunkStoredBytesAt))));
  return bytes;
}

/**
 * Writes `bytes` as bad.v2 in `folder` and checks that the analyses' decoder fails on it with
 * `message` at `chunkAt`, and replay (in this thread and with a decode worker) and parallel
 * column decoding (by the consumer and by a worker) with the very same message.
 */
function assertEveryReaderFails(folder: string, bytes: Buffer, message: RegExp, chunkAt: number): void {
  const decoded = formatErrorOf(folder, bytes);
  assert.match(decoded.message, message);
  assert.equal(decoded.byteOffset, chunkAt);
  for (const decodeWorkers of [0, 1]) {
    assert.throws(
      () => replayFile(join(folder, "bad.v2"), createBackend("paged"), { decodeWorkers }),
      (error: unknown) => error instanceof TraceFormatError && error.message === decoded.message,
      `${decodeWorkers} workers: ${decoded.message}`,
    );
  }
  for (const [workers, consumerDecodes] of [[0, true], [1, false]] as const) {
    assert.throws(
      () => columnsInParallel(join(folder, "bad.v2"), workers, consumerDecodes),
      (error: unknown) => error instanceof TraceFormatError && error.message === decoded.message,
      `decoded by ${consumerDecodes ? "the consumer" : "a worker"}: ${decoded.message}`,
    );
  }
}
