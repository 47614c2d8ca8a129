import { parentPort, workerData } from "node:worker_threads";
import { FrameAllocator } from "../../src/alloc/frames/frame-allocator.js";
import { AddressSpace } from "../../src/space/address-space.js";

/**
 * A worker with an address space of its own whose page frames come from a shared
 * FrameAllocator: it writes a pattern over many pages, reads it all back, unmaps half and
 * reports what it saw.
 */
export interface SpaceWorkerInput {
  buffer: SharedArrayBuffer;
  index: number;
  pages: number;
}

export interface SpaceWorkerOutput {
  residentPages: number;
  mismatches: number;
  error: string | null;
}

const { buffer, index, pages } = workerData as SpaceWorkerInput;
const output: SpaceWorkerOutput = { residentPages: 0, mismatches: 0, error: null };
try {
  const space = new AddressSpace({ frames: FrameAllocator.attach(buffer, { worker: index, workers: 2 }) });
  const base = 0x7000_0000_0000n + BigInt(index) * 0x1_0000_0000n;
  const word = (page: number): bigint => (BigInt(index + 1) << 56n) | BigInt(page * 8 + 3);
  for (let page = 0; page < pages; page++) space.store64(base + BigInt(page) * 4096n + 8n, word(page));
  for (let round = 0; round < 3; round++) {
    for (let page = 0; page < pages; page++) if (space.load64(base + BigInt(page) * 4096n + 8n) !== word(page)) output.mismatches++;
  }
  space.unmap(base, (pages / 2) * 4096);
  for (let page = pages / 2; page < pages; page++) if (space.load64(base + BigInt(page) * 4096n + 8n) !== word(page)) output.mismatches++;
  output.residentPages = space.stats().residentPages;
} catch (error) {
  output.error = error instanceof Error ? (error.stack ?? error.message) : String(error);
}
parentPort!.postMessage(output);
