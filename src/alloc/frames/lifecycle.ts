import { createSharedFile, openSharedFile } from "../../durable/files.js";
import { type Durability, FileMedium, type PersistMedium } from "../../durable/medium.js";
import { Geometry } from "./geometry.js";
import { frameLayout, type FrameLayout, Header, HEADER_BYTES, HEADER_WORDS, LAYOUT_VERSION, MAGIC, MAX_WORKERS, WORD_BYTES, WORKER_STRIDE_WORDS } from "./layout.js";
import { ChildWord, pairPartner } from "./lower/child-word.js";
import { childFrameCount, runFieldWord } from "./lower/children.js";
import { repairChild, reserveTail } from "./lower/run-field.js";
import { FrameAllocatorError } from "./page-frame-allocator.js";
import { TreeLine, treeLineWord } from "./upper/trees.js";

/**
 * An allocator's life outside get and put: a fresh image, the checks a buffer passes before
 * a handle uses it, opening and creating its file, crash recovery, and the clean flag that
 * tells recovery whether it is needed.
 */

/** Header values of `Header.Durability`. */
const enum DurabilityFlag {
  Process = 0,
  Power = 1,
}

/** A fresh image: every frame free; frames past the last are allocated for good so no search finds them. */
export function newImage(frames: number, backed: boolean): SharedArrayBuffer {
  const layout = frameLayout(frames, backed);
  const buffer = new SharedArrayBuffer(layout.totalBytes);
  const words = new Int32Array(buffer, 0, layout.metaBytes / WORD_BYTES);
  words[Header.Magic] = MAGIC;
  words[Header.Version] = LAYOUT_VERSION;
  words[Header.FrameCount] = layout.frameCount;
  words[Header.Backed] = layout.backed ? 1 : 0;
  for (let tree = 0; tree < layout.treeCount; tree++) {
    let treeFree = 0;
    for (let c = tree * Geometry.ChildrenPerTree; c < (tree + 1) * Geometry.ChildrenPerTree; c++) {
      const framesHere = childFrameCount(layout.frameCount, c);
      words[layout.childrenWord + c] = framesHere;
      treeFree += framesHere;
      reserveTail(words, runFieldWord(layout.blocksWord, c), framesHere);
    }
    words[treeLineWord(layout.treesWord, tree) + TreeLine.Free] = treeFree;
  }
  return buffer;
}

/** The layout of an allocator's buffer, after checking that it is one (magic, version, size). */
export function layoutOf(buffer: SharedArrayBuffer): FrameLayout {
  if (buffer.byteLength < HEADER_BYTES) throw new FrameAllocatorError(`not a frame allocator buffer: ${buffer.byteLength} bytes`);
  const header = new Int32Array(buffer, 0, HEADER_WORDS);
  if (header[Header.Magic] !== MAGIC || header[Header.Version] !== LAYOUT_VERSION) {
    throw new FrameAllocatorError(`not a frame allocator buffer (magic 0x${(header[Header.Magic] >>> 0).toString(16)}, version ${header[Header.Version]})`);
  }
  const layout = frameLayout(header[Header.FrameCount], header[Header.Backed] === 1);
  if (buffer.byteLength < layout.totalBytes) throw new FrameAllocatorError(`frame allocator buffer is ${buffer.byteLength} bytes, its layout needs ${layout.totalBytes}`);
  return layout;
}

/**
 * Opens (or, given `frames`, creates) an allocator file and hands its image and medium to
 * `start`; the header names the open file, so other workers' handles write to it too. On
 * any error the file is closed and the error names the path.
 */
export function openImageFile<T>(path: string, options: { frames?: number; durability?: Durability }, start: (buffer: SharedArrayBuffer, medium: PersistMedium) => T): T {
  const durability = options.durability ?? "power";
  let file = openSharedFile(path, durability);
  if (file === null) {
    if (options.frames === undefined) throw new FrameAllocatorError(`${path}: no such allocator file (pass frames to create one)`);
    file = createSharedFile(path, newImage(options.frames, false), durability);
  }
  const { buffer, medium } = file;
  try {
    if (buffer.byteLength < HEADER_BYTES) throw new FrameAllocatorError(`${buffer.byteLength} bytes, too short for a frame allocator`);
    const header = new Int32Array(buffer, 0, HEADER_WORDS);
    if (options.frames !== undefined && header[Header.Magic] === MAGIC && header[Header.FrameCount] !== options.frames) {
      throw new FrameAllocatorError(`holds ${header[Header.FrameCount]} frames, not ${options.frames}`);
    }
    if (header[Header.Magic] !== MAGIC) throw new FrameAllocatorError(`not a frame allocator file (magic 0x${(header[Header.Magic] >>> 0).toString(16)})`);
    // Other workers' handles reach the open file through the shared header.
    header[Header.PersistFd] = medium.fd + 1;
    header[Header.Durability] = durability === "process" ? DurabilityFlag.Process : DurabilityFlag.Power;
    return start(buffer, medium);
  } catch (error) {
    medium.close();
    throw error instanceof FrameAllocatorError ? new FrameAllocatorError(`${path}: ${error.message}`) : error;
  }
}

/** The open file of a persistent allocator another handle opened, or null for a volatile one (or one closed). */
export function attachedMedium(words: Int32Array): PersistMedium | null {
  if (words[Header.PersistFd] === 0 || words[Header.Clean] !== 0) return null;
  return new FileMedium(words[Header.PersistFd] - 1, words[Header.Durability] === DurabilityFlag.Power ? "power" : "process");
}

/** Whether the image was closed in order (else opening it runs recovery). */
export function closedCleanly(words: Int32Array): boolean {
  return words[Header.Clean] === 1;
}

/** Marks the image open (a crash from now on leaves it unclean), durably. */
export function markOpen(bytes: Uint8Array, words: Int32Array, medium: PersistMedium): void {
  words[Header.Clean] = 0;
  medium.persist(0, bytes.subarray(0, HEADER_BYTES));
  medium.barrier();
}

/** Orderly shutdown: everything written, then the clean flag; the file is closed. */
export function closeImage(bytes: Uint8Array, words: Int32Array, medium: PersistMedium): void {
  medium.persist(0, bytes);
  medium.barrier();
  words[Header.Clean] = 1;
  words[Header.PersistFd] = 0;
  medium.persist(0, bytes.subarray(0, HEADER_BYTES));
  medium.barrier();
  if (medium instanceof FileMedium) medium.close();
}

/**
 * Crash recovery: run fields are the truth. Drops huge flags a crash left stale (a huge
 * frame whose frames were reused, half an order-10 pair), clears inside-marks of runs half
 * persisted, recounts every child, rebuilds trees and forgets reservations, budgets and
 * pending credits; writes it all. Returns the number of children it had to repair.
 */
export function recoverImage(bytes: Uint8Array, words: Int32Array, layout: FrameLayout, medium: PersistMedium): number {
  let repaired = 0;
  for (let tree = 0; tree < layout.treeCount; tree++) {
    let treeFree = 0;
    for (let c = tree * Geometry.ChildrenPerTree; c < (tree + 1) * Geometry.ChildrenPerTree; c++) {
      const repair = repairChild(words, runFieldWord(layout.blocksWord, c), childFrameCount(layout.frameCount, c));
      if (repair.changedWords.length > 0) repaired++;
      let flags = words[layout.childrenWord + c] & ChildWord.Flags;
      if (flags !== 0 && repair.freeFrames !== Geometry.FramesPerChild) flags = 0; // freed, then reused
      words[layout.childrenWord + c] = flags !== 0 ? flags : repair.freeFrames;
    }
    for (let c = tree * Geometry.ChildrenPerTree; c < (tree + 1) * Geometry.ChildrenPerTree; c++) {
      const word = words[layout.childrenWord + c];
      if ((word & ChildWord.Pair) !== 0 && words[layout.childrenWord + pairPartner(c)] !== word) {
        words[layout.childrenWord + c] = Geometry.FramesPerChild; // half of a pair that never (or no longer) was
        repaired++;
      }
      if ((words[layout.childrenWord + c] & ChildWord.Huge) === 0) treeFree += words[layout.childrenWord + c];
    }
    words[treeLineWord(layout.treesWord, tree) + TreeLine.Free] = treeFree;
    words[treeLineWord(layout.treesWord, tree) + TreeLine.Owner] = 0;
  }
  words.fill(0, layout.workersWord, layout.workersWord + MAX_WORKERS * WORKER_STRIDE_WORDS);
  words.fill(0, layout.pendingWord, layout.pendingWord + MAX_WORKERS * layout.pendingStride);
  medium.persist(0, bytes);
  medium.barrier();
  return repaired;
}
