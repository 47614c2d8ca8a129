/**
 * Worker side of the read-ahead trace source: claims chunks in order (chunk c goes to slot
 * c % slotCount, from file offset c * chunkBytes), fills each slot with as many bytes as fit
 * (a full chunk except at the end of the file) once it is empty, and marks it full. A slot of
 * length 0 means end of file; -1 a read error (sent on errorPort).
 */
import { closeSync, openSync, readSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { cancelWord, ChunkState, controlWords, nextChunkWord, type ReadAheadSetup } from "./read-ahead-layout.js";

const setup = workerData as ReadAheadSetup;
const control = new Int32Array(setup.buffer, 0, controlWords(setup.slotCount));
const bytes = new Uint8Array(setup.buffer);
const cancel = cancelWord(setup.slotCount);
const next = nextChunkWord(setup.slotCount);

function fill(slot: number, length: number): void {
  Atomics.store(control, setup.slotCount + slot, length);
  Atomics.store(control, slot, ChunkState.Full);
  Atomics.notify(control, slot);
}

let fd = -1;
let slot = 0;
try {
  fd = openSync(setup.path, "r");
  for (;;) {
    const chunk = Atomics.add(control, next, 1);
    slot = chunk % setup.slotCount;
    while (Atomics.load(control, slot) !== ChunkState.Empty && Atomics.load(control, cancel) === 0) {
      Atomics.wait(control, slot, ChunkState.Full);
    }
    if (Atomics.load(control, cancel) !== 0) break;
    const start = setup.firstDataByte + slot * setup.slotBytes;
    let position = chunk * setup.chunkBytes;
    let length = 0;
    while (length < setup.chunkBytes) {
      const read = readSync(fd, bytes, start + length, setup.chunkBytes - length, position);
      if (read === 0) break;
      length += read;
      position += read;
    }
    fill(slot, length);
    if (length === 0) break;
  }
} catch (error) {
  setup.errorPort.postMessage(error instanceof Error ? error.message : String(error));
  fill(slot, -1);
} finally {
  if (fd >= 0) closeSync(fd);
}
