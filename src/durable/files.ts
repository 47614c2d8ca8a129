import { closeSync, fsyncSync, ftruncateSync, openSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { FileMedium } from "./medium.js";

/** Replaces a file atomically and durably: a new file, fdatasync, rename over, fsync of the folder. */
export function replaceFile(path: string, bytes: Uint8Array): void {
  const temporary = `${path}.tmp-${process.pid}`;
  const medium = new FileMedium(openSync(temporary, "w"), "power");
  medium.persist(0, bytes);
  medium.barrier();
  medium.close();
  renameSync(temporary, path);
  const folder = openSync(dirname(path), "r");
  try {
    fsyncSync(folder);
  } finally {
    closeSync(folder);
  }
}

/**
 * Appends to a file whose valid contents are its first `validBytes` (anything after is a
 * torn tail, cut off first), and makes the append durable.
 */
export function appendToFile(path: string, validBytes: number, bytes: Uint8Array): void {
  const medium = new FileMedium(openSync(path, "r+"), "power");
  try {
    ftruncateSync(medium.fd, validBytes);
    medium.persist(validBytes, bytes);
    medium.barrier();
  } finally {
    medium.close();
  }
}
