/**
 * Worker side of the read-ahead trace source: fills slots of the shared buffer in ring
 * order, each with as many bytes as fit (a full chunk except at the end of the file), and
 * marks them full. A slot of length 0 means end of file; -1 a read error (sent on errorPort).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { ChunkState, type ReadAheadSetup } from "./read-ahead-layout.js";

const setup = workerData as ReadAheadSetup;
const control = new Int32Array(setup.buffer, 0, 2 * setup.slotCount + 1);
const bytes = new Uint8Array(setup.buffer);
const cancelWord = 2 * setup.slotCount;

function fill(slot: number, length: number): void {
  Atomics.store(control, setup.slotCount + slot, length);
  Atomics.store(control, slot, ChunkState.Full);
  Atomics.notify(control, slot);
}

let fd = -1;
let slot = setup.firstSlot;
let position = setup.firstFileOffset;
try {
  fd = openSync(setup.path, "r");
  for (;;) {
    while (Atomics.load(control, slot) !== ChunkState.Empty && Atomics.load(control, cancelWord) === 0) {
      Atomics.wait(control, slot, ChunkState.Full);
    }
    if (Atomics.load(control, cancelWord) !== 0) break;
    const start = setup.firstDataByte + slot * setup.slotBytes;
    let length = 0;
    while (length < setup.chunkBytes) {
      const read = readSync(fd, bytes, start + length, setup.chunkBytes - length, position);
      if (read === 0) break;
      length += read;
      position += read;
    }
    fill(slot, length);
    if (length === 0) break;
    slot = (slot + 1) % setup.slotCount;
  }
} catch (error) {
  setup.errorPort.postMessage(error instanceof Error ? error.message : String(error));
  fill(slot, -1);
} finally {
  if (fd >= 0) closeSync(fd);
}
