import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, it } from "node:test";
import fc from "fast-check";
import type { MemoryAccess } from "../../src/space/backend.js";
import { ReplayTally } from "../../src/trace/replay-tally.js";
import { openTrace } from "../../src/trace/trace-input.js";
import { buildAccessRuns, maxRunWords } from "../../src/trace/v2/access-runs.js";
import { crc32 } from "node:zlib";
import { readFileSync, writeFileSync } from "node:fs";
import { TraceFormatError } from "../../src/trace/format.js";
import { readV2Payloads, readV2Sequential } from "../../src/trace/v2/reader.js";
import { replayAccessRuns } from "../../src/trace/v2/replay-runs.js";
import { replayPayload } from "../../src/trace/v2/replay-payload.js";
import { RecordKind, V2Flag, V2Layout } from "../../src/trace/v2/layout.js";
import { V2TraceWriter } from "../../src/trace/v2/writer.js";
import { withTempDir } from "../helpers.js";

/** A sink that writes down every call, in order; loads return a value derived from the address. */
class CallLog implements MemoryAccess {
  readonly calls: string[] = [];
  loadHigh = 0;
  loads = 0;
  stores = 0;
  private value(lo: number, hi: number): number {
    return (Math.imul(lo, 0x9e3779b1) ^ hi) >>> 0;
  }
  load8(lo: number, hi: number): number {
    this.calls.push(`l1 ${lo >>> 0} ${hi >>> 0}`);
    return this.value(lo, hi) & 0xff;
  }
  load16(lo: number, hi: number): number {
    this.calls.push(`l2 ${lo >>> 0} ${hi >>> 0}`);
    return this.value(lo, hi) & 0xffff;
  }
  load32(lo: number, hi: number): number {
    this.calls.push(`l4 ${lo >>> 0} ${hi >>> 0}`);
    return this.value(lo, hi);
  }
  load64(lo: number, hi: number): number {
    this.calls.push(`l8 ${lo >>> 0} ${hi >>> 0}`);
    this.loadHigh = this.value(hi, lo);
    return this.value(lo, hi);
  }
  store8(lo: number, hi: number, value: number): void {
    this.calls.push(`s1 ${lo >>> 0} ${hi >>> 0} ${value & 0xff}`);
  }
  store16(lo: number, hi: number, value: number): void {
    this.calls.push(`s2 ${lo >>> 0} ${hi >>> 0} ${value & 0xffff}`);
  }
  store32(lo: number, hi: number, value: number): void {
    this.calls.push(`s4 ${lo >>> 0} ${hi >>> 0} ${value >>> 0}`);
  }
  store64(lo: number, hi: number, valueLo: number, valueHi: number): void {
    this.calls.push(`s8 ${lo >>> 0} ${hi >>> 0} ${valueLo >>> 0} ${valueHi >>> 0}`);
  }
  fetchInstruction(): number {
    throw new Error("replay never fetches through fetchInstruction");
  }
  countAccesses(loads: number, stores: number): void {
    this.loads += loads;
    this.stores += stores;
  }
}

type Draw = [kind: RecordKind, sizeBytes: number, address: bigint, value: number];

/**
 * Writes `draws` as a v2 trace with values and small chunks (head runs as `headRuns` says);
 * for each chunk, the payload kernel's calls and the access runs' calls.
 */
function replayBothWays(path: string, draws: readonly Draw[], headRuns = true): { payload: CallLog; runs: CallLog; payloadTally: ReplayTally; runsTally: ReplayTally; chunksAsRuns: number } {
  const writer = new V2TraceWriter(path, { values: true, chunkSeedBytes: 20_480, runs: headRuns });
  for (const [kind, sizeBytes, address, value] of draws) {
    writer.append(kind, sizeBytes, Number(address & 0xffffffffn), Number(address >> 32n), sizeBytes >= 4 ? value : value & ((1 << (8 * sizeBytes)) - 1), sizeBytes === 8 ? value ^ 0x5a5a5a5a : 0, 0, 0);
  }
  writer.close();
  const payload = new CallLog();
  const runs = new CallLog();
  const payloadTally = new ReplayTally(path);
  const runsTally = new ReplayTally(path);
  let chunksAsRuns = 0;
  const trace = openTrace(path);
  try {
    const words = new Int32Array(maxRunWords(trace.v2Header!.maxChunkRecords));
    readV2Payloads(trace.input, (header) => (raw, info, firstRecord) => {
      replayPayload(payload, raw, info, header.flags, firstRecord, payloadTally);
      const wordCount = buildAccessRuns(raw, info, header.flags, words);
      assert.ok(wordCount >= 0, "a chunk of fetches, reads and writes with values is built as runs");
      assert.ok(wordCount <= maxRunWords(info.records));
      replayAccessRuns(runs, words, wordCount, runsTally);
      chunksAsRuns++;
    });
  } finally {
    trace.input.close();
  }
  return { payload, runs, payloadTally, runsTally, chunksAsRuns };
}

/**
 * The sink calls of replaying the v2 file at `path` with the payload kernel, or (`asRuns`)
 * with access runs where the builder takes the chunk and the payload kernel where it does
 * not, as decode workers do; as one string.
 */
function replayOneWay(path: string, asRuns: boolean): string {
  const log = new CallLog();
  const tally = new ReplayTally(path);
  const trace = openTrace(path);
  try {
    const words = new Int32Array(maxRunWords(trace.v2Header!.maxChunkRecords));
    readV2Payloads(trace.input, (header) => (raw, info, firstRecord) => {
      const wordCount = asRuns ? buildAccessRuns(raw, info, header.flags, words) : -1;
      if (wordCount >= 0) replayAccessRuns(log, words, wordCount, tally);
      else replayPayload(log, raw, info, header.flags, firstRecord, tally);
    });
  } finally {
    trace.input.close();
  }
  return JSON.stringify([log.calls, tally.reads, tally.writes, String(tally.checksum)]);
}

function assertSameReplay(path: string, draws: readonly Draw[], headRuns = true): number {
  const { payload, runs, payloadTally, runsTally, chunksAsRuns } = replayBothWays(path, draws, headRuns);
  assert.deepEqual(runs.calls, payload.calls);
  assert.deepEqual([runs.loads, runs.stores], [payload.loads, payload.stores]);
  assert.deepEqual([runsTally.reads, runsTally.writes, runsTally.checksum], [payloadTally.reads, payloadTally.writes, payloadTally.checksum]);
  return chunksAsRuns;
}

describe("access runs (what decode workers hand the replay)", () => {
  it("replay the same calls, in the same order, as the payload kernel: runs longer than a run holds, runs at the 2^32 line and the top of the space, mixed parcels, stores between loads", () => {
    withTempDir((folder) => {
      const draws: Draw[] = [];
      // 2500 fetches in a row (more than one run's 255 loads), then a short branch back.
      for (let parcel = 0; parcel < 2500; parcel++) draws.push([RecordKind.Fetch, parcel % 3 === 0 ? 4 : 2, 0x10000n + BigInt(draws.length * 3), 0]);
      // Reads sweeping across the 2^32 line, then across the top of the space's last 4 GiB.
      for (let element = 0; element < 40; element++) draws.push([RecordKind.Read, 4, 0xffffffc0n + BigInt(element * 4), 0]);
      for (let element = 0; element < 16; element++) draws.push([RecordKind.Read, 8, (1n << 64n) - 128n + BigInt(element * 8), 0]);
      // A sweep with stores in it: a load after a store must not join the run before the store.
      for (let element = 0; element < 30; element++) {
        draws.push([RecordKind.Read, 2, 0x5000n + BigInt(element * 2), 0]);
        if (element % 7 === 3) draws.push([RecordKind.Write, 2, 0x5000n + BigInt(element * 2 + 2), element]);
      }
      // Fetches of 1 and 8 bytes, and an 8-byte fetch that straddles the 2^32 line.
      draws.push([RecordKind.Fetch, 1, 0x7000n, 0], [RecordKind.Fetch, 8, 0x7001n, 0], [RecordKind.Fetch, 8, 0xfffffffcn, 0], [RecordKind.Fetch, 2, 0x100000004n, 0]);
      draws.push([RecordKind.Write, 8, (1n << 64n) - 8n, 0x12345678], [RecordKind.Write, 1, 0n, 0xab]);
      // The writer puts fetches in program order, so recompute fetch addresses as a stream with one branch.
      let pc = 0x10000n;
      for (let index = 0; index < 2500; index++) {
        draws[index][2] = index === 1200 ? 0x10000n : pc;
        pc = draws[index][2] + BigInt(draws[index][1]);
      }
      for (const headRuns of [true, false]) {
        const chunks = assertSameReplay(join(folder, "corners.v2"), draws, headRuns);
        assert.ok(chunks >= 2, `${chunks} chunks`);
      }
    });
  });

  it("ends a run at a read that straddles the 2^32 line: the next read, in the next 4 GiB, starts its own", () => {
    withTempDir((folder) => {
      // fast-check found it: the read after the straddling one joined its run and kept its high half.
      const { payload, runs } = replayBothWays(join(folder, "straddle.v2"), [
        [RecordKind.Read, 4, 0xfffffffdn, 0],
        [RecordKind.Read, 4, 0x100000001n, 0],
        [RecordKind.Read, 4, 0x100000005n, 0],
      ]);
      const expected = [`l4 ${0xfffffffd} 0`, "l4 1 1", "l4 5 1"];
      assert.deepEqual(payload.calls, expected);
      assert.deepEqual(runs.calls, expected);
    });
  });

  it("takes a 4-byte fetch at an odd address across the 2^32 line as its seed pieces: the second parcel in the next 4 GiB", () => {
    withTempDir((folder) => {
      // fast-check found it: the payload kernel gave the second parcel the first one's high half.
      const { payload, runs } = replayBothWays(join(folder, "odd.v2"), [
        [RecordKind.Fetch, 4, 0xfffffffbn, 0],
        [RecordKind.Fetch, 4, 0xffffffffn, 0],
      ]);
      const expected = [`l2 ${0xfffffffb} 0`, `l2 ${0xfffffffd} 0`, `l2 ${0xffffffff} 0`, "l2 1 1"];
      assert.deepEqual(payload.calls, expected);
      assert.deepEqual(runs.calls, expected);
    });
  });

  it("random streams of fetches, reads and writes replay the same calls as the payload kernel (fast-check)", () => {
    const bases = [0x10000n, 0xffffff00n, (1n << 64n) - 0x200n, 0x123456789an];
    const drawArb = fc
      .tuple(fc.constantFrom(RecordKind.Fetch, RecordKind.Fetch, RecordKind.Read, RecordKind.Read, RecordKind.Write), fc.constantFrom(1, 2, 2, 4, 4, 8), fc.constantFrom(...bases), fc.integer({ min: 0, max: 300 }), fc.integer(), fc.integer({ min: 0, max: 3 }))
      .map(([kind, size, base, offset, value, sequential]) => ({ kind, size, address: base + BigInt(offset), value: value >>> 0, sequential: sequential > 0 }));
    withTempDir((folder) => {
      fc.assert(
        fc.property(fc.array(drawArb, { maxLength: 3000 }), fc.boolean(), (picks, headRuns) => {
          const ends = new Map<RecordKind, bigint>();
          const draws: Draw[] = picks.map(({ kind, size, address, value, sequential }) => {
            let at = sequential && ends.has(kind) ? ends.get(kind)! : address;
            if (at > (1n << 64n) - BigInt(size)) at = (1n << 64n) - BigInt(size);
            ends.set(kind, (at + BigInt(size)) % (1n << 64n));
            return [kind, size, at, value];
          });
          assertSameReplay(join(folder, "r.v2"), draws, headRuns);
        }),
        { numRuns: 60 },
      );
    });
  });

  it("random bursts of sequential records (head runs across slices, past a load run's 255, over the 2^32 line and into the top of the space) replay the same calls as the payload kernel (fast-check)", () => {
    const bases = [0x10000n, 0xfffff000n, (1n << 64n) - 0x1000n];
    const burstArb = fc
      .tuple(fc.constantFrom(RecordKind.Fetch, RecordKind.Read, RecordKind.Read, RecordKind.Write), fc.constantFrom(1, 2, 4, 8), fc.constantFrom(...bases), fc.integer({ min: 0, max: 0x800 }), fc.integer({ min: 1, max: 700 }), fc.integer(), fc.boolean())
      .map(([kind, size, base, offset, count, value, continues]) => ({ kind, size, address: base + BigInt(offset), count, value: value >>> 0, continues }));
    withTempDir((folder) => {
      fc.assert(
        fc.property(fc.array(burstArb, { maxLength: 40 }), (bursts) => {
          const ends = new Map<RecordKind, bigint>();
          const draws: Draw[] = [];
          for (const { kind, size, address, count, value, continues } of bursts) {
            let at = continues && ends.has(kind) ? ends.get(kind)! : address;
            for (let record = 0; record < count; record++) {
              if (at > (1n << 64n) - BigInt(size)) at = 0n;
              draws.push([kind, size, at, (value + record) >>> 0]);
              at = (at + BigInt(size)) % (1n << 64n);
            }
            ends.set(kind, at);
          }
          assertSameReplay(join(folder, "b.v2"), draws);
        }),
        { numRuns: 40 },
      );
    });
  });

  it("a payload mutated under valid CRCs (runs, parcel runs, loads and stores): the column decoder, the payload kernel and the access runs all take it, making the same calls, or all refuse it with the same error (fast-check)", () => {
    withTempDir((folder) => {
      // Basic blocks of 2- and 4-byte instructions, each with a few loads and a store, branching back.
      const good = join(folder, "good.v2");
      const writer = new V2TraceWriter(good, { values: true, deflateLevel: 0 });
      for (let block = 0; block < 60; block++) {
        let pc = 0x10000 + (block % 7) * 32;
        for (let instruction = 0; instruction < 6 + (block % 5); instruction++) {
          const size = (instruction + block) % 3 === 0 ? 4 : 2;
          writer.append(RecordKind.Fetch, size, pc, 0, 0, 0, 0, 0);
          pc += size;
        }
        for (let load = 0; load < block % 4; load++) writer.append(RecordKind.Read, 8, 0x8000 + block * 64 + load * 8, 0, 0, 0, 0, 0);
        if (block % 3 === 0) writer.append(RecordKind.Write, 4, 0x9000 + block * 4, 0, block, 0, 0, 0);
      }
      writer.close();
      const bytes = readFileSync(good);
      const chunkAt = V2Layout.FileHeaderBytes;
      const payloadAt = chunkAt + V2Layout.ChunkHeaderBytes;
      const storedBytes = bytes.readUInt32LE(chunkAt + V2Layout.ChunkStoredBytesAt);
      assert.equal(bytes.readUInt32LE(chunkAt + V2Layout.ChunkCodecAt), 0, "stored, so it can be edited in place");
      const path = join(folder, "mutated.v2");
      /** Runs `read`; its result, or the TraceFormatError's message ("error: ..."). */
      const attempt = (read: () => string): string => {
        try {
          return read();
        } catch (error) {
          if (error instanceof TraceFormatError) return `error: ${error.message}`;
          throw error;
        }
      };
      const decoded = (): string => {
        const trace = openTrace(path);
        try {
          let records = 0;
          readV2Sequential(trace.input, (columns) => (records += columns.count));
          return "ok";
        } finally {
          trace.input.close();
        }
      };
      fc.assert(
        fc.property(fc.array(fc.tuple(fc.nat(storedBytes - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 3 }), (mutations) => {
          const copy = Buffer.from(bytes);
          for (const [at, xor] of mutations) copy[payloadAt + at] ^= xor;
          copy.writeUInt32LE(crc32(copy.subarray(payloadAt, payloadAt + storedBytes)), chunkAt + V2Layout.ChunkPayloadCrcAt);
          writeFileSync(path, copy);
          const columns = attempt(decoded);
          const payload = attempt(() => replayOneWay(path, false));
          const runs = attempt(() => replayOneWay(path, true));
          assert.equal(payload, runs, "payload kernel and access runs");
          assert.equal(columns.startsWith("error"), payload.startsWith("error"), `decoder ${columns}, kernels ${payload.slice(0, 200)}`);
          if (columns.startsWith("error")) assert.equal(columns, payload);
        }),
        { numRuns: 300 },
      );
    });
  });

  it("leaves chunks with modifies, explicit sizes or no values to the payload kernel", () => {
    withTempDir((folder) => {
      const cases: [string, (writer: V2TraceWriter) => void, boolean][] = [
        ["modify", (writer) => writer.append(RecordKind.Modify, 4, 0x100, 0, 1, 0, 0, 0), true],
        ["odd size", (writer) => writer.append(RecordKind.Read, 3, 0x100, 0, 0, 0, 0, 0), true],
        ["no values", (writer) => writer.append(RecordKind.Write, 4, 0x100, 0, 0, 0, 0, 0), false],
      ];
      for (const [name, append, values] of cases) {
        const path = join(folder, `${name}.v2`);
        const writer = new V2TraceWriter(path, { values });
        writer.append(RecordKind.Read, 2, 0x10, 0, 0, 0, 0, 0);
        append(writer);
        writer.close();
        const trace = openTrace(path);
        try {
          const words = new Int32Array(maxRunWords(trace.v2Header!.maxChunkRecords));
          readV2Payloads(trace.input, (header) => (raw, info) => {
            assert.equal(header.flags & V2Flag.Values, values ? V2Flag.Values : 0);
            assert.equal(buildAccessRuns(raw, info, header.flags, words), -1, name);
          });
        } finally {
          trace.input.close();
        }
      }
    });
  });
});
