import { existsSync } from "node:fs";
import { join } from "node:path";
import { PAGE_SHIFT, PAGE_SIZE_BYTES } from "../space/address.js";
import { AddressSpace } from "../space/address-space.js";
import { checksum } from "../space/image.js";
import { Random } from "../util/random.js";
import { Journal } from "../durable/journal.js";

/**
 * The address-space image kill test. A child process writes to an address space at random
 * and checkpoints it often, journalling each checkpoint's sequence number and a digest of
 * the space's contents just before writing it; the parent kills it with SIGKILL, loads the
 * image and checks that it is exactly the last journalled checkpoint or the one before it.
 */
const JOURNAL_FIELDS = 3;
const WINDOW_PAGES = 512;
const BASE_PAGE = 0x7_0000;
const OPS_PER_CHECKPOINT = 24;
/** 8-byte slots in a page, where the child's 64-bit stores go. */
const U64_SLOTS_PER_PAGE = PAGE_SIZE_BYTES / 8;
/** The most pages one protect of the child changes. */
const MAX_PROTECT_PAGES = 8;

/** Paths in `dir` of the image and of the child's journal. */
export function imageFiles(dir: string): { image: string; journal: string } {
  return { image: join(dir, "space.img"), journal: join(dir, "space.journal") };
}

/** Digest of what a space holds: regions and every page with a non-zero byte. */
export function spaceDigest(space: AddressSpace): [number, number] {
  const parts: number[] = [];
  for (const region of space.regions()) {
    const protection = [...region.protection].reduce((bits, flag, i) => bits | (flag === "-" ? 0 : 1 << i), 0);
    parts.push(Number(region.start >> BigInt(PAGE_SHIFT)), Number(region.end >> BigInt(PAGE_SHIFT)), protection);
  }
  let a = 0;
  let b = 0;
  const page = new Uint8Array(PAGE_SIZE_BYTES);
  for (let pageNumber = BASE_PAGE; pageNumber < BASE_PAGE + WINDOW_PAGES; pageNumber++) {
    page.set(space.read(pageNumber * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES));
    if (page.every((byte) => byte === 0)) continue;
    const [pa, pb] = checksum(page, 0, page.length);
    a = Math.imul(a ^ pa ^ pageNumber, 0x01000193) >>> 0;
    b = Math.imul(b ^ pb, 0x5bd1e995) >>> 0;
  }
  const [ra, rb] = checksum(new Uint8Array(new Uint32Array(parts).buffer), 0, parts.length * 4);
  return [(a ^ ra) >>> 0, (b ^ rb) >>> 0];
}

/** Child: never returns; the parent kills it. */
export function runImageChild(dir: string, seed: number, ready: () => void): never {
  const files = imageFiles(dir);
  let space: AddressSpace;
  if (existsSync(files.image)) {
    space = AddressSpace.load(files.image);
  } else {
    space = new AddressSpace();
    space.map(BASE_PAGE * PAGE_SIZE_BYTES, (WINDOW_PAGES / 2) * PAGE_SIZE_BYTES, "rw-");
  }
  // Keep the journal entry of the loaded checkpoint; later ones never completed.
  const kept = Journal.read(files.journal, JOURNAL_FIELDS).filter(([sequence]) => sequence === space.imageSequence);
  Journal.rewrite(files.journal, JOURNAL_FIELDS, kept.map((record) => [...record]));
  const journal = new Journal(files.journal, JOURNAL_FIELDS);
  const random = new Random(seed);
  const checkpoint = (): void => {
    const [a, b] = spaceDigest(space);
    journal.append(space.imageSequence < 0 ? 0 : space.imageSequence + 1, a, b);
    space.checkpoint(files.image);
  };
  if (space.imageSequence < 0) checkpoint();
  ready();
  for (let op = 1; ; op++) {
    const pageNumber = BASE_PAGE + random.below(WINDOW_PAGES);
    const choice = random.below(100);
    if (choice < 85) space.store64(pageNumber * PAGE_SIZE_BYTES + random.below(U64_SLOTS_PER_PAGE) * 8, BigInt(random.nextU32()) * BigInt(op));
    else if (choice < 95) space.fill(pageNumber * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES, 0);
    else if (choice < 98) space.protect(BASE_PAGE * PAGE_SIZE_BYTES, PAGE_SIZE_BYTES * (1 + random.below(MAX_PROTECT_PAGES)), random.below(2) === 0 ? "r--" : "rw-");
    else space.write(pageNumber * PAGE_SIZE_BYTES, new Uint8Array(PAGE_SIZE_BYTES).fill(op & 0xff));
    if (op % OPS_PER_CHECKPOINT === 0) checkpoint();
  }
}

/** What the check after one kill found. */
export interface ImageCrashCheck {
  /** Whether an image was there and loaded. */
  recovered: boolean;
  /** How long loading the image took, in milliseconds. */
  recoveryMs: number;
  /** Always 0: an image test loses no frames. */
  lostRuns: number;
  /** Each inconsistency between the loaded image and the journal, in words. */
  violations: string[];
}

/** Parent, after a kill: load the image and compare it with the journal. */
export function checkImageAfterCrash(dir: string): ImageCrashCheck {
  const files = imageFiles(dir);
  const journal = Journal.read(files.journal, JOURNAL_FIELDS);
  if (!existsSync(files.image)) return { recovered: false, recoveryMs: 0, lostRuns: 0, violations: [] };
  const start = performance.now();
  let space: AddressSpace;
  try {
    space = AddressSpace.load(files.image);
  } catch (error) {
    return { recovered: false, recoveryMs: 0, lostRuns: 0, violations: [`load failed: ${(error as Error).message}`] };
  }
  const recoveryMs = performance.now() - start;
  const violations: string[] = [];
  const sequence = space.imageSequence;
  const entry = journal.find(([journalled]) => journalled === sequence);
  const last = journal.length === 0 ? -1 : journal[journal.length - 1][0];
  if (entry === undefined) violations.push(`loaded checkpoint ${sequence}, which the child never journalled`);
  else {
    const [a, b] = spaceDigest(space);
    if (a !== entry[1] >>> 0 || b !== entry[2] >>> 0) violations.push(`checkpoint ${sequence} loaded with contents that differ from what the child checkpointed (a mix of checkpoints?)`);
  }
  if (sequence < last - 1) violations.push(`loaded checkpoint ${sequence}, but checkpoint ${last - 1} had completed`);
  return { recovered: true, recoveryMs, lostRuns: 0, violations };
}
