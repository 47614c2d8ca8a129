import type { AddressSpace } from "../../space/address-space.js";
import { formatBigAddress, MAX_ADDRESS, toBigAddress, TWO_POW_32, type Address } from "../../space/address.js";
import { Heap, HeapError, type HeapOptions, type HeapStats } from "./heap.js";
import { HEAP_PAGE_BYTES, MAX_HEAP_BYTES } from "./heap-store.js";

/**
 * A heap whose blocks live in a region of an AddressSpace (64-bit addresses): the heap of
 * an emulated machine, or any sparse 64-bit memory. The Heap's algorithms run unchanged on
 * offsets into the region; its metadata (descriptors, bitmap, lists) stays in a local
 * buffer reserved at the region's size, of which only the metadata pages are ever touched
 * (the OS commits pages on first write), while every byte of a block (free-list links,
 * calloc zeroing, realloc copies, debug canaries) goes through the space.
 *
 * Pages are mapped read-write in the space when a span or a large block takes them, and
 * unmapped when they go back to the free pages (an emptied span, a large block that skips
 * the region cache, an eviction from the cache): unmapping releases their frames, the
 * MADV_DONTNEED analogue, and in a strict space an access to them faults. The region's
 * first pages hold no blocks (their offsets are the metadata's), so they stay unmapped.
 */
export class SpaceHeap {
  readonly baseAddress: bigint;
  readonly sizeBytes: number;
  private readonly heap: RegionHeap;

  /**
   * `baseAddress` a multiple of 16 KiB; `sizeBytes` a multiple of 16 KiB up to 2 GiB. The
   * region must not be mapped already (the heap maps its pages as it uses them).
   */
  constructor(space: AddressSpace, baseAddress: Address, sizeBytes: number, options: HeapOptions = {}) {
    const base = toBigAddress(baseAddress);
    if (base % BigInt(HEAP_PAGE_BYTES) !== 0n) throw new HeapError(`heap region at ${formatBigAddress(base)}: not a multiple of ${HEAP_PAGE_BYTES} bytes`);
    if (!Number.isSafeInteger(sizeBytes) || sizeBytes <= 0 || sizeBytes % HEAP_PAGE_BYTES !== 0 || sizeBytes > MAX_HEAP_BYTES) {
      throw new HeapError(`heap region of ${sizeBytes} bytes: must be a positive multiple of ${HEAP_PAGE_BYTES} bytes, at most 2 GiB`);
    }
    if (base + BigInt(sizeBytes) - 1n > MAX_ADDRESS) throw new HeapError(`heap region at ${formatBigAddress(base)} of ${sizeBytes} bytes runs past the top of the address space`);
    this.baseAddress = base;
    this.sizeBytes = sizeBytes;
    this.heap = new RegionHeap(space, base, sizeBytes, options);
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

  free(address: Address): void {
    this.heap.free(this.offsetOf(address, "free"));
  }

  usableSize(address: Address): number {
    return this.heap.usableSize(this.offsetOf(address, "usableSize"));
  }

  /** The hot path for emulators: blocks as offsets into the region (0 is null), no BigInt. */
  mallocOffset(sizeBytes: number): number {
    return this.heap.malloc(sizeBytes);
  }

  freeOffset(offset: number): void {
    this.heap.free(offset);
  }

  /** The address of a block offset (0 stays 0n). */
  addressOf(offset: number): bigint {
    return offset === 0 ? 0n : this.baseAddress + BigInt(offset);
  }

  trim(): void {
    this.heap.trim();
  }

  check(): void {
    this.heap.check();
  }

  stats(): HeapStats {
    return this.heap.stats();
  }

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

/** The Heap with its block memory and page hooks in an AddressSpace region. */
class RegionHeap extends Heap {
  private readonly space: AddressSpace;
  private readonly base: bigint;
  private readonly baseLo: number;
  private readonly baseHi: number;

  constructor(space: AddressSpace, base: bigint, sizeBytes: number, options: HeapOptions) {
    super(new ArrayBuffer(sizeBytes), options);
    this.space = space;
    this.base = base;
    this.baseLo = Number(base & 0xffffffffn);
    this.baseHi = Number(base >> 32n);
  }

  // Offsets are below 2^31 and the base is page aligned: at most one carry into the high half.
  protected override link(address: number): number {
    const sum = this.baseLo + address;
    const access = this.space.access;
    const value = sum < TWO_POW_32 ? access.load32(sum, this.baseHi) : access.load32(sum - TWO_POW_32, this.baseHi + 1);
    access.countAccesses(1, 0);
    return value;
  }

  protected override setLink(address: number, value: number): void {
    const sum = this.baseLo + address;
    const access = this.space.access;
    if (sum < TWO_POW_32) access.store32(sum, this.baseHi, value >>> 0);
    else access.store32(sum - TWO_POW_32, this.baseHi + 1, value >>> 0);
    access.countAccesses(0, 1);
  }

  protected override readBlockByte(address: number): number {
    return this.space.load8(this.base + BigInt(address));
  }

  protected override writeBlockByte(address: number, value: number): void {
    this.space.store8(this.base + BigInt(address), value);
  }

  protected override fillBlock(address: number, lengthBytes: number, byte: number): void {
    this.space.fill(this.base + BigInt(address), lengthBytes, byte);
  }

  protected override copyBlock(destination: number, source: number, lengthBytes: number): void {
    this.space.copy(this.base + BigInt(destination), this.base + BigInt(source), lengthBytes);
  }

  protected override pagesTaken(first: number, pages: number): void {
    this.space.map(this.base + BigInt(first * HEAP_PAGE_BYTES), pages * HEAP_PAGE_BYTES, "rw-");
  }

  protected override pagesReleased(first: number, pages: number): boolean {
    this.space.unmap(this.base + BigInt(first * HEAP_PAGE_BYTES), pages * HEAP_PAGE_BYTES);
    return true;
  }

  protected override hex(address: number): string {
    return formatBigAddress(this.base + BigInt(address));
  }
}
