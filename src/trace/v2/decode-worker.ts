/**
 * A decode worker: claims chunks in order from the shared next-chunk word and, once the
 * consumer has freed a chunk's slot (decode-layout.ts), decodes it there (slot-decoder.ts).
 * Stops at the last chunk, on cancel, or at the first error, which it posts before marking
 * the slot failed.
 */
import { closeSync, openSync } from "node:fs";
import { workerData } from "node:worker_threads";
import { TraceFormatError } from "../format.js";
import { acceptWord, cancelWord, controlWordCount, filledWord, nextChunkWord, Slot, type DecodeSetup } from "./decode-layout.js";
import { SlotDecoder } from "./slot-decoder.js";

const setup = workerData as DecodeSetup;
const control = new Int32Array(setup.buffer, 0, controlWordCount(setup.slotCount));
const cancel = cancelWord(setup.slotCount);
const chunkCount = setup.chunkOffsets.length;

/** The worker's loop, in a function so TurboFan optimizes it as a whole (top-level code it only on-stack-replaces). */
function run(): void {
  let fd = -1;
  let slot = 0;
  try {
    fd = openSync(setup.path, "r");
    const decoder = new SlotDecoder(setup, control, fd);
    for (;;) {
      const chunk = Atomics.add(control, nextChunkWord(setup.slotCount), 1);
      if (chunk >= chunkCount) break;
      slot = chunk % setup.slotCount;
      for (;;) {
        const accepts = Atomics.load(control, acceptWord(slot));
        if (accepts === chunk || Atomics.load(control, cancel) !== 0) break;
        Atomics.wait(control, acceptWord(slot), accepts);
      }
      if (Atomics.load(control, cancel) !== 0) break;
      decoder.decode(chunk, slot);
      Atomics.store(control, filledWord(slot), chunk);
      Atomics.notify(control, filledWord(slot));
    }
  } catch (error) {
    setup.errorPort.postMessage(error instanceof TraceFormatError ? { file: error.file, byteOffset: error.byteOffset, problem: error.problem } : String(error instanceof Error ? error.message : error));
    Atomics.store(control, filledWord(slot), Slot.Failed);
    Atomics.notify(control, filledWord(slot));
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

run();
