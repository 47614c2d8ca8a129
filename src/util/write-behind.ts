/**
 * Write-behind: a producer fills slots of a shared buffer in turn and hands each full one to
 * a writer thread, which appends it to a file while the producer fills the next. Writing a
 * multi-GB trace then overlaps the work that makes it (a guest's run, a conversion) instead
 * of adding to it, and the page cache's writeback stalls land on the writer thread. Bytes
 * reach the file in the order their slots were handed over.
 */
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { waitWhileWord } from "./worker-wait.js";
import { controlWords, doneWord, errorWord, SlotState, startedWord, StopRequest, stopWord, type WriteBehindSetup } from "./write-behind-layout.js";

/** The writer thread of one output and the ring it drains. */
export class WriteBehind {
  private readonly control: Int32Array;
  private readonly worker: Worker;
  private readonly errors = new MessageChannel();
  private stopped = false;

  /**
   * Starts the writer thread for `fd` over `data`, `slotCount` slots of `slotBytes` each;
   * `name` (the output's path) heads its errors.
   */
  constructor(
    fd: number,
    data: SharedArrayBuffer,
    private readonly slotCount: number,
    slotBytes: number,
    private readonly name: string,
  ) {
    if (slotCount < 2 || slotCount * slotBytes > data.byteLength) throw new RangeError(`write-behind: ${slotCount} slots of ${slotBytes} bytes do not fit ${data.byteLength} bytes`);
    const control = new SharedArrayBuffer(controlWords(slotCount) * Int32Array.BYTES_PER_ELEMENT);
    this.control = new Int32Array(control);
    const setup: WriteBehindSetup = { fd, control, data, slotCount, slotBytes, errorPort: this.errors.port2 };
    this.worker = new Worker(new URL("./write-behind-worker.js", import.meta.url), { workerData: setup, transferList: [this.errors.port2] });
    // Never what keeps the process alive: finish() or abandon() ends it.
    this.worker.unref();
  }

  /** Hands slot `slot` (free: acquired with waitFree, or never used) to the writer thread with its first `lengthBytes` bytes. */
  submit(slot: number, lengthBytes: number): void {
    if (Atomics.load(this.control, slot) !== SlotState.Free) throw new Error(`write-behind invariant: slot ${slot} of ${this.name} submitted while full`);
    Atomics.store(this.control, this.slotCount + slot, lengthBytes);
    Atomics.store(this.control, slot, SlotState.Full);
    Atomics.notify(this.control, slot);
  }

  /** Waits until the writer thread has written slot `slot`; throws its error (naming the output) if a write failed. */
  waitFree(slot: number): void {
    this.waitWhile(slot, SlotState.Full);
    if (Atomics.load(this.control, errorWord(this.slotCount)) !== 0) {
      const message = receiveMessageOnPort(this.errors.port1)?.message;
      throw new Error(`${this.name}: ${typeof message === "string" ? message : "write failed"}`);
    }
  }

  /** Waits until every slot handed over is written, then ends the writer thread; throws its error if a write failed. */
  finish(): void {
    try {
      for (let slot = 0; slot < this.slotCount; slot++) this.waitFree(slot);
    } finally {
      this.stop(StopRequest.Finish);
    }
  }

  /**
   * Ends the writer thread without writing what it has not begun (the output is being
   * discarded); returns once it no longer touches the descriptor, which may then be closed.
   */
  abandon(): void {
    this.stop(StopRequest.Abandon);
  }

  private stop(request: StopRequest): void {
    if (this.stopped) return;
    this.stopped = true;
    Atomics.store(this.control, stopWord(this.slotCount), request);
    for (let slot = 0; slot < this.slotCount; slot++) Atomics.notify(this.control, slot);
    try {
      // A thread not started yet sees the stop word before any write: no need to wait for it.
      if (Atomics.load(this.control, startedWord(this.slotCount)) !== 0) this.waitWhile(doneWord(this.slotCount), 0);
    } finally {
      this.errors.port1.close();
      void this.worker.terminate();
    }
  }

  /** Waits while control word `index` holds `value` (util/worker-wait.ts). */
  private waitWhile(index: number, value: number): void {
    waitWhileWord(this.control, index, value, `${this.name}: writer thread`);
  }
}
