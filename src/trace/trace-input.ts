import { InputFile } from "./reader.js";
import type { TraceFileFormat } from "./output.js";
import { hasV2Magic, V2Layout } from "./v2/layout.js";
import { parseV2FileHeader, type V2FileHeader } from "./v2/reader.js";

/** An open trace and its format, told by its first bytes (a v2 container's magic, else seed). */
export interface OpenTrace {
  /** The input, its first bytes handed back so a pipe still reads whole. */
  input: InputFile;
  format: TraceFileFormat;
  /** A v2 trace's file header (null for seed). */
  v2Header: V2FileHeader | null;
}

/**
 * Opens a trace file (`-`: standard input) and tells its format from its first bytes: the
 * v2 magic starts with 0x89, which no seed record does (op 1 or 2).
 */
export function openTrace(path: string): OpenTrace {
  const input = InputFile.open(path, "a trace file");
  try {
    const probe = new Uint8Array(V2Layout.FileHeaderBytes);
    const length = input.readFully(probe, 0, probe.length, null);
    input.unread(probe.subarray(0, length));
    if (!hasV2Magic(probe, length)) return { input, format: "seed", v2Header: null };
    return { input, format: "v2", v2Header: parseV2FileHeader(probe, length, input.name) };
  } catch (error) {
    input.close();
    throw error;
  }
}
