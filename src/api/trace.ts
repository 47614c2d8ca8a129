/** Traces: the interchange format, streaming reads and writes, replay, statistics, generators, lackey import: `memspace/trace`. */
export { OP_WRITE, OP_READ, RECORD_HEADER_BYTES, MAX_RECORD_BYTES, isValidWidth, TraceFormatError } from "../trace/format.js";
export { streamTrace, type ChunkConsumer, type StreamOptions } from "../trace/reader.js";
export { TraceWriter, type TraceWriterOptions } from "../trace/writer.js";
export { TraceRecorder } from "../trace/recorder.js";
export { replayFile, replayChunk, ReplayTally, type ReplayResult } from "../trace/replay.js";
export { TraceStats, REUSE_BUCKETS, type TraceStatsReport } from "../trace/stats.js";
export { generateTrace, TRACE_SHAPES, type TraceShape, type GenerateOptions } from "../trace/generators.js";
export { importLackey, LackeyFormatError, type LackeyImportResult } from "../trace/lackey.js";
