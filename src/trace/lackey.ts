import { STREAM_CHUNK_BYTES } from "./format.js";
import { createTraceOutput } from "./open-output.js";
import type { TraceFileFormat } from "./output.js";
import { InputFile } from "./reader.js";
import { derivedValueHi, derivedValueLo } from "./v2/seed-pieces.js";

/** A malformed line of Valgrind lackey output; names the file and the line number. */
export class LackeyFormatError extends Error {
  /** A problem on line `lineNumber` of `file`. */
  constructor(
    /** The lackey output file, as error messages name it. */
    readonly file: string,
    /** Line number of the bad line, from 1. */
    readonly lineNumber: number,
    problem: string,
  ) {
    super(`${file}: line ${lineNumber}: ${problem}`);
    this.name = "LackeyFormatError";
  }
}

/** What `importLackey` read and wrote. */
export interface LackeyImportResult {
  /** Lines read, skipped ones included. */
  lines: number;
  /** `I` lines: instruction fetches. */
  instructionFetches: number;
  /** ` L` lines: loads. */
  loads: number;
  /** ` S` lines: stores. */
  stores: number;
  /** ` M` lines: modifies, each a read and a write. */
  modifies: number;
  /** Records written: one an access (a seed trace splits them further, see seed-pieces.ts). */
  records: number;
  /** Records as the file holds them: seed records (an access split into pieces), or v2 records. */
  ops: number;
}

const MAX_ACCESS_BYTES = 4096;
/** Guards memory against a file with no line breaks. */
const MAX_LINE_CHARS = 1 << 20;
/** Characters of a bad line quoted in its error message. */
const QUOTED_LINE_CHARS = 80;
const ACCESS_LINE = /^(I |\s[LSM]) ([0-9a-fA-F]{1,16}),(\d+)\s*$/;

/** A lackey access line's kind: `I` instruction fetch, `L` load, `S` store, `M` modify (load then store). */
export type LackeyAccessKind = "I" | "L" | "S" | "M";

/** Receives each access line of a lackey log: its kind, address halves and size in bytes. */
export type LackeyAccessVisitor = (kind: LackeyAccessKind, lo: number, hi: number, sizeBytes: number) => void;

/**
 * Reads Valgrind lackey `--trace-mem=yes` output from `inputPath` (`-`: standard input; pipes
 * and FIFOs are read as they come), streaming, and hands each access line to `visit`. Lines
 * starting with `==` (Valgrind's own messages) and blank lines are skipped; anything else is
 * an error naming the line. Returns the number of lines read.
 */
export function readLackey(inputPath: string, visit: LackeyAccessVisitor): number {
  const input = InputFile.open(inputPath, "lackey output");
  const file = input.name;
  const decoder = new TextDecoder("latin1");
  let lines = 0;
  try {
    const buffer = new Uint8Array(STREAM_CHUNK_BYTES);
    let carried = "";
    for (;;) {
      const read = input.readFully(buffer, 0, buffer.length, null);
      if (read === 0) break;
      const text = carried + decoder.decode(buffer.subarray(0, read));
      const lastNewline = text.lastIndexOf("\n");
      const complete = lastNewline < 0 ? "" : text.slice(0, lastNewline);
      carried = lastNewline < 0 ? text : text.slice(lastNewline + 1);
      if (lastNewline >= 0) for (const line of complete.split("\n")) parseLine(line, ++lines, file, visit);
      if (carried.length > MAX_LINE_CHARS) throw new LackeyFormatError(file, lines + 1, "line longer than 1 MiB");
    }
    if (carried.length > 0) parseLine(carried, ++lines, file, visit);
  } finally {
    input.close();
  }
  return lines;
}

/**
 * Converts Valgrind lackey `--trace-mem=yes` output (as readLackey reads it) into a trace,
 * streaming: `I` lines become fetches, ` L` reads, ` S` writes, ` M` modifies (in seed: a read
 * then a write).
 * A v2 trace keeps each access whole; a seed trace splits it (seed-pieces.ts) and, having no
 * fetch records, writes fetches as reads. Lackey records no values: a v2 trace stores none,
 * and a seed trace gets values derived from the record index, as conversion from v2 gives.
 */
export function importLackey(inputPath: string, outputPath: string, format: TraceFileFormat = "seed"): LackeyImportResult {
  const result: LackeyImportResult = { lines: 0, instructionFetches: 0, loads: 0, stores: 0, modifies: 0, records: 0, ops: 0 };
  const output = createTraceOutput(outputPath, format, { inputPaths: [inputPath], values: false });
  try {
    result.lines = readLackey(inputPath, (kind, lo, hi, sizeBytes) => {
      if (kind === "I") {
        result.instructionFetches++;
        output.fetch(lo, hi, sizeBytes);
        return;
      }
      const index = output.recordsWritten;
      if (kind === "L") {
        result.loads++;
        output.read(lo, hi, sizeBytes);
      } else if (kind === "S") {
        result.stores++;
        output.write(lo, hi, sizeBytes, derivedValueLo(index), derivedValueHi(index));
      } else {
        result.modifies++;
        output.modify(lo, hi, sizeBytes, derivedValueLo(index), derivedValueHi(index));
      }
    });
  } catch (error) {
    output.discard();
    throw error;
  }
  output.close();
  result.records = output.recordsWritten;
  result.ops = output.opsWritten;
  return result;
}

function parseLine(line: string, lineNumber: number, file: string, visit: LackeyAccessVisitor): void {
  if (line.startsWith("==") || line.trim() === "") return;
  const match = ACCESS_LINE.exec(line);
  if (match === null) throw new LackeyFormatError(file, lineNumber, `not a lackey access line: ${JSON.stringify(line.slice(0, QUOTED_LINE_CHARS))}`);
  const hex = match[2];
  const sizeBytes = Number(match[3]);
  if (sizeBytes < 1 || sizeBytes > MAX_ACCESS_BYTES) throw new LackeyFormatError(file, lineNumber, `access size ${sizeBytes} out of range 1..${MAX_ACCESS_BYTES}`);
  const hi = hex.length > 8 ? parseInt(hex.slice(0, hex.length - 8), 16) : 0;
  const lo = parseInt(hex.length > 8 ? hex.slice(hex.length - 8) : hex, 16);
  if (hi === 0xffffffff && lo + sizeBytes - 1 > 0xffffffff) {
    throw new LackeyFormatError(file, lineNumber, `access of ${sizeBytes} bytes at 0x${hex} runs past the top of the 64-bit space`);
  }
  visit(match[1].trim() as LackeyAccessKind, lo, hi, sizeBytes);
}
