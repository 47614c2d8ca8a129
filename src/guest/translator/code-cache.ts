/**
 * Translated regions, cached per 4 KiB code page, and what drops them: a store over bytes
 * of translated code, a change through the AddressSpace's own methods (system calls,
 * debuggers, map/unmap/protect), fence.i. A page's regions go together, never one by one:
 * blocks never cross a page, so a page's code is all its regions depend on, and the pages
 * a region spans are linked: dropping one drops the others.
 */
import { PAGE_SIZE_BYTES } from "../../space/address.js";
import { CODE_FILTER_BITS, SLOTS_PER_PAGE, type PlannedBlock } from "./block-source.js";

/** What the runner needs to settle an exception inside one translated block. */
export interface TranslatedBlock {
  /** Instructions in the block. */
  readonly length: number;
  /** Each instruction's pc (low and high halves). */
  readonly pcLo: Int32Array;
  readonly pcHi: Int32Array;
  /** Loads (fetch parcels included) and stores the interpreter would have counted before each instruction. */
  readonly loadsBefore: Int32Array;
  readonly storesBefore: Int32Array;
  /** Each instruction's fetch parcels. */
  readonly parcels: Uint8Array;
}

/** A region's function: runs from the block at `slot`, at most `left` instructions; returns how many ran. */
export type RegionFunction = (hart: unknown, regs: Int32Array, memory: unknown, state: Int32Array, slot: number, left: number) => number;

/** Translated blocks in one function (block-source.ts's regionSource), entered from its first page. */
export interface Region {
  readonly run: RegionFunction;
  /** Its blocks, by the index a running block leaves in BlockState.Position (above POSITION_BLOCK_SHIFT). */
  readonly blocks: readonly TranslatedBlock[];
  /** The pages its blocks come from, the page that enters it first: a store that drops one of them ends the region. */
  readonly pageNumbers: readonly number[];
}

/** Pages whose entries into a page are counted, by the low bits of their page number (a direct-mapped set). */
export const CALLER_SLOTS = 8;

/** The translations of one code page, and how often each cold block start has run. */
export class CodePage {
  /** The region holding the block at each half-word slot (-1: none). */
  readonly regionOf = new Int16Array(SLOTS_PER_PAGE).fill(-1);
  readonly regions: Region[] = [];
  /** The hot blocks by slot. */
  readonly hot = new Map<number, PlannedBlock>();
  /** Entries from the runner into each translated block since the last merge. */
  readonly entries = new Uint32Array(SLOTS_PER_PAGE);
  /** Entries from the runner into the page's regions, out of regions of this or other pages, since the last merge. */
  dispatches = 0;
  /** The pages whose regions the runner left for this page's, and how often since the last merge (CALLER_SLOTS of them). */
  readonly callerPage = new Float64Array(CALLER_SLOTS).fill(-1);
  readonly callerEntries = new Uint32Array(CALLER_SLOTS);
  /** The blocks in the page's shared region, by blockKey (they may come from other pages). */
  merged = new Map<number, PlannedBlock>();
  /** Pages whose blocks share a region with this page's: they are dropped with it. */
  readonly linked = new Set<number>();
  /** Runs of each block start in the interpreter (at most 65,535). */
  readonly heat = new Uint16Array(SLOTS_PER_PAGE);
  /** Instructions of each cold block start (0: not yet scanned), for the interpreter's run of it. */
  readonly coldLength = new Uint8Array(SLOTS_PER_PAGE);
  /** Half-words covered by translated instructions: only a store over one of these drops the page. */
  readonly code = new Uint8Array(SLOTS_PER_PAGE);
  /** Whether the page counts in the code filter (it holds a translated block). */
  translated = false;
  /** Set when the cache drops the page: whoever still holds it looks it up again. */
  dropped = false;

  /** The page number's low 20 bits (a pc's bits 12-31) and its high half, as the runner compares them. */
  readonly pageLo: number;
  readonly pageHi: number;

  constructor(readonly pageNumber: number) {
    this.pageLo = pageNumber % 2 ** 20;
    this.pageHi = Math.floor(pageNumber / 2 ** 20) | 0;
  }
}

/** The cache: pages by number, and a filter a store checks before it looks any further. */
export class CodeCache {
  /**
   * Translated pages by the low CODE_FILTER_BITS of their page number: a store whose pages
   * count 0 here cannot touch translated code.
   */
  readonly filter = new Int32Array(1 << CODE_FILTER_BITS);
  private readonly pages = new Map<number, CodePage>();
  /** Pages dropped so far (the runner reports it). */
  invalidations = 0;

  /** The page's translations, made empty on first use. */
  page(pageNumber: number): CodePage {
    let page = this.pages.get(pageNumber);
    if (page === undefined) {
      page = new CodePage(pageNumber);
      this.pages.set(pageNumber, page);
    }
    return page;
  }

  /** Records translated code on its page: the half-words [firstSlot, endSlot). */
  markCode(page: CodePage, firstSlot: number, endSlot: number): void {
    page.code.fill(1, firstSlot, endSlot);
    if (!page.translated) {
      page.translated = true;
      this.filter[page.pageNumber & ((1 << CODE_FILTER_BITS) - 1)]++;
    }
  }

  /**
   * Whether a store of `widthBytes` at low half `lo` may touch a page with translated code:
   * the filter test translated stores make inline (block-source.ts's codeCheck).
   */
  mayHoldCode(lo: number, widthBytes: number): boolean {
    const mask = (1 << CODE_FILTER_BITS) - 1;
    return (this.filter[(lo >>> 12) & mask] | this.filter[((lo + widthBytes - 1) >>> 12) & mask]) !== 0;
  }

  /** Makes each of `pageNumbers` drop with the others. */
  link(pageNumbers: readonly number[]): void {
    for (const pageNumber of pageNumbers) {
      const page = this.pages.get(pageNumber)!;
      for (const other of pageNumbers) if (other !== pageNumber) page.linked.add(other);
    }
  }

  /**
   * After a store of `widthBytes` at (lo, hi): drops the pages whose translated code it
   * overwrote; returns whether it dropped one of `running` (the running region's pages).
   */
  stored(lo: number, hi: number, widthBytes: number, running: readonly number[]): boolean {
    const firstPage = (hi >>> 0) * 2 ** 20 + (lo >>> 12);
    const offset = lo & (PAGE_SIZE_BYTES - 1);
    this.storedInPage(firstPage, offset, Math.min(widthBytes, PAGE_SIZE_BYTES - offset));
    if (offset + widthBytes > PAGE_SIZE_BYTES) this.storedInPage(firstPage + 1, 0, offset + widthBytes - PAGE_SIZE_BYTES);
    // Linked pages go too: any of the running region's pages dropped ends it.
    return running.some((pageNumber) => !this.pages.has(pageNumber));
  }

  private storedInPage(pageNumber: number, offset: number, lengthBytes: number): void {
    const page = this.pages.get(pageNumber);
    if (page === undefined || !page.translated) return;
    for (let slot = offset >>> 1; slot <= (offset + lengthBytes - 1) >>> 1; slot++) {
      if (page.code[slot] !== 0) {
        this.drop(pageNumber);
        return;
      }
    }
  }

  /** Drops the translations of pages [firstPage, endPage). */
  dropRange(firstPage: number, endPage: number): void {
    if (endPage - firstPage > this.pages.size) {
      for (const pageNumber of [...this.pages.keys()]) if (pageNumber >= firstPage && pageNumber < endPage) this.drop(pageNumber);
    } else {
      for (let pageNumber = firstPage; pageNumber < endPage; pageNumber++) if (this.pages.has(pageNumber)) this.drop(pageNumber);
    }
  }

  /** Drops every translation (fence.i, a change of mode). */
  clear(): void {
    for (const pageNumber of [...this.pages.keys()]) this.drop(pageNumber);
  }

  private drop(pageNumber: number): void {
    const page = this.pages.get(pageNumber);
    if (page === undefined) return;
    this.pages.delete(pageNumber);
    page.dropped = true;
    if (page.translated) {
      this.filter[pageNumber & ((1 << CODE_FILTER_BITS) - 1)]--;
      this.invalidations++;
    }
    for (const other of page.linked) this.drop(other);
  }
}
