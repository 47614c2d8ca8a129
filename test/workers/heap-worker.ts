import { parentPort, workerData } from "node:worker_threads";
import { Heap } from "../../src/alloc/heap/heap.js";
import { Random } from "../../src/util/random.js";

/**
 * A worker on a shared heap: frees the blocks an earlier worker left it (checking their
 * tags), allocates blocks and fills them with its tag, hands every other block to its peer
 * through a shared mailbox ring, frees the blocks its peer handed to it after checking
 * their contents, and detaches, leaving the blocks it still holds to the caller.
 */
export interface HeapWorkerInput {
  buffer: SharedArrayBuffer;
  /** Two rings (one per receiving worker) of addresses: [head, tail, slots...]. */
  mailbox: SharedArrayBuffer;
  index: number;
  blocks: number;
  /** Largest block, bytes (a quarter of the blocks are up to this; the rest up to 508 B). */
  maxBytes: number;
  /** Blocks to free first: [address, tag] pairs. */
  inherited: Array<[number, number]>;
  /** This worker's tag byte, and its peer's. */
  tag: number;
  peerTag: number;
}

const RING_SLOTS = 1024;
/** Word after the two rings: workers done sending (an error adds a lot, to stop the peer). */
const DONE = 2 * (RING_SLOTS + 2);
const { buffer, mailbox, index, blocks, maxBytes, inherited, tag, peerTag } = workerData as HeapWorkerInput;
const heap = new Heap(buffer);
const bytes = new Uint8Array(buffer);
const rings = new Int32Array(mailbox);
const random = new Random(index + 1);
const mine: number[] = [];
let received = 0;
let error: string | null = null;

function ring(worker: number): number {
  return worker * (RING_SLOTS + 2);
}

function send(address: number): boolean {
  const base = ring(1 - index);
  const head = Atomics.load(rings, base);
  const tail = Atomics.load(rings, base + 1);
  if (tail - head >= RING_SLOTS) return false;
  rings[base + 2 + (tail % RING_SLOTS)] = address;
  Atomics.store(rings, base + 1, tail + 1);
  return true;
}

function receive(): void {
  const base = ring(index);
  let head = Atomics.load(rings, base);
  const tail = Atomics.load(rings, base + 1);
  while (head < tail) {
    const address = rings[base + 2 + (head % RING_SLOTS)];
    checkTag(address, peerTag);
    heap.free(address);
    received++;
    head++;
  }
  Atomics.store(rings, base, head);
}

function checkTag(address: number, expected: number): void {
  const size = heap.usableSize(address);
  if (bytes[address] !== expected || bytes[address + Math.min(size, 64) - 1] !== expected) throw new Error(`block at ${address} lost its contents (tag ${expected})`);
}

try {
  for (const [address, expected] of inherited) {
    checkTag(address, expected);
    heap.free(address);
  }
  for (let i = 0; i < blocks; i++) {
    const size = random.below(4) === 0 ? 1 + random.below(maxBytes) : 8 + random.below(500);
    const address = heap.mallocOrThrow(size);
    bytes.fill(tag, address, address + Math.min(heap.usableSize(address), 64));
    if (i % 2 === 0) {
      while (!send(address)) receive();
    } else mine.push(address);
    if (mine.length > 200) heap.free(mine.splice(random.below(mine.length), 1)[0]);
    receive();
  }
  // The peer may still be sending: drain until it says it is done.
  const base = ring(index);
  Atomics.add(rings, DONE, 1);
  while (Atomics.load(rings, DONE) < 2 || Atomics.load(rings, base) < Atomics.load(rings, base + 1)) receive();
} catch (caught) {
  error = caught instanceof Error ? (caught.stack ?? caught.message) : String(caught);
  Atomics.add(rings, DONE, 1 << 16); // tell the peer to stop waiting
}
heap.detach();
parentPort!.postMessage({ held: mine.map((address) => [address, tag]), received, error });
