/**
 * floor-js: the least a JS allocator can do on the bench's replay loop, as a yardstick, not an
 * allocator to use. Per size class (the Heap's classes) a LIFO free list threaded through the
 * blocks, bump allocation of fresh 16 KiB pages, a byte per page naming its class so free
 * needs no header; blocks past the classes are page runs of a power of two pages, kept in free lists by length.
 * No checks, no statistics, no worker, memory never given back. What it costs over the loop
 * bounds what any JS allocator with the same loop can reach (docs/benchmarks.md).
 *
 * With `checked` (floor-js-checked), it adds the one misuse check every free in the memspace
 * Heap makes, and nothing else: a bit per 8-byte granule at each live block's start, set by
 * malloc, tested and cleared by free, so a double free, an interior or a foreign pointer
 * throws. What that costs over floor-js is what the check alone costs a JS heap.
 */
import { CLASS_COUNT, CLASS_SIZES, classOf, MEDIUM_LIMIT_BYTES, SMALL_CLASS_OF, SMALL_LIMIT_BYTES } from "../../src/alloc/heap/size-classes.js";

const PAGE_SHIFT = 14;
const PAGE_BYTES = 1 << PAGE_SHIFT;
/** A class takes pages for at least this many blocks at a time (as the Heap's spans do). */
const MIN_BLOCKS_PER_REFILL = 4;
/** The page-class byte of a page run's first page: a large block, its length in `runPages`. */
const LARGE = 255;

export interface FloorAllocator {
  bytes: Uint8Array;
  malloc(sizeBytes: number): number;
  free(address: number): void;
  realloc(address: number, sizeBytes: number): number;
  /** Bytes below the bump pointer: all it ever took. */
  footprintBytes(): number;
}

export function floorAllocator(bufferBytes: number, checked = false): FloorAllocator {
  const buffer = new ArrayBuffer(bufferBytes);
  // A bit per 8-byte granule (checked only).
  const live = new Int32Array(checked ? bufferBytes >>> 8 : 0);
  const bytes = new Uint8Array(buffer);
  const words = new Int32Array(buffer);
  const pageClass = new Uint8Array(bufferBytes >>> PAGE_SHIFT);
  const runPages = new Int32Array(bufferBytes >>> PAGE_SHIFT);
  const heads = new Int32Array(CLASS_COUNT);
  const bump = new Int32Array(CLASS_COUNT);
  const bumpEnd = new Int32Array(CLASS_COUNT);
  const freeRuns = new Map<number, number[]>();
  let nextPage = 1; // page 0 holds the null address

  function takePages(pages: number): number {
    if ((nextPage + pages) << PAGE_SHIFT > bufferBytes || nextPage + pages > pageClass.length) return 0;
    const first = nextPage;
    nextPage += pages;
    return first;
  }

  function mallocFresh(sizeClass: number): number {
    const size = CLASS_SIZES[sizeClass];
    const address = bump[sizeClass];
    if (address !== 0 && address + size <= bumpEnd[sizeClass]) {
      bump[sizeClass] = address + size;
      return address;
    }
    const pages = Math.ceil((size * MIN_BLOCKS_PER_REFILL) / PAGE_BYTES);
    const first = takePages(pages);
    if (first === 0) return 0;
    pageClass.fill(sizeClass, first, first + pages);
    bump[sizeClass] = (first << PAGE_SHIFT) + size;
    bumpEnd[sizeClass] = (first + pages) << PAGE_SHIFT;
    return first << PAGE_SHIFT;
  }

  function mallocLarge(sizeBytes: number): number {
    // Runs of a power of two pages, so that a freed run serves any request of its bin.
    const pages = 1 << (32 - Math.clz32(Math.ceil(sizeBytes / PAGE_BYTES) - 1));
    const first = freeRuns.get(pages)?.pop() ?? takePages(pages);
    if (first === 0) return 0;
    pageClass[first] = LARGE;
    runPages[first] = pages;
    return first << PAGE_SHIFT;
  }

  function mallocOfClass(sizeClass: number): number {
    const address = heads[sizeClass];
    if (address === 0) return mallocFresh(sizeClass) | 0;
    heads[sizeClass] = words[address >>> 2];
    return address;
  }

  function mallocUnchecked(sizeBytes: number): number {
    if (sizeBytes <= SMALL_LIMIT_BYTES) return mallocOfClass(SMALL_CLASS_OF[(sizeBytes + 7) >>> 3]);
    return sizeBytes > MEDIUM_LIMIT_BYTES ? mallocLarge(sizeBytes) : mallocOfClass(classOf(sizeBytes));
  }

  function malloc(sizeBytes: number): number {
    const address = mallocUnchecked(sizeBytes);
    if (checked) live[address >>> 8] |= 1 << ((address >>> 3) & 31);
    return address;
  }

  function free(address: number): void {
    if (address === 0) return;
    if (checked) {
      const word = address >>> 8;
      const bit = 1 << ((address >>> 3) & 31);
      if ((address & 7) !== 0 || address >= bufferBytes || (live[word] & bit) === 0) throw new Error(`free(${address}): not a live block`);
      live[word] &= ~bit;
    }
    const sizeClass = pageClass[address >>> PAGE_SHIFT];
    if (sizeClass === LARGE) return freeLarge(address);
    words[address >>> 2] = heads[sizeClass];
    heads[sizeClass] = address;
  }

  function freeLarge(address: number): void {
    const first = address >>> PAGE_SHIFT;
    const pages = runPages[first];
    const runs = freeRuns.get(pages);
    if (runs === undefined) freeRuns.set(pages, [first]);
    else runs.push(first);
  }

  function usableBytes(address: number): number {
    const sizeClass = pageClass[address >>> PAGE_SHIFT];
    return sizeClass === LARGE ? runPages[address >>> PAGE_SHIFT] << PAGE_SHIFT : CLASS_SIZES[sizeClass];
  }

  function realloc(address: number, sizeBytes: number): number {
    if (address === 0) return malloc(sizeBytes);
    const usable = usableBytes(address);
    if (sizeBytes <= usable) return address;
    const moved = malloc(sizeBytes);
    if (moved === 0) return 0;
    bytes.copyWithin(moved, address, address + usable);
    free(address);
    return moved;
  }

  return { bytes, malloc, free, realloc, footprintBytes: () => nextPage << PAGE_SHIFT };
}
