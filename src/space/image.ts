import { PAGE_SIZE_BYTES } from "./address.js";
import type { Region } from "./region-map.js";

/**
 * Address-space images: a log of checksummed segments. A full segment holds every page
 * with data and the region map; a delta segment (an incremental checkpoint) holds the
 * pages written since the previous segment, the pages discarded since, and the whole
 * region map. Loading applies segments in order and stops at the first one that is
 * truncated, fails its checksum or is out of sequence, so a crash while a checkpoint is
 * being appended gives exactly the previous checkpoint, never a mix.
 *
 * Segment: header (10 u32: magic, version, kind, sequence, regions, pages, discarded,
 * reserved, payload bytes lo/hi), regions (5 u32 each: first page lo/hi, end page lo/hi,
 * protection), discarded page numbers (lo/hi), pages (page number lo/hi + 4096 bytes),
 * trailer (checksum a, checksum b, commit magic, total segment bytes). Little-endian.
 */
export const IMAGE_MAGIC = 0x4d49534d; // "MSIM"
const COMMIT_MAGIC = 0x454e4f44; // "DONE"
const IMAGE_VERSION = 1;
const HEADER_BYTES = 40;
const TRAILER_BYTES = 16;
const REGION_BYTES = 20;
const DISCARDED_BYTES = 8;
const PAGE_RECORD_BYTES = 8 + PAGE_SIZE_BYTES;
const TWO_POW_32 = 2 ** 32;

/** Kind of an image segment: a full image, or the changes since the previous segment. */
export const enum SegmentKind {
  Full = 1,
  Delta = 2,
}

/** Bytes that are not an address-space image (thrown only when not even the first segment is valid). */
export class ImageFormatError extends Error {
  /** Always "ImageFormatError". */
  override name = "ImageFormatError";
}

/** What one image segment holds, before encoding and after decoding. */
export interface SegmentContents {
  /** Full or delta. */
  kind: SegmentKind;
  /** Position of the segment in its log: 0 for the full segment, then one more per delta. */
  sequence: number;
  /** The whole region map at this checkpoint. */
  regions: Region[];
  /** Pages discarded since the previous segment (delta segments only). */
  discardedPages: number[];
  /** The pages written since the previous segment (all pages with data, for a full one), each 4 KiB. */
  pages: Array<[pageNumber: number, bytes: Uint8Array]>;
}

/** The bytes of one segment: header, regions, discarded pages, pages and checksummed trailer. */
export function encodeSegment(contents: SegmentContents): Uint8Array {
  const payloadBytes = contents.regions.length * REGION_BYTES + contents.discardedPages.length * DISCARDED_BYTES + contents.pages.length * PAGE_RECORD_BYTES;
  const totalBytes = HEADER_BYTES + payloadBytes + TRAILER_BYTES;
  const bytes = new Uint8Array(totalBytes);
  const view = new DataView(bytes.buffer);
  const header = [IMAGE_MAGIC, IMAGE_VERSION, contents.kind, contents.sequence, contents.regions.length, contents.pages.length, contents.discardedPages.length, 0, payloadBytes % TWO_POW_32, Math.floor(payloadBytes / TWO_POW_32)];
  header.forEach((value, i) => view.setUint32(i * 4, value, true));
  let at = HEADER_BYTES;
  const putPage = (pageNumber: number): void => {
    view.setUint32(at, pageNumber % TWO_POW_32, true);
    view.setUint32(at + 4, Math.floor(pageNumber / TWO_POW_32), true);
    at += 8;
  };
  for (const region of contents.regions) {
    putPage(region.firstPage);
    putPage(region.endPage);
    view.setUint32(at, region.protection, true);
    at += 4;
  }
  for (const pageNumber of contents.discardedPages) putPage(pageNumber);
  for (const [pageNumber, page] of contents.pages) {
    putPage(pageNumber);
    bytes.set(page, at);
    at += PAGE_SIZE_BYTES;
  }
  const [a, b] = checksum(bytes, 0, at);
  view.setUint32(at, a, true);
  view.setUint32(at + 4, b, true);
  view.setUint32(at + 8, COMMIT_MAGIC, true);
  view.setUint32(at + 12, totalBytes % TWO_POW_32, true);
  return bytes;
}

/** The kind of an encoded segment (from its header). */
export function segmentKind(segment: Uint8Array): SegmentKind {
  return new DataView(segment.buffer, segment.byteOffset).getUint32(8, true);
}

/** The sequence number of an encoded segment (from its header). */
export function segmentSequence(segment: Uint8Array): number {
  return new DataView(segment.buffer, segment.byteOffset).getUint32(12, true);
}

/** The state a log of segments decodes to. */
export interface DecodedImage {
  /** The region map of the last valid segment. */
  regions: Region[];
  /** Page number to page bytes (4 KiB each) for every page with data. */
  pages: Map<number, Uint8Array>;
  /** Sequence number of the last valid segment: the checkpoint loaded. */
  sequence: number;
  /** Bytes of valid segments; anything after is a torn or stale tail. */
  validBytes: number;
  /** Number of valid segments applied. */
  segments: number;
}

/** Applies every valid segment in order; throws only if not even the first is valid. */
export function decodeImage(bytes: Uint8Array, source: string): DecodedImage {
  const image: DecodedImage = { regions: [], pages: new Map(), sequence: -1, validBytes: 0, segments: 0 };
  let at = 0;
  for (;;) {
    const segment = readSegment(bytes, at, image.segments === 0 ? null : image.sequence + 1);
    if (typeof segment === "string") {
      if (image.segments === 0) throw new ImageFormatError(`${source}: not an address-space image: ${segment} at byte offset ${at}`);
      break;
    }
    if (segment.contents.kind === SegmentKind.Full) {
      if (image.segments > 0) break; // a full segment only starts a file
      image.pages.clear();
    }
    image.regions = segment.contents.regions;
    for (const pageNumber of segment.contents.discardedPages) image.pages.delete(pageNumber);
    for (const [pageNumber, page] of segment.contents.pages) image.pages.set(pageNumber, page);
    image.sequence = segment.contents.sequence;
    image.segments++;
    at = segment.end;
    image.validBytes = at;
  }
  return image;
}

/** The segment at `at`, or why it is not a valid one (the expected sequence, if given). */
function readSegment(bytes: Uint8Array, at: number, expectedSequence: number | null): { contents: SegmentContents; end: number } | string {
  if (bytes.length - at < HEADER_BYTES + TRAILER_BYTES) return at === bytes.length ? "end of file" : "truncated segment header";
  const view = new DataView(bytes.buffer, bytes.byteOffset + at, bytes.length - at);
  const u32 = (offset: number): number => view.getUint32(offset, true);
  if (u32(0) !== IMAGE_MAGIC) return `bad magic 0x${u32(0).toString(16)}`;
  if (u32(4) !== IMAGE_VERSION) return `unknown version ${u32(4)}`;
  const kind = u32(8);
  if (kind !== SegmentKind.Full && kind !== SegmentKind.Delta) return `unknown segment kind ${kind}`;
  const sequence = u32(12);
  if (expectedSequence !== null && sequence !== expectedSequence) return `sequence ${sequence}, expected ${expectedSequence}`;
  const [regionCount, pageCount, discardedCount] = [u32(16), u32(20), u32(24)];
  const payloadBytes = u32(32) + u32(36) * TWO_POW_32;
  if (payloadBytes !== regionCount * REGION_BYTES + discardedCount * DISCARDED_BYTES + pageCount * PAGE_RECORD_BYTES) return "inconsistent segment header";
  const end = at + HEADER_BYTES + payloadBytes + TRAILER_BYTES;
  if (end > bytes.length) return "truncated segment";
  const trailer = HEADER_BYTES + payloadBytes;
  const [a, b] = checksum(bytes, at, at + trailer);
  if (u32(trailer) !== a || u32(trailer + 4) !== b || u32(trailer + 8) !== COMMIT_MAGIC || u32(trailer + 12) !== (end - at) % TWO_POW_32) return "checksum mismatch (a torn or corrupt segment)";
  let offset = HEADER_BYTES;
  const getPage = (): number => {
    const pageNumber = u32(offset) + u32(offset + 4) * TWO_POW_32;
    offset += 8;
    return pageNumber;
  };
  const regions: Region[] = [];
  for (let i = 0; i < regionCount; i++) {
    const firstPage = getPage();
    const endPage = getPage();
    regions.push({ firstPage, endPage, protection: u32(offset) });
    offset += 4;
  }
  const discardedPages: number[] = [];
  for (let i = 0; i < discardedCount; i++) discardedPages.push(getPage());
  const pages: Array<[number, Uint8Array]> = [];
  for (let i = 0; i < pageCount; i++) {
    const pageNumber = getPage();
    pages.push([pageNumber, bytes.slice(at + offset, at + offset + PAGE_SIZE_BYTES)]);
    offset += PAGE_SIZE_BYTES;
  }
  return { contents: { kind, sequence, regions, discardedPages, pages }, end };
}

/**
 * Two independent 32-bit hashes (FNV-1a style, over 32-bit words where aligned) of
 * bytes [start, end): 64 bits of protection against torn or corrupt segments.
 */
export function checksum(bytes: Uint8Array, start: number, end: number): [number, number] {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x9e3779b9;
  let at = start;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  for (; at + 4 <= end; at += 4) {
    const word = view.getUint32(at, true);
    a = Math.imul(a ^ word, 0x01000193);
    b = Math.imul(b ^ word, 0x5bd1e995);
    b ^= b >>> 15;
  }
  for (; at < end; at++) {
    a = Math.imul(a ^ bytes[at], 0x01000193);
    b = Math.imul(b ^ bytes[at], 0x5bd1e995);
  }
  return [a >>> 0, b >>> 0];
}
