import { Geometry } from "./geometry.js";
import { FieldWord } from "./lower/run-field.js";
import { FrameAllocatorError } from "./page-frame-allocator.js";
import { PAGE_SIZE_BYTES } from "../../space/address.js";

/**
 * Where everything lives in the allocator's SharedArrayBuffer, in this order:
 * header | worker lines (budget and reserved tree) | per-worker pending tree credits | tree lines (counter and owner; one
 * per 64-byte line, so two workers' trees never share a line) | child words | child run fields (128 bytes each, see run-field.ts) | frame bytes
 * (optional, 4 KiB aligned).
 */
/** Header word 0 of every frame allocator buffer: "MSFR". */
export const MAGIC = 0x4d534652;
/** Bumped whenever the layout changes: a buffer of another version is refused. */
export const LAYOUT_VERSION = 4;
/** Words of the header. */
export const HEADER_WORDS = 16;
/** Bytes of a metadata word (an Int32). */
export const WORD_BYTES = Int32Array.BYTES_PER_ELEMENT;
/** Bytes of the header. */
export const HEADER_BYTES = HEADER_WORDS * WORD_BYTES;
/** Header word indexes. */
export const enum Header {
  /** MAGIC. */
  Magic = 0,
  /** LAYOUT_VERSION. */
  Version = 1,
  /** Frames managed. */
  FrameCount = 2,
  /** 1 when the buffer holds the frames' bytes too. */
  Backed = 3,
  /** Workers that have attached so far: spreads their first trees apart. */
  Attached = 4,
  /** Persistent allocators: 1 once closed in order; 0 while open (a crash leaves 0). */
  Clean = 5,
  /** Persistent allocators: the open file's descriptor + 1, so attaching workers write to it. */
  PersistFd = 6,
  /** 1: barriers are fdatasync (survive power loss); 0: writes only (survive kill -9). */
  Durability = 7,
}
/** A cache line, in Int32 words: tree lines, worker lines and each worker's pending words start on one. */
export const CACHE_LINE_WORDS = 16;
/** Words from one tree line to the next: a cache line, so two workers' trees never share one. */
export const TREE_STRIDE_WORDS = CACHE_LINE_WORDS;
/** Words from one worker line to the next: a cache line, so no two workers write one. */
export const WORKER_STRIDE_WORDS = CACHE_LINE_WORDS;
/** Workers (handles) that can use one allocator at once: each owns a budget line. */
export const MAX_WORKERS = 64;
/** Frame bytes can be at most what one DataView spans. */
export const MAX_BACKED_FRAMES = 1 << 20;
/** Frame numbers are int32; the last child and tree may be partial. */
export const MAX_FRAMES = 2 ** 31 - Geometry.FramesPerTree;

/** The word (and byte) offsets of every part of a frame allocator's buffer, from `frameLayout`. */
export interface FrameLayout {
  /** Frames managed. */
  frameCount: number;
  /** Whether the buffer holds the frames' bytes after the metadata. */
  backed: boolean;
  /** Children (512 frames each; the last may be partial). */
  childCount: number;
  /** Trees (32 children each; the last may be partial). */
  treeCount: number;
  /** First word of worker 0's line. */
  workersWord: number;
  /** Per worker, a word per tree: frees into that tree not yet added to its counter. */
  pendingWord: number;
  /** Words from one worker's pending words to the next's (treeCount, rounded up to a cache line). */
  pendingStride: number;
  /** First word of tree 0's line. */
  treesWord: number;
  /** Word of child 0's counter (one word per child). */
  childrenWord: number;
  /** Child c's run field starts at blocksWord + c * FieldWord.WordsPerChild. */
  blocksWord: number;
  /** Bytes of metadata (everything before the frame bytes). */
  metaBytes: number;
  /** Byte offset of frame 0's bytes (when backed): metaBytes rounded up to a page. */
  dataByte: number;
  /** Bytes of the whole buffer. */
  totalBytes: number;
}

const alignUp = (value: number, alignment: number): number => Math.ceil(value / alignment) * alignment;

/** The layout of an allocator of `frameCount` frames; throws for a count out of range. */
export function frameLayout(frameCount: number, backed: boolean): FrameLayout {
  if (!Number.isInteger(frameCount) || frameCount < 1 || frameCount > MAX_FRAMES) {
    throw new FrameAllocatorError(`frame count must be an integer from 1 to ${MAX_FRAMES}, got ${frameCount}`);
  }
  if (backed && frameCount > MAX_BACKED_FRAMES) {
    throw new FrameAllocatorError(`a frame allocator that holds its frames' bytes takes at most ${MAX_BACKED_FRAMES} frames (4 GiB), got ${frameCount}`);
  }
  const childCount = Math.ceil(frameCount / Geometry.FramesPerChild);
  const treeCount = Math.ceil(childCount / Geometry.ChildrenPerTree);
  const workersWord = HEADER_WORDS;
  const pendingWord = workersWord + MAX_WORKERS * WORKER_STRIDE_WORDS;
  const pendingStride = alignUp(treeCount, CACHE_LINE_WORDS);
  const treesWord = pendingWord + MAX_WORKERS * pendingStride;
  const childrenWord = treesWord + treeCount * TREE_STRIDE_WORDS;
  const blocksWord = alignUp(childrenWord + treeCount * Geometry.ChildrenPerTree, FieldWord.WordsPerChild);
  const metaBytes = (blocksWord + treeCount * Geometry.ChildrenPerTree * FieldWord.WordsPerChild) * WORD_BYTES;
  const dataByte = alignUp(metaBytes, PAGE_SIZE_BYTES);
  const totalBytes = backed ? dataByte + frameCount * PAGE_SIZE_BYTES : metaBytes;
  return { frameCount, backed, childCount, treeCount, workersWord, pendingWord, pendingStride, treesWord, childrenWord, blocksWord, metaBytes, dataByte, totalBytes };
}
