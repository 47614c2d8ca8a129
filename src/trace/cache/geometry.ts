/**
 * Cache and TLB geometry: parsing `SIZE,ASSOC,LINE` and `ENTRIES,ASSOC,PAGE` options and
 * checking them the way Cachegrind checks `--I1`, `--D1` and `--LL`.
 */

/** One cache's shape, in Cachegrind's terms. */
export interface CacheGeometry {
  /** Capacity. */
  sizeBytes: number;
  /** Ways per set. */
  assoc: number;
  /** Line size. */
  lineSizeBytes: number;
}

/** One TLB's shape: `entries` translations in sets of `assoc`, each covering a page. */
export interface TlbGeometry {
  /** Translations held. */
  entries: number;
  /** Ways per set. */
  assoc: number;
  /** Page size. */
  pageSizeBytes: number;
}

/**
 * Cachegrind's own defaults on x86 and amd64 when it cannot read the host's caches (the host's
 * are no business of a trace): I1 and D1 64 KiB 2-way, LL 256 KiB 8-way, 64-byte lines.
 */
export const CACHEGRIND_DEFAULT_GEOMETRY: Readonly<Record<"I1" | "D1" | "LL", Readonly<CacheGeometry>>> = {
  I1: { sizeBytes: 65536, assoc: 2, lineSizeBytes: 64 },
  D1: { sizeBytes: 65536, assoc: 2, lineSizeBytes: 64 },
  LL: { sizeBytes: 262144, assoc: 8, lineSizeBytes: 64 },
};

/** Cachegrind's smallest line: below it one x86 instruction could straddle three lines. */
export const MIN_LINE_SIZE_BYTES = 16;
/** Sizes, ways and lines stay int32, as Cachegrind's do. */
const MAX_FIELD = 2 ** 31 - 1;

/** A geometry option that is malformed or that the simulator cannot model; says which and why. */
export class GeometryError extends Error {
  /** `message` says which option and what is wrong. */
  constructor(message: string) {
    super(message);
    this.name = "GeometryError";
  }
}

/** Whether `value` is a power of two from 1 to 2^30. */
export function isPowerOfTwo(value: number): boolean {
  return Number.isInteger(value) && value > 0 && (value & (value - 1)) === 0 && value <= 2 ** 30;
}

/** log2 of a power of two. */
export function log2(powerOfTwo: number): number {
  return 31 - Math.clz32(powerOfTwo);
}

/** Sets of a geometry; its checks have made the division exact. */
export function setCount(geometry: CacheGeometry): number {
  return geometry.sizeBytes / (geometry.lineSizeBytes * geometry.assoc);
}

function parseTriple(what: string, text: string): [number, number, number] {
  const fields = text.split(",");
  if (fields.length !== 3 || !fields.every((field) => /^[0-9]+$/.test(field))) {
    throw new GeometryError(`${what}: expected three comma-separated decimal integers, got "${text}"`);
  }
  const values = fields.map(Number) as [number, number, number];
  if (values.some((value) => value > MAX_FIELD)) throw new GeometryError(`${what}: one of the values in "${text}" is too large`);
  return values;
}

/**
 * Cachegrind's checks (cg_arch.c) for a cache, or null when it is fine: the set count a power
 * of two, the line a power of two of at least 16 bytes, the size above one line, no more ways
 * than lines.
 */
export function cacheGeometryProblem(geometry: CacheGeometry): string | null {
  const { sizeBytes, assoc, lineSizeBytes } = geometry;
  if (assoc === 0) return "associativity must be at least 1";
  if (lineSizeBytes === 0 || sizeBytes % (lineSizeBytes * assoc) !== 0 || !isPowerOfTwo(setCount(geometry))) return "set count is not a power of two";
  if (!isPowerOfTwo(lineSizeBytes)) return "line size is not a power of two";
  if (lineSizeBytes < MIN_LINE_SIZE_BYTES) return `line size is below ${MIN_LINE_SIZE_BYTES} bytes`;
  if (sizeBytes <= lineSizeBytes) return "size is not above the line size";
  if (assoc > sizeBytes / lineSizeBytes) return "associativity exceeds size / line size";
  return null;
}

/** `SIZE,ASSOC,LINE` (`32768,8,64`) as Cachegrind's `--I1`/`--D1`/`--LL` take it; `what` names the option in errors. */
export function parseCacheGeometry(what: string, text: string): CacheGeometry {
  const [sizeBytes, assoc, lineSizeBytes] = parseTriple(what, text);
  const geometry = { sizeBytes, assoc, lineSizeBytes };
  const problem = cacheGeometryProblem(geometry);
  if (problem !== null) throw new GeometryError(`${what}=${text}: ${problem}`);
  return geometry;
}

/** `ENTRIES,ASSOC,PAGE` (`64,4,4096`): entries a multiple of the ways, sets and page size powers of two. */
export function parseTlbGeometry(what: string, text: string): TlbGeometry {
  const [entries, assoc, pageSizeBytes] = parseTriple(what, text);
  if (assoc === 0 || entries === 0 || entries % assoc !== 0 || !isPowerOfTwo(entries / assoc)) {
    throw new GeometryError(`${what}=${text}: entries / associativity must be a power of two`);
  }
  if (!isPowerOfTwo(pageSizeBytes) || pageSizeBytes < 2) throw new GeometryError(`${what}=${text}: page size is not a power of two of at least 2`);
  return { entries, assoc, pageSizeBytes };
}
