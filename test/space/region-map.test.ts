import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { PAGE_SHIFT } from "../../src/space/address.js";
import { PROT_EXEC, PROT_NONE, PROT_READ, PROT_RW, PROT_WRITE } from "../../src/space/protection.js";
import { RegionMap, type Region } from "../../src/space/region-map.js";

/** The highest page number of the 2^64-byte space: 2^52 - 1, still an exact double. */
const LAST_PAGE = 2 ** (64 - PAGE_SHIFT) - 1;

function regionsOf(map: RegionMap): Array<[number, number, number]> {
  return map.entries().map((region: Region) => [region.firstPage, region.endPage, region.protection]);
}

describe("RegionMap", () => {
  it("starts empty: no regions, every lookup misses, every page is denied", () => {
    const map = new RegionMap();
    assert.equal(map.count, 0);
    assert.deepEqual(map.entries(), []);
    assert.deepEqual(map.list(), []);
    assert.equal(map.find(0), undefined);
    assert.equal(map.find(LAST_PAGE), undefined);
    assert.equal(map.firstDenied(5, 9, PROT_READ), 5);
    assert.equal(map.firstDenied(5, 5, PROT_READ), -1, "an empty range has nothing to deny");
  });

  it("finds a page by binary search, with [firstPage, endPage) bounds, and keeps regions sorted", () => {
    const map = new RegionMap();
    map.map(20, 30, PROT_READ);
    map.map(0, 10, PROT_RW);
    map.map(10, 20, PROT_EXEC);
    assert.deepEqual(regionsOf(map), [
      [0, 10, PROT_RW],
      [10, 20, PROT_EXEC],
      [20, 30, PROT_READ],
    ]);
    assert.equal(map.find(0)?.protection, PROT_RW);
    assert.equal(map.find(9)?.protection, PROT_RW);
    assert.equal(map.find(10)?.protection, PROT_EXEC, "adjacent regions stay separate");
    assert.equal(map.find(29)?.protection, PROT_READ);
    assert.equal(map.find(30), undefined);
  });

  it("rejects a map that overlaps, even by one page, but accepts one that only touches", () => {
    const map = new RegionMap();
    map.map(10, 20, PROT_READ);
    assert.throws(() => map.map(19, 25, PROT_READ), RangeError);
    assert.throws(() => map.map(5, 11, PROT_READ), /overlaps the mapped region/);
    assert.throws(() => map.map(12, 13, PROT_READ), RangeError, "inside");
    assert.throws(() => map.map(0, 100, PROT_READ), RangeError, "around");
    assert.equal(map.count, 1, "a rejected map leaves the map as it was");
    map.map(20, 25, PROT_WRITE);
    map.map(5, 10, PROT_WRITE);
    assert.equal(map.count, 3);
  });

  it("refuses an empty map and treats an empty unmap or protect as doing nothing", () => {
    const map = new RegionMap();
    map.map(10, 20, PROT_READ);
    assert.throws(() => map.map(15, 15, PROT_WRITE), /the range is empty/);
    assert.throws(() => map.map(30, 25, PROT_WRITE), /the range is empty/);
    map.protect(15, 15, PROT_WRITE);
    map.unmap(15, 15);
    assert.deepEqual(map.entries(), [{ firstPage: 10, endPage: 20, protection: PROT_READ }]);
  });

  it("maps and looks up the pages at both ends of the address space", () => {
    const map = new RegionMap();
    map.map(0, 1, PROT_READ);
    map.map(LAST_PAGE, LAST_PAGE + 1, PROT_RW);
    assert.equal(map.find(0)?.protection, PROT_READ);
    assert.equal(map.find(LAST_PAGE)?.protection, PROT_RW);
    assert.equal(map.find(LAST_PAGE - 1), undefined);
    const [low, high] = map.list();
    assert.deepEqual(low, { start: 0n, end: 1n << BigInt(PAGE_SHIFT), sizeBytes: 1n << BigInt(PAGE_SHIFT), protection: "r--" });
    assert.equal(high.start, 2n ** 64n - (1n << BigInt(PAGE_SHIFT)));
    assert.equal(high.end, 2n ** 64n, "the end is exclusive: one past 2^64 - 1");
    assert.equal(high.protection, "rw-");
    map.unmap(LAST_PAGE, LAST_PAGE + 1);
    assert.equal(map.find(LAST_PAGE), undefined);
  });

  it("unmap splits a region, trims edges, spans several regions and ignores unmapped pages", () => {
    const map = new RegionMap();
    map.map(0, 10, PROT_READ);
    map.map(10, 20, PROT_RW);
    map.map(30, 40, PROT_EXEC);
    map.unmap(4, 6);
    assert.deepEqual(regionsOf(map), [
      [0, 4, PROT_READ],
      [6, 10, PROT_READ],
      [10, 20, PROT_RW],
      [30, 40, PROT_EXEC],
    ]);
    map.unmap(8, 35);
    assert.deepEqual(regionsOf(map), [
      [0, 4, PROT_READ],
      [6, 8, PROT_READ],
      [35, 40, PROT_EXEC],
    ]);
    map.unmap(100, 200);
    assert.equal(map.count, 3, "unmapping nothing changes nothing");
    map.unmap(0, 1000);
    assert.equal(map.count, 0);
  });

  it("protect splits at its edges and does not merge neighbours of equal protection", () => {
    const map = new RegionMap();
    map.map(0, 10, PROT_RW);
    map.protect(3, 5, PROT_READ);
    assert.deepEqual(regionsOf(map), [
      [0, 3, PROT_RW],
      [3, 5, PROT_READ],
      [5, 10, PROT_RW],
    ]);
    map.protect(3, 5, PROT_RW);
    assert.deepEqual(regionsOf(map), [
      [0, 3, PROT_RW],
      [3, 5, PROT_RW],
      [5, 10, PROT_RW],
    ]);
    map.map(10, 12, PROT_NONE);
    map.protect(0, 12, PROT_EXEC);
    assert.ok(map.entries().every((region) => region.protection === PROT_EXEC), "one protect across adjacent regions");
  });

  it("protect of a range with an unmapped page throws and changes nothing", () => {
    const map = new RegionMap();
    map.map(0, 4, PROT_RW);
    map.map(5, 8, PROT_RW);
    assert.throws(() => map.protect(2, 6, PROT_READ), /is not mapped/);
    assert.throws(() => map.protect(8, 9, PROT_READ), RangeError);
    assert.deepEqual(regionsOf(map), [
      [0, 4, PROT_RW],
      [5, 8, PROT_RW],
    ]);
  });

  it("firstDenied reports the first unmapped page or the first page without the needed bits", () => {
    const map = new RegionMap();
    map.map(0, 4, PROT_RW);
    map.map(4, 8, PROT_READ);
    map.map(10, 12, PROT_RW);
    assert.equal(map.firstDenied(0, 8, PROT_READ), -1);
    assert.equal(map.firstDenied(0, 8, PROT_WRITE), 4);
    assert.equal(map.firstDenied(2, 12, PROT_READ), 8, "the gap");
    assert.equal(map.firstDenied(0, 4, PROT_RW), -1, "needs all bits");
    assert.equal(map.firstDenied(0, 4, PROT_RW | PROT_EXEC), 0);
    assert.equal(map.firstDenied(3, 3, PROT_EXEC), -1);
  });

  it("clone and entries are copies: changing them leaves the original alone", () => {
    const map = new RegionMap();
    map.map(0, 10, PROT_RW);
    const copy = map.clone();
    copy.unmap(0, 5);
    map.entries()[0].protection = PROT_NONE;
    assert.deepEqual(regionsOf(map), [[0, 10, PROT_RW]]);
    assert.deepEqual(regionsOf(copy), [[5, 10, PROT_RW]]);
  });

  it("matches a page-by-page model under random map, unmap and protect", () => {
    const PAGES = 48;
    // Non-empty ranges only: AddressSpace rejects a size of zero before it reaches the map.
    const rangeArb = fc
      .tuple(fc.integer({ min: 0, max: PAGES - 1 }), fc.integer({ min: 1, max: PAGES }))
      .map(([firstPage, pageCount]) => [firstPage, Math.min(PAGES, firstPage + pageCount)] as [number, number]);
    const protectionArb = fc.constantFrom(PROT_NONE, PROT_READ, PROT_RW, PROT_EXEC);
    const commandArb = fc.tuple(fc.constantFrom("map", "unmap", "protect"), rangeArb, protectionArb);
    fc.assert(
      fc.property(fc.array(commandArb, { maxLength: 60 }), (commands) => {
        const map = new RegionMap();
        const model: Array<number | undefined> = new Array(PAGES).fill(undefined);
        for (const [kind, [firstPage, endPage], protection] of commands) {
          const pages = model.slice(firstPage, endPage);
          if (kind === "map") {
            if (pages.some((page) => page !== undefined)) {
              assert.throws(() => map.map(firstPage, endPage, protection), RangeError);
            } else {
              map.map(firstPage, endPage, protection);
              model.fill(protection, firstPage, endPage);
            }
          } else if (kind === "unmap") {
            map.unmap(firstPage, endPage);
            model.fill(undefined, firstPage, endPage);
          } else if (pages.some((page) => page === undefined)) {
            assert.throws(() => map.protect(firstPage, endPage, protection), RangeError);
          } else {
            map.protect(firstPage, endPage, protection);
            model.fill(protection, firstPage, endPage);
          }
        }
        for (let page = 0; page < PAGES; page++) assert.equal(map.find(page)?.protection, model[page]);
        const entries = map.entries();
        for (let index = 0; index < entries.length; index++) {
          assert.ok(entries[index].firstPage < entries[index].endPage);
          if (index > 0) assert.ok(entries[index - 1].endPage <= entries[index].firstPage);
        }
        const mappedPages = entries.reduce((sum, region) => sum + region.endPage - region.firstPage, 0);
        assert.equal(mappedPages, model.filter((page) => page !== undefined).length);
      }),
      { numRuns: 300 },
    );
  });
});
