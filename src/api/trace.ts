/** Traces: the interchange format, streaming reads and writes, replay, statistics, generators, lackey import, cache and TLB simulation, reuse distances: `memspace/trace`. */
export { OP_WRITE, OP_READ, RECORD_HEADER_BYTES, MAX_RECORD_BYTES, isValidWidth, TraceFormatError } from "../trace/format.js";
export { streamTrace, type ChunkConsumer, type StreamOptions } from "../trace/reader.js";
export { TraceWriter, type TraceWriterOptions } from "../trace/writer.js";
export { TraceRecorder } from "../trace/recorder.js";
export { replayFile, replayChunk, ReplayTally, type ReplayResult } from "../trace/replay.js";
export { TraceStats, REUSE_BUCKETS, type TraceStatsReport, type StatsPartState } from "../trace/stats.js";
export { mergeStatsParts } from "../trace/stats-parts.js";
export type { BlockListState } from "../trace/block-list.js";
export { collectStatsInParts } from "../trace/stats-parallel.js";
export { generateTrace, TRACE_SHAPES, type TraceShape, type GenerateOptions } from "../trace/generators.js";
export { importLackey, LackeyFormatError, type LackeyImportResult } from "../trace/lackey.js";
export { readLackey, type LackeyAccessKind, type LackeyAccessVisitor } from "../trace/lackey.js";
export { ACCESS_INPUT_FORMATS, type AccessInputFormat, type AccessSink } from "../trace/cache/access-stream.js";
export {
  CACHEGRIND_DEFAULT_GEOMETRY,
  MIN_LINE_SIZE_BYTES,
  GeometryError,
  cacheGeometryProblem,
  parseCacheGeometry,
  parseTlbGeometry,
  type CacheGeometry,
  type TlbGeometry,
} from "../trace/cache/geometry.js";
export { CacheLevel, REPLACEMENT_POLICIES, type ReplacementPolicy, type TagState } from "../trace/cache/cache-level.js";
export { CacheHierarchy, type CacheHierarchyOptions, type HierarchyState, type CacheSummary, type LevelFigures, type SplitLevelFigures } from "../trace/cache/hierarchy.js";
export { CachePart, mergeCachePart, mergeCachePartResult, simulateCacheInParts, type CachePartResult, type CachePartState, type LevelPartState } from "../trace/cache/cache-parts.js";
export { formatCachegrindSummary } from "../trace/cache/summary.js";
export { feedAccesses, feedLackey, feedTrace, type AccessCounts } from "../trace/cache/inputs.js";
export { ReuseDistance, type ReuseBucket, type MissRatioPoint, type ReuseReport, type ReusePartState } from "../trace/cache/reuse-distance.js";
export { TRACE_FILE_FORMATS, type TraceFileFormat, type RecordSink, type TraceOutput } from "../trace/output.js";
export { createTraceOutput, type TraceOutputOptions } from "../trace/open-output.js";
export { openTrace, type OpenTrace } from "../trace/trace-input.js";
export { feedRecords, type RecordCounts } from "../trace/records.js";
export { convertTrace, type ConvertResult } from "../trace/convert.js";
export { V2TraceWriter, type V2WriterOptions } from "../trace/v2/writer.js";
export { RECORD_KINDS, type RecordKindCode } from "../trace/v2/layout.js";
export type { V2FileHeader } from "../trace/v2/reader.js";
export { InputFile } from "../trace/reader.js";
