/**
 * Writer thread of a write-behind ring (write-behind.ts): waits for each slot in turn to be
 * full, appends its bytes to the file descriptor and frees it, until told to stop. A failed
 * write posts its message, raises the error word and frees every slot, so the producer,
 * whichever slot it waits on, wakes and reports it. The done word, set last, tells the
 * producer this thread will not touch the descriptor again.
 */
import { writeSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { controlWords, doneWord, errorWord, SlotState, startedWord, StopRequest, stopWord, type WriteBehindSetup } from "./write-behind-layout.js";

const setup = workerData as WriteBehindSetup;
const control = new Int32Array(setup.control, 0, controlWords(setup.slotCount));
const bytes = new Uint8Array(setup.data);
const stop = stopWord(setup.slotCount);

Atomics.store(control, startedWord(setup.slotCount), 1);
try {
  for (let slot = 0; ; slot = (slot + 1) % setup.slotCount) {
    while (Atomics.load(control, slot) !== SlotState.Full && Atomics.load(control, stop) === StopRequest.Run) Atomics.wait(control, slot, SlotState.Free);
    if (Atomics.load(control, slot) !== SlotState.Full || Atomics.load(control, stop) === StopRequest.Abandon) break;
    const start = slot * setup.slotBytes;
    const end = start + Atomics.load(control, setup.slotCount + slot);
    for (let done = start; done < end; ) done += writeSync(setup.fd, bytes, done, end - done);
    Atomics.store(control, slot, SlotState.Free);
    Atomics.notify(control, slot);
  }
} catch (error) {
  setup.errorPort.postMessage(error instanceof Error ? error.message : String(error));
  Atomics.store(control, errorWord(setup.slotCount), 1);
  for (let slot = 0; slot < setup.slotCount; slot++) {
    Atomics.store(control, slot, SlotState.Free);
    Atomics.notify(control, slot);
  }
} finally {
  Atomics.store(control, doneWord(setup.slotCount), 1);
  Atomics.notify(control, doneWord(setup.slotCount));
}
