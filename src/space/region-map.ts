import { formatBigAddress, PAGE_SHIFT } from "./address.js";
import { formatProtection } from "./protection.js";

/** A mapped run of pages, [firstPage, endPage), with one protection. */
export interface Region {
  /** First page of the region. */
  firstPage: number;
  /** Page after the last page of the region (exclusive end). */
  endPage: number;
  /** PROT_* flags of every page in the region. */
  protection: number;
}

/** What `AddressSpace.regions()` reports: byte addresses as bigints. */
export interface RegionInfo {
  /** Byte address of the region's first byte. */
  start: bigint;
  /** Byte address just past the region's last byte (up to 2^64). */
  end: bigint;
  /** Size of the region in bytes: `end - start`. */
  sizeBytes: bigint;
  /** Protection in three-letter form, such as "r-x". */
  protection: string;
}

/**
 * The region map: sorted, non-overlapping page runs. Lookups are a binary search; the
 * mutating operations (map, unmap, protect) split regions at their edges.
 */
export class RegionMap {
  private regions: Region[] = [];

  /** Number of regions (adjacent regions of equal protection count separately). */
  get count(): number {
    return this.regions.length;
  }

  /** The region holding `pageNumber`, or undefined. */
  find(pageNumber: number): Region | undefined {
    let low = 0;
    let high = this.regions.length - 1;
    while (low <= high) {
      const middle = (low + high) >>> 1;
      const region = this.regions[middle];
      if (pageNumber < region.firstPage) high = middle - 1;
      else if (pageNumber >= region.endPage) low = middle + 1;
      else return region;
    }
    return undefined;
  }

  /** Adds a region; it must be non-empty and must not overlap an existing one. */
  map(firstPage: number, endPage: number, protection: number): void {
    if (!(firstPage < endPage)) throw new RangeError(`map of ${describe(firstPage, endPage)}: the range is empty`);
    const overlapping = this.regions.find((region) => region.firstPage < endPage && firstPage < region.endPage);
    if (overlapping !== undefined) {
      throw new RangeError(
        `map of ${describe(firstPage, endPage)} overlaps the mapped region ${describe(overlapping.firstPage, overlapping.endPage)}`,
      );
    }
    this.regions.push({ firstPage, endPage, protection });
    this.regions.sort((a, b) => a.firstPage - b.firstPage);
    this.checkInvariants();
  }

  /** Removes [firstPage, endPage) from every region it touches. */
  unmap(firstPage: number, endPage: number): void {
    if (!(firstPage < endPage)) return;
    this.reshape(firstPage, endPage, null);
  }

  /** Sets the protection of the mapped pages in [firstPage, endPage); all must be mapped. */
  protect(firstPage: number, endPage: number, protection: number): void {
    if (!(firstPage < endPage)) return;
    let page = firstPage;
    while (page < endPage) {
      const region = this.find(page);
      if (region === undefined) throw new RangeError(`protect of ${describe(firstPage, endPage)}: page at ${describe(page, page + 1)} is not mapped`);
      page = region.endPage;
    }
    this.reshape(firstPage, endPage, protection);
  }

  /** First page of [firstPage, endPage) that is unmapped or lacks `needed`, or -1. */
  firstDenied(firstPage: number, endPage: number, needed: number): number {
    let page = firstPage;
    while (page < endPage) {
      const region = this.find(page);
      if (region === undefined || (region.protection & needed) !== needed) return page;
      page = region.endPage;
    }
    return -1;
  }

  /** The regions in address order, with byte addresses and three-letter protections. */
  list(): RegionInfo[] {
    return this.regions.map((region) => {
      const start = BigInt(region.firstPage) << BigInt(PAGE_SHIFT);
      const end = BigInt(region.endPage) << BigInt(PAGE_SHIFT);
      return { start, end, sizeBytes: end - start, protection: formatProtection(region.protection) };
    });
  }

  /** The regions themselves, in address order (copies). */
  entries(): Region[] {
    return this.regions.map((region) => ({ ...region }));
  }

  /** An independent copy: changes to either map never show in the other. */
  clone(): RegionMap {
    const copy = new RegionMap();
    copy.regions = this.regions.map((region) => ({ ...region }));
    return copy;
  }

  /** Cuts [firstPage, endPage) out of every region, then re-adds it with `protection` (unless null). */
  private reshape(firstPage: number, endPage: number, protection: number | null): void {
    const kept: Region[] = [];
    for (const region of this.regions) {
      if (region.endPage <= firstPage || region.firstPage >= endPage) {
        kept.push(region);
        continue;
      }
      if (region.firstPage < firstPage) kept.push({ firstPage: region.firstPage, endPage: firstPage, protection: region.protection });
      if (protection !== null) {
        kept.push({ firstPage: Math.max(region.firstPage, firstPage), endPage: Math.min(region.endPage, endPage), protection });
      }
      if (region.endPage > endPage) kept.push({ firstPage: endPage, endPage: region.endPage, protection: region.protection });
    }
    kept.sort((a, b) => a.firstPage - b.firstPage);
    this.regions = kept;
    this.checkInvariants();
  }

  /** Regions are non-empty, sorted and disjoint: a broken map fails here, at the first wrong step. */
  private checkInvariants(): void {
    for (let index = 0; index < this.regions.length; index++) {
      const region = this.regions[index];
      if (!(region.firstPage < region.endPage)) throw new Error(`region map: empty region at index ${index}`);
      if (index > 0 && this.regions[index - 1].endPage > region.firstPage) {
        throw new Error(`region map: regions ${index - 1} and ${index} overlap`);
      }
    }
  }
}

function describe(firstPage: number, endPage: number): string {
  const start = BigInt(firstPage) << BigInt(PAGE_SHIFT);
  const end = BigInt(endPage) << BigInt(PAGE_SHIFT);
  return `[${formatBigAddress(start)}, ${formatBigAddress(end)})`;
}
