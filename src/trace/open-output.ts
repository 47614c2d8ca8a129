import type { TraceFileFormat, TraceOutput } from "./output.js";
import { V2TraceWriter } from "./v2/writer.js";
import { TraceWriter } from "./writer.js";

/** Options of `createTraceOutput`. */
export interface TraceOutputOptions {
  /** The command's inputs: writing over one is refused before anything is written. */
  inputPaths?: readonly string[];
  /** Whether write values are worth keeping (v2 only: false for lackey logs, which have none). */
  values?: boolean;
}

/** Starts a trace in `format` that appears at `path` when closed. */
export function createTraceOutput(path: string, format: TraceFileFormat, options: TraceOutputOptions = {}): TraceOutput {
  if (format === "v2") return new V2TraceWriter(path, { inputPaths: options.inputPaths, values: options.values });
  return new TraceWriter(path, { inputPaths: options.inputPaths });
}
