import { createTraceOutput } from "./open-output.js";
import type { TraceFileFormat } from "./output.js";
import type { StreamOptions } from "./reader.js";
import { feedOpenTrace } from "./records.js";
import { openTrace } from "./trace-input.js";
import { V2Flag } from "./v2/layout.js";

/** What `convertTrace` read and wrote. */
export interface ConvertResult {
  /** The input's format. */
  from: TraceFileFormat;
  /** The output's format. */
  to: TraceFileFormat;
  /** Records read, by kind. */
  fetches: number;
  reads: number;
  writes: number;
  modifies: number;
  /** Records as the output holds them (seed records, or v2 records). */
  ops: number;
  /** Bytes of the input read, the whole file. */
  inputBytes: number;
  /** Bytes of the output. */
  sizeBytes: number;
}

/**
 * Converts a trace (`-`: standard input, seed or v2) into `format` at `outputPath`, streaming;
 * the output appears only when whole. Converting v2 to seed writes fetches as reads
 * (seed-pieces.ts), so seed to v2 and back gives the same bytes, as does v2 to seed and back
 * for a v2 trace without fetches, pcs or odd sizes. A v2 trace without values stays without.
 */
export function convertTrace(inputPath: string, outputPath: string, format: TraceFileFormat, options: StreamOptions = {}): ConvertResult {
  const trace = openTrace(inputPath);
  try {
    const values = trace.v2Header === null || (trace.v2Header.flags & V2Flag.Values) !== 0;
    const output = createTraceOutput(outputPath, format, { inputPaths: [inputPath], values });
    try {
      const counts = feedOpenTrace(trace, output, options);
      output.close();
      return { from: trace.format, to: format, fetches: counts.fetches, reads: counts.reads, writes: counts.writes, modifies: counts.modifies, inputBytes: counts.inputBytes, ops: output.opsWritten, sizeBytes: output.byteLength };
    } catch (error) {
      output.discard();
      throw error;
    }
  } finally {
    trace.input.close();
  }
}
