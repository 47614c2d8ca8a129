/**
 * Size classes for small (<= 1 KiB) and medium (<= 256 KiB) blocks: multiples of 8 up to
 * 64 B, then 8 classes per doubling, so a block wastes at most 12.5% above 64 B.
 */
import { Geometry } from "./heap-layout.js";

/** The limits as a const enum, for the fast paths (inlined, not module bindings). */
export const enum SizeLimit {
  /** SMALL_LIMIT_BYTES. */
  SmallBytes = 1024,
  /** MEDIUM_LIMIT_BYTES. */
  MediumBytes = 256 * 1024,
}
/** The largest small block (the free-block cache holds small blocks only). */
export const SMALL_LIMIT_BYTES = SizeLimit.SmallBytes;
/** The largest block of a size class; larger ones are whole page runs. */
export const MEDIUM_LIMIT_BYTES = SizeLimit.MediumBytes;
const LINEAR_CLASSES = 8;
const STEPS_PER_DOUBLING = 8;
const FIRST_DOUBLING_SHIFT = 6;

function buildSizes(): Int32Array {
  const sizes: number[] = [];
  for (let size = 8; size <= 64; size += 8) sizes.push(size);
  for (let shift = FIRST_DOUBLING_SHIFT; 1 << shift < MEDIUM_LIMIT_BYTES; shift++) {
    const step = 1 << (shift - 3);
    for (let j = 1; j <= STEPS_PER_DOUBLING; j++) sizes.push((1 << shift) + j * step);
  }
  return Int32Array.from(sizes);
}

/** Block size of each class, ascending; the last is MEDIUM_LIMIT_BYTES. */
export const CLASS_SIZES = buildSizes();
/** How many size classes there are. */
export const CLASS_COUNT = CLASS_SIZES.length;

/** The smallest class whose blocks hold `sizeBytes` (1 .. MEDIUM_LIMIT_BYTES). */
export function classOf(sizeBytes: number): number {
  if (sizeBytes <= SMALL_LIMIT_BYTES) return SMALL_CLASS_OF[(sizeBytes + (Geometry.GranuleBytes - 1)) >>> Geometry.GranuleShift];
  return classByArithmetic(sizeBytes);
}

function classByArithmetic(sizeBytes: number): number {
  if (sizeBytes <= 64) return sizeBytes <= 8 ? 0 : ((sizeBytes + 7) >>> 3) - 1;
  const shift = 31 - Math.clz32(sizeBytes - 1); // 2^shift < size <= 2^(shift+1)
  const stepShift = shift - 3;
  return LINEAR_CLASSES + (shift - FIRST_DOUBLING_SHIFT) * STEPS_PER_DOUBLING + ((sizeBytes - (1 << shift) + (1 << stepShift) - 1) >>> stepShift) - 1;
}

/** Small sizes by 8-byte granule: one table load on the hot path. */
export const SMALL_CLASS_OF = Uint8Array.from({ length: (SMALL_LIMIT_BYTES >>> Geometry.GranuleShift) + 1 }, (_, granule) => classByArithmetic(Math.max(1, granule << Geometry.GranuleShift)));

/** Classes of small blocks (<= SMALL_LIMIT_BYTES): the ones a worker's free-block cache holds. */
export const SMALL_CLASS_COUNT = classOf(SMALL_LIMIT_BYTES) + 1;
/** Bytes a worker's free-block cache holds per class at most (as blocks: between the bounds below). */
const CACHE_BYTES_PER_CLASS = 16 * 1024;
const CACHE_MIN_BLOCKS = 8;
const CACHE_MAX_BLOCKS = 64;

/** How many freed blocks of `sizeClass` a worker keeps for its next mallocs (0: medium classes are not cached). */
export function cacheCapacity(sizeClass: number): number {
  if (sizeClass >= SMALL_CLASS_COUNT) return 0;
  return Math.min(CACHE_MAX_BLOCKS, Math.max(CACHE_MIN_BLOCKS, Math.floor(CACHE_BYTES_PER_CLASS / CLASS_SIZES[sizeClass])));
}
