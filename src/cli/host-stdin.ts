/**
 * memspace's own standard input as a guest's: read as the guest reads it, a blocking read of
 * whatever is there (a pipe, a terminal, a file), as qemu-user does, so `printf 20 | memspace
 * run vm.elf` gives the guest its input.
 */
import { readSync } from "node:fs";

const STDIN_FD = 0;
/** A non-blocking standard input with nothing yet: wait this long before reading again, in ms. */
const RETRY_WAIT_MS = 1;

/** A reader (GuestInput) of this process's standard input: bytes read into `into`, 0 at its end or when there is none. */
export function hostStdinReader(): (into: Uint8Array) => number {
  const pause = new Int32Array(new SharedArrayBuffer(Int32Array.BYTES_PER_ELEMENT));
  return (into) => {
    for (;;) {
      try {
        return readSync(STDIN_FD, into, 0, into.length, null);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "EAGAIN") Atomics.wait(pause, 0, 0, RETRY_WAIT_MS);
        // Closed or absent (a daemon, `<&-`): the guest sees the end of its input.
        else if (code === "EOF" || code === "EBADF" || code === "ENXIO") return 0;
        else throw error;
      }
    }
  };
}
