import { CHILDREN_PER_TREE, FRAMES_PER_CHILD, FRAMES_PER_TREE } from "./geometry.js";
import { WORDS_PER_CHILD } from "./run-field.js";
import { FrameAllocatorError } from "./page-frame-allocator.js";
import { PAGE_SIZE_BYTES } from "../../space/address.js";

/**
 * Where everything lives in the allocator's SharedArrayBuffer, in this order:
 * header | worker lines (budget and reserved tree) | per-worker pending tree credits | tree lines (counter and owner; one
 * per 64-byte line, so two workers' trees never share a line) | child words | child run fields (128 bytes each, see run-field.ts) | frame bytes
 * (optional, 4 KiB aligned).
 */
export const MAGIC = 0x4d534652; // "MSFR"
export const LAYOUT_VERSION = 4;
export const HEADER_WORDS = 16;
/** Header word indexes. */
export const enum Header {
  Magic = 0,
  Version = 1,
  FrameCount = 2,
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
/** Tree lines and worker lines are 16 Int32s (a cache line) apart. */
export const TREE_STRIDE_WORDS = 16;
export const WORKER_STRIDE_WORDS = 16;
/** Workers (handles) that can use one allocator at once: each owns a budget line. */
export const MAX_WORKERS = 64;
/** Frame bytes can be at most what one DataView spans. */
export const MAX_BACKED_FRAMES = 1 << 20;
/** Frame numbers are int32; the last child and tree may be partial. */
export const MAX_FRAMES = 2 ** 31 - FRAMES_PER_TREE;

export interface FrameLayout {
  frameCount: number;
  backed: boolean;
  childCount: number;
  treeCount: number;
  workersWord: number;
  /** Per worker, a word per tree: frees into that tree not yet added to its counter. */
  pendingWord: number;
  pendingStride: number;
  treesWord: number;
  childrenWord: number;
  /** Child c's run field starts at blocksWord + c * WORDS_PER_CHILD. */
  blocksWord: number;
  /** Bytes of metadata (everything before the frame bytes). */
  metaBytes: number;
  dataByte: number;
  totalBytes: number;
}

const alignUp = (value: number, alignment: number): number => Math.ceil(value / alignment) * alignment;

export function frameLayout(frameCount: number, backed: boolean): FrameLayout {
  if (!Number.isInteger(frameCount) || frameCount < 1 || frameCount > MAX_FRAMES) {
    throw new FrameAllocatorError(`frame count must be an integer from 1 to ${MAX_FRAMES}, got ${frameCount}`);
  }
  if (backed && frameCount > MAX_BACKED_FRAMES) {
    throw new FrameAllocatorError(`a frame allocator that holds its frames' bytes takes at most ${MAX_BACKED_FRAMES} frames (4 GiB), got ${frameCount}`);
  }
  const childCount = Math.ceil(frameCount / FRAMES_PER_CHILD);
  const treeCount = Math.ceil(childCount / CHILDREN_PER_TREE);
  const workersWord = HEADER_WORDS;
  const pendingWord = workersWord + MAX_WORKERS * WORKER_STRIDE_WORDS;
  const pendingStride = alignUp(treeCount, 16);
  const treesWord = pendingWord + MAX_WORKERS * pendingStride;
  const childrenWord = treesWord + treeCount * TREE_STRIDE_WORDS;
  const blocksWord = alignUp(childrenWord + treeCount * CHILDREN_PER_TREE, 32);
  const metaBytes = (blocksWord + treeCount * CHILDREN_PER_TREE * WORDS_PER_CHILD) * 4;
  const dataByte = alignUp(metaBytes, PAGE_SIZE_BYTES);
  const totalBytes = backed ? dataByte + frameCount * PAGE_SIZE_BYTES : metaBytes;
  return { frameCount, backed, childCount, treeCount, workersWord, pendingWord, pendingStride, treesWord, childrenWord, blocksWord, metaBytes, dataByte, totalBytes };
}
