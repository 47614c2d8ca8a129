import { readFileSync } from "node:fs";
import { PAGE_SIZE_BYTES } from "./address.js";
import type { MemoryBackend } from "./backend.js";
import { decodeImage, encodeSegment, SegmentKind, segmentKind, segmentSequence } from "./image.js";
import type { RegionMap } from "./region-map.js";
import { appendToFile, replaceFile } from "../durable/files.js";
import type { PersistMedium } from "../durable/medium.js";

/** An image log may grow this far beyond twice a full image before a checkpoint compacts it. */
const COMPACTION_SLACK_BYTES = 1 << 20;

/**
 * The image log of one address space (its backend and region map): saves, checkpoints and
 * loads through files or a medium, and where the next checkpoint appends. AddressSpace only
 * forwards to it, so the space itself does no I/O.
 */
export class ImageLog {
  /** The log this space last saved to or loaded from. */
  private log: { key: string; sequence: number; lengthBytes: number } | null = null;

  /** The log of `backend` and `regionMap`; nothing is read or written until a save, checkpoint or load. */
  constructor(
    private readonly backend: MemoryBackend,
    private readonly regionMap: RegionMap,
  ) {}

  /** See AddressSpace.save. */
  save(path: string): void {
    this.writeFile(path, this.nextSegment(path, true));
  }

  /** See AddressSpace.checkpoint. */
  checkpoint(path: string): void {
    this.writeFile(path, this.nextSegment(path, false));
  }

  /** See AddressSpace.checkpointTo. */
  checkpointTo(medium: PersistMedium, key: string): void {
    const segment = this.nextSegment(key, false);
    const offset = segmentKind(segment) === SegmentKind.Full ? 0 : this.log!.lengthBytes;
    medium.persist(offset, segment);
    medium.barrier();
    this.log = { key, sequence: segmentSequence(segment), lengthBytes: offset + segment.length };
  }

  /** Fills the space, which must be empty, from the image file at `path`. */
  load(path: string): void {
    this.restore(readFileSync(path), path);
  }

  /** Fills the space, which must be empty, from the bytes of an image log (`source` names it in errors, and keys the next checkpoint). */
  restore(bytes: Uint8Array, source: string): void {
    const image = decodeImage(bytes, source);
    for (const region of image.regions) this.regionMap.map(region.firstPage, region.endPage, region.protection);
    for (const [pageNumber, page] of image.pages) this.backend.writePage(pageNumber, 0, page, 0, PAGE_SIZE_BYTES);
    this.backend.takeDirtyPages();
    this.log = { key: source, sequence: image.sequence, lengthBytes: image.validBytes };
  }

  /** Sequence number of the checkpoint last saved or loaded (0: a full save), or -1. */
  get sequence(): number {
    return this.log?.sequence ?? -1;
  }

  /** A full segment replaces the file atomically; a delta is appended to it. */
  private writeFile(path: string, segment: Uint8Array): void {
    if (segmentKind(segment) === SegmentKind.Full) {
      replaceFile(path, segment);
      this.log = { key: path, sequence: segmentSequence(segment), lengthBytes: segment.length };
    } else {
      appendToFile(path, this.log!.lengthBytes, segment);
      this.log = { key: path, sequence: segmentSequence(segment), lengthBytes: this.log!.lengthBytes + segment.length };
    }
  }

  /**
   * The next segment for the log `key`: what changed since the last one (a delta), or
   * everything (full) when asked, when `key` is not this space's log, or when the backend
   * cannot tell what changed.
   */
  private nextSegment(key: string, full: boolean): Uint8Array {
    const dirty = this.backend.takeDirtyPages();
    const log = this.log;
    const delta = !full && dirty !== null && log !== null && log.key === key;
    const resident = new Set<number>();
    this.backend.forEachResidentPage((pageNumber) => resident.add(pageNumber));
    // Compaction: once the log is twice the size of a full image, the next one is full.
    const compact = delta && log.lengthBytes > 2 * resident.size * (PAGE_SIZE_BYTES + 8) + COMPACTION_SLACK_BYTES;
    if (compact) return this.nextSegment(key, true);
    const wanted = delta ? dirty : [...resident];
    const pages: Array<[number, Uint8Array]> = [];
    const discardedPages: number[] = [];
    for (const pageNumber of wanted.sort((a, b) => a - b)) {
      if (!resident.has(pageNumber)) {
        discardedPages.push(pageNumber);
        continue;
      }
      const page = new Uint8Array(PAGE_SIZE_BYTES);
      this.backend.readPage(pageNumber, 0, page, 0, PAGE_SIZE_BYTES);
      pages.push([pageNumber, page]);
    }
    return encodeSegment({
      kind: delta ? SegmentKind.Delta : SegmentKind.Full,
      // Sequence numbers go on rising through compactions, so a checkpoint is named once.
      sequence: log !== null && log.key === key ? log.sequence + 1 : 0,
      regions: this.regionMap.entries(),
      discardedPages,
      pages,
    });
  }
}
