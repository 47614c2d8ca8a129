import { closeSync, existsSync, fstatSync, fsyncSync, ftruncateSync, openSync, readSync, renameSync } from "node:fs";
import { dirname } from "node:path";
import { FileMedium, type Durability } from "./medium.js";

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

/** A file's whole contents in memory, and a medium on the still open file for writing changes back. */
export interface SharedFile {
  /** The file's contents, shared between workers. */
  buffer: SharedArrayBuffer;
  /** The still open file, for persisting changes to the buffer back to it. */
  medium: FileMedium;
}

/** Opens `path` for reading and writing and reads all of it into a new SharedArrayBuffer; null when there is no such file. */
export function openSharedFile(path: string, durability: Durability): SharedFile | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, "r+");
  try {
    const sizeBytes = fstatSync(fd).size;
    const buffer = new SharedArrayBuffer(sizeBytes);
    const bytes = new Uint8Array(buffer);
    for (let done = 0; done < sizeBytes; ) done += readSync(fd, bytes, done, sizeBytes - done, done);
    return { buffer, medium: new FileMedium(fd, durability) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/** Creates (or empties) `path`, writes `buffer` to it durably whatever `durability` later writes get, and keeps it open. */
export function createSharedFile(path: string, buffer: SharedArrayBuffer, durability: Durability): SharedFile {
  const fd = openSync(path, "w+");
  const initial = new FileMedium(fd, "power");
  try {
    initial.persist(0, new Uint8Array(buffer));
    initial.barrier();
  } catch (error) {
    initial.close();
    throw error;
  }
  return { buffer, medium: new FileMedium(fd, durability) };
}
