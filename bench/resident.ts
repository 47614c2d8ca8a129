/**
 * Resident bytes of one large buffer, as the kernel counts them (Linux /proc/self/smaps): the
 * figure the native allocators' footprint is measured by (the driver's peak RSS), applied to
 * a JS allocator's backing buffer. V8 maps a large ArrayBuffer on its own and never hands its
 * pages back, so the buffer's resident bytes are the high-water mark of the pages the
 * allocator (or the program, through it) ever touched.
 */
import { readFileSync } from "node:fs";

const SMAPS = "/proc/self/smaps";

interface Mapping {
  sizeBytes: number;
  residentBytes: number;
}

function mappings(): Mapping[] | null {
  let text: string;
  try {
    text = readFileSync(SMAPS, "utf8");
  } catch {
    return null; // not Linux
  }
  const found: Mapping[] = [];
  for (const line of text.split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range !== null) {
      found.push({ sizeBytes: parseInt(range[2], 16) - parseInt(range[1], 16), residentBytes: 0 });
    } else if (line.startsWith("Rss:") && found.length > 0) {
      found[found.length - 1].residentBytes = Number(line.split(/\s+/)[1]) * 1024;
    }
  }
  return found;
}

/** Resident bytes of all mappings of at least `minBytes` (null where there is no smaps). */
function residentOfLargeMappings(minBytes: number): number | null {
  const all = mappings();
  if (all === null) return null;
  return all.filter((mapping) => mapping.sizeBytes >= minBytes).reduce((sum, mapping) => sum + mapping.residentBytes, 0);
}

/**
 * Call before creating the buffer; `measure` returns how many bytes of large mappings became
 * resident since: the new buffer's resident bytes, as long as nothing else large is touched
 * meanwhile. (A difference, because the kernel merges the new buffer's mapping with an
 * adjacent one, such as an earlier buffer's: it has no boundary of its own to look for. A
 * small resident neighbour merged into it is counted too, so the figure can only err high.)
 */
export function watchNewBuffer(minBytes: number): { measure(): number | null } {
  const before = residentOfLargeMappings(minBytes);
  return {
    measure() {
      const after = residentOfLargeMappings(minBytes);
      return before === null || after === null ? null : after - before;
    },
  };
}
