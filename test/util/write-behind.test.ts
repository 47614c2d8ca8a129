import assert from "node:assert/strict";
import { closeSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { TraceWriter } from "../../src/trace/writer.js";
import { WriteBehind } from "../../src/util/write-behind.js";
import { withTempDir } from "../helpers.js";

const SLOT_BYTES = 64;

/** A write-behind ring of two slots over `fd`, its first slot filled with `lengthBytes` bytes of 7 and handed over. */
function submitOne(fd: number, name: string, lengthBytes: number): WriteBehind {
  const data = new SharedArrayBuffer(2 * SLOT_BYTES);
  new Uint8Array(data).fill(7, 0, lengthBytes);
  const ring = new WriteBehind(fd, data, 2, SLOT_BYTES, name);
  ring.submit(0, lengthBytes);
  return ring;
}

describe("write-behind (a writer thread appending full buffers)", () => {
  it("writes what was handed over, in order, before finish returns", () => {
    withTempDir((folder) => {
      const path = join(folder, "out.bin");
      const fd = openSync(path, "w");
      const data = new SharedArrayBuffer(2 * SLOT_BYTES);
      const bytes = new Uint8Array(data);
      const ring = new WriteBehind(fd, data, 2, SLOT_BYTES, path);
      const expected: number[] = [];
      for (let round = 0; round < 10; round++) {
        const slot = round % 2;
        ring.waitFree(slot);
        const length = 1 + ((round * 13) % SLOT_BYTES);
        for (let index = 0; index < length; index++) {
          bytes[slot * SLOT_BYTES + index] = (round * 31 + index) & 0xff;
          expected.push((round * 31 + index) & 0xff);
        }
        ring.submit(slot, length);
      }
      ring.finish();
      closeSync(fd);
      assert.deepEqual([...readFileSync(path)], expected);
    });
  });

  it("a failed write is an error naming the output and the system's reason (a full device)", () => {
    const fd = openSync("/dev/full", "w");
    try {
      const ring = submitOne(fd, "trace.out", 10);
      assert.throws(() => ring.waitFree(0), /^Error: trace\.out: ENOSPC/);
      ring.abandon();
    } finally {
      closeSync(fd);
    }
  });

  it("finish reports a write that failed (a descriptor not open for writing)", () => {
    withTempDir((folder) => {
      const path = join(folder, "read-only.bin");
      writeFileSync(path, "");
      const fd = openSync(path, "r");
      try {
        const ring = submitOne(fd, path, 5);
        assert.throws(() => ring.finish(), (error: Error) => error.message.startsWith(`${path}: EBADF`));
      } finally {
        closeSync(fd);
      }
    });
  });

  it("a trace discarded after its writer thread started leaves the target as it was and no temporary file", () => {
    withTempDir((folder) => {
      const path = join(folder, "kept.trace");
      writeFileSync(path, "before");
      const writer = new TraceWriter(path, { bufferBytes: 100, writeBehindFromBytes: 0 });
      for (let index = 0; index < 1000; index++) writer.read(index * 8, 0, 8);
      writer.discard();
      assert.equal(readFileSync(path, "utf8"), "before");
      assert.deepEqual(readdirSync(folder), ["kept.trace"]);
    });
  });
});
