import { TraceFormatError } from "../format.js";
import { buildAccessRuns } from "./access-runs.js";
import { ChunkColumns } from "./chunk-columns.js";
import { ChunkProblem, decodeColumns } from "./chunk-decoder.js";
import { ChunkFile } from "./chunk-file.js";
import { countWords, runWordsWord, slotByteOffset, type SlotSetup } from "./decode-layout.js";
import { V2Layout } from "./layout.js";


/**
 * Decodes chunks of a v2 file into the slots of a parallel decode's shared memory
 * (decode-layout.ts): read at the chunk's indexed offset, checked, inflated, then decoded
 * into columns, or, for a consumer of payloads, turned into access runs or copied raw. Decode
 * workers run one each; the consuming thread runs one too, for chunks it takes on itself
 * rather than wait.
 */
export class SlotDecoder {
  private readonly chunks: ChunkFile;
  private readonly columnsBySlot: ChunkColumns[] = [];
  private readonly bytesBySlot: Uint8Array[] = [];
  private readonly runsBySlot: Int32Array[] = [];

  constructor(
    private readonly setup: SlotSetup,
    private readonly control: Int32Array,
    fd: number,
  ) {
    this.chunks = new ChunkFile(fd, setup.maxChunkRecords, setup.chunkSeedBytes);
    for (let slot = 0; slot < setup.slotCount; slot++) {
      const offset = slotByteOffset(setup.slotCount, setup.slotBytes, slot);
      if (setup.payloads) {
        this.bytesBySlot.push(new Uint8Array(setup.buffer, offset, setup.slotBytes));
        this.runsBySlot.push(new Int32Array(setup.buffer, offset + V2Layout.ChunkHeaderBytes, (setup.slotBytes - V2Layout.ChunkHeaderBytes) >>> 2));
      } else this.columnsBySlot.push(new ChunkColumns(setup.maxChunkRecords, setup.buffer, offset));
    }
  }

  /**
   * Decodes chunk `chunk` into slot `slot` and puts its counts in the slot's count words; a
   * fault is a TraceFormatError naming the file, the chunk and its offset.
   */
  decode(chunk: number, slot: number): void {
    const setup = this.setup;
    const offset = setup.chunkOffsets[chunk];
    const end = chunk + 1 < setup.chunkOffsets.length ? setup.chunkOffsets[chunk + 1] : setup.indexOffset;
    try {
      const { raw, info } = this.chunks.load(offset, end);
      // Runs even where loads hardly come in runs (fetches interleaved with data, about two
      // words a record): they move the parsing off the consuming thread, which decodes chunks
      // itself whenever it would wait, so the two threads share the work either way.
      const runWords = setup.runs ? buildAccessRuns(raw, info, setup.flags, this.runsBySlot[slot]) : -1;
      const control = this.control;
      control[runWordsWord(slot)] = runWords;
      if (setup.payloads) {
        this.bytesBySlot[slot].set(this.chunks.headerBytes, 0);
        if (runWords < 0) this.bytesBySlot[slot].set(raw, V2Layout.ChunkHeaderBytes);
      } else decodeColumns(raw, info, setup.flags, this.columnsBySlot[slot]);
      const counts = countWords(slot);
      control[counts] = info.records;
      control[counts + 1] = info.fetches;
      control[counts + 2] = info.writes;
      control[counts + 3] = info.modifies;
    } catch (error) {
      throw error instanceof ChunkProblem ? new TraceFormatError(setup.name, offset, `chunk ${chunk}: ${error.message}`) : error;
    }
  }
}
