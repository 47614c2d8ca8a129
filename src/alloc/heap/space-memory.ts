/**
 * The block memory of a heap whose blocks live in a region of an AddressSpace (64-bit
 * addresses; SpaceHeap). The heap's metadata (descriptors, bitmap, lists) stays in a local
 * buffer reserved at the region's size, of which only the metadata pages are ever touched
 * (the OS commits pages on first write); every byte of a block (free-list links, calloc
 * zeroing, realloc copies, debug canaries) goes through the space.
 *
 * Pages are mapped read-write in the space when a span or a large block takes them, and
 * unmapped when they go back to the free pages: unmapping releases their frames, the
 * MADV_DONTNEED analogue, and in a strict space an access to them faults.
 */
import { Geometry } from "./heap-layout.js";
import type { AddressSpace } from "../../space/address-space.js";
import { formatBigAddress, PAGE_SIZE_BYTES, TWO_POW_32 } from "../../space/address.js";
import { BufferMemory } from "./block-memory.js";
import { HUGE_PAGES } from "../../space/paged-backend.js";

/** Bytes of a huge frame: a mapping smaller than this cannot hold one. */
const HUGE_FRAME_BYTES = HUGE_PAGES * PAGE_SIZE_BYTES;

/** An AddressSpace region of `sizeBytes` at `base`, as a heap's block memory. */
export class SpaceMemory extends BufferMemory {
  /** False: the blocks are in the space, the views hold the metadata only. */
  override readonly blocksInViews = false;
  private readonly baseLo: number;
  private readonly baseHi: number;
  /** Heap pages of a huge frame, when the space can map them and the base is 2 MiB aligned (BlockMemory.hugeAlignPages). */
  readonly hugeAlignPages: number;

  /** `base` page aligned; the metadata in a fresh local buffer of `sizeBytes`. */
  constructor(
    private readonly space: AddressSpace,
    private readonly base: bigint,
    sizeBytes: number,
  ) {
    super(new ArrayBuffer(sizeBytes), sizeBytes);
    this.baseLo = Number(base & 0xffffffffn);
    this.baseHi = Number(base >> 32n);
    this.hugeAlignPages = space.hasHugeFrames && base % BigInt(HUGE_FRAME_BYTES) === 0n ? HUGE_FRAME_BYTES / Geometry.PageBytes : 0;
  }

  // Offsets are below 2^31 and the base is page aligned: at most one carry into the high half.
  /** The word at `address` of the region, through the space's fast access path. */
  override load32(address: number): number {
    const sum = this.baseLo + address;
    const access = this.space.access;
    const value = sum < TWO_POW_32 ? access.load32(sum, this.baseHi) : access.load32(sum - TWO_POW_32, this.baseHi + 1);
    access.countAccesses(1, 0);
    return value;
  }

  /** Writes the word at `address` of the region. */
  override store32(address: number, value: number): void {
    const sum = this.baseLo + address;
    const access = this.space.access;
    if (sum < TWO_POW_32) access.store32(sum, this.baseHi, value >>> 0);
    else access.store32(sum - TWO_POW_32, this.baseHi + 1, value >>> 0);
    access.countAccesses(0, 1);
  }

  /** The byte at `address` of the region. */
  override load8(address: number): number {
    return this.space.load8(this.base + BigInt(address));
  }

  /** Writes the byte at `address` of the region. */
  override store8(address: number, value: number): void {
    this.space.store8(this.base + BigInt(address), value);
  }

  /** Fills bytes of the region. */
  override fill(address: number, lengthBytes: number, byte: number): void {
    this.space.fill(this.base + BigInt(address), lengthBytes, byte);
  }

  /** Copies bytes inside the region. */
  override copy(destination: number, source: number, lengthBytes: number): void {
    this.space.copy(this.base + BigInt(destination), this.base + BigInt(source), lengthBytes);
  }

  /**
   * Maps the pages read-write in the space; the 2 MiB-aligned runs of a large block's pages get huge frames
   * where the space has them free (one page-table entry each), the rest 4 KiB frames on first write.
   */
  override mapPages(firstPage: number, pageCount: number): void {
    const address = this.base + BigInt(firstPage * Geometry.PageBytes);
    const sizeBytes = pageCount * Geometry.PageBytes;
    this.space.map(address, sizeBytes, "rw-");
    if (sizeBytes >= HUGE_FRAME_BYTES) this.space.mapHuge(address, sizeBytes);
  }

  /** Unmaps the pages (their frames are released, so they read as zero when mapped again). */
  override unmapPages(firstPage: number, pageCount: number): boolean {
    this.space.unmap(this.base + BigInt(firstPage * Geometry.PageBytes), pageCount * Geometry.PageBytes);
    return true;
  }

  /** An address as the 64-bit address in the space. */
  override formatAddress(address: number): string {
    return formatBigAddress(this.base + BigInt(address));
  }
}
