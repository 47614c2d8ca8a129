import { Geometry } from "./heap-layout.js";
import type { AddressSpace } from "../../space/address-space.js";
import { formatBigAddress, MAX_ADDRESS, toBigAddress, type Address } from "../../space/address.js";
import { Heap, HeapError, type HeapOptions, type HeapStats } from "./heap.js";
import { MAX_HEAP_BYTES } from "./block-memory.js";
import { SpaceMemory } from "./space-memory.js";

/**
 * A heap whose blocks live in a region of an AddressSpace (64-bit addresses): the heap of
 * an emulated machine, or any sparse 64-bit memory. The Heap's algorithms run unchanged on
 * offsets into the region, over a SpaceMemory (space-memory.ts: the metadata in a local
 * buffer, every byte of a block through the space, pages mapped while they hold blocks).
 * The region's first pages hold no blocks (their offsets are the metadata's), so they stay
 * unmapped.
 */
export class SpaceHeap {
  /** The region's first address. */
  readonly baseAddress: bigint;
  /** The region's size. */
  readonly sizeBytes: number;
  private readonly heap: Heap;

  /**
   * `baseAddress` a multiple of 4 KiB; `sizeBytes` a multiple of 4 KiB up to 2 GiB. The
   * region must not be mapped already (the heap maps its pages as it uses them).
   */
  constructor(space: AddressSpace, baseAddress: Address, sizeBytes: number, options: HeapOptions = {}) {
    const base = toBigAddress(baseAddress);
    if (base % BigInt(Geometry.PageBytes) !== 0n) throw new HeapError(`heap region at ${formatBigAddress(base)}: not a multiple of ${Geometry.PageBytes} bytes`);
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % Geometry.PageBytes !== 0 || sizeBytes > MAX_HEAP_BYTES) {
      throw new HeapError(`heap region of ${sizeBytes} bytes: must be a positive multiple of ${Geometry.PageBytes} bytes, at most 2 GiB`);
    }
    if (base + BigInt(sizeBytes) - 1n > MAX_ADDRESS) throw new HeapError(`heap region at ${formatBigAddress(base)} of ${sizeBytes} bytes runs past the top of the address space`);
    this.baseAddress = base;
    this.sizeBytes = sizeBytes;
    this.heap = new Heap(new SpaceMemory(space, base, sizeBytes), options);
  }

  /** A block of at least `sizeBytes` (8-byte aligned); 0n when the region is full. */
  malloc(sizeBytes: number): bigint {
    return this.addressOf(this.heap.malloc(sizeBytes));
  }

  /** `malloc` that throws, naming the request, when the region is full. */
  mallocOrThrow(sizeBytes: number): bigint {
    return this.addressOf(this.heap.mallocOrThrow(sizeBytes));
  }

  /** Zeroed memory for `count` elements of `sizeBytes`; the product is overflow-checked. */
  calloc(count: number, sizeBytes: number): bigint {
    return this.addressOf(this.heap.calloc(count, sizeBytes));
  }

  /** A block whose address is a multiple of `alignment` (a power of two the base address is a multiple of). */
  alignedAlloc(alignment: number, sizeBytes: number): bigint {
    if (Number.isInteger(alignment) && alignment > 0 && this.baseAddress % BigInt(alignment) !== 0n) {
      throw new HeapError(`alignedAlloc: alignment ${alignment} is finer than this heap's base address ${formatBigAddress(this.baseAddress)} can give`);
    }
    return this.addressOf(this.heap.alignedAlloc(alignment, sizeBytes));
  }

  /** Resizes, in place when it can; 0n (the old block kept) when the region is full. */
  realloc(address: Address, sizeBytes: number): bigint {
    return this.addressOf(this.heap.realloc(this.offsetOf(address, "realloc"), sizeBytes));
  }

  /** Frees the block at `address` (0 is ignored); a HeapError, changing nothing, if it is not a live block of this heap. */
  free(address: Address): void {
    this.heap.free(this.offsetOf(address, "free"));
  }

  /** Bytes the block at `address` can hold. */
  usableSize(address: Address): number {
    return this.heap.usableSize(this.offsetOf(address, "usableSize"));
  }

  /** The hot path for emulators: blocks as offsets into the region (0 is null), no BigInt. */
  mallocOffset(sizeBytes: number): number {
    return this.heap.malloc(sizeBytes);
  }

  /** `free` of a block offset (mallocOffset's result). */
  freeOffset(offset: number): void {
    this.heap.free(offset);
  }

  /** The address of a block offset (0 stays 0n). */
  addressOf(offset: number): bigint {
    return offset === 0 ? 0n : this.baseAddress + BigInt(offset);
  }

  /** Gives back what the heap can (Heap.trim): freed pages are unmapped. */
  trim(): void {
    this.heap.trim();
  }

  /** Verifies every invariant of the heap (Heap.check). */
  check(): void {
    this.heap.check();
  }

  /** The heap's statistics (Heap.stats). */
  stats(): HeapStats {
    return this.heap.stats();
  }

  /** Visits every live block: its 64-bit address and usable size. */
  walk(visit: (address: bigint, usableBytes: number) => void): void {
    this.heap.walk((offset, usableBytes) => visit(this.baseAddress + BigInt(offset), usableBytes));
  }

  /** The offset of `address` in the region; 0 for a null address; an error naming it if it is outside. */
  private offsetOf(address: Address, what: string): number {
    const at = toBigAddress(address);
    if (at === 0n) return 0;
    const offset = at - this.baseAddress;
    if (offset < 0n || offset >= BigInt(this.sizeBytes)) {
      throw new HeapError(`${what}(${formatBigAddress(at)}): not in this heap's region ${formatBigAddress(this.baseAddress)} .. ${formatBigAddress(this.baseAddress + BigInt(this.sizeBytes))}`);
    }
    return Number(offset);
  }
}
