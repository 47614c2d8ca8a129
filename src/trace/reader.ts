import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { MessageChannel, receiveMessageOnPort, Worker } from "node:worker_threads";
import { STDIN_PATH } from "../util/output-file.js";
import { waitWhileWord } from "../util/worker-wait.js";
import { headerProblem, MAX_RECORD_BYTES, OP_WRITE, READ_CHUNK_BYTES, RECORD_HEADER_BYTES, recordProblem, TraceFormatError } from "./format.js";
import { cancelWord, ChunkState, controlWords, nextChunkWord, type ReadAheadSetup } from "./read-ahead-layout.js";

/**
 * Consumes whole records from `bytes[start, end)` and returns the index it stopped at (the
 * rest is a partial record, carried into the next chunk). `fileOffset` is the file offset
 * of `bytes[start]`, for error messages. `bytes` and `view` are the same objects for every
 * chunk of a stream, so the consumer's hot loop stays monomorphic.
 */
export type ChunkConsumer = (bytes: Uint8Array, view: DataView, start: number, end: number, fileOffset: number) => number;

/** Options of `streamTrace` and `replayFile`. */
export interface StreamOptions {
  /** Bytes per chunk read (default 2 MiB, at least one whole record). */
  chunkBytes?: number;
  /**
   * Read the next chunks on a worker thread while this one is consumed: "auto" (the
   * default) does so for files of more than four chunks. Only regular files are read ahead.
   */
  readAhead?: boolean | "auto";
  /**
   * v2 traces: worker threads that decode chunks while this thread consumes them (0: decode
   * here). Default: the cores but one, at least 1, at most 4.
   */
  decodeWorkers?: number;
  /**
   * Called after each chunk with the bytes consumed so far and the input's size, 0 when
   * that is unknown (a pipe).
   */
  onProgress?: (bytesDone: number, bytesTotal: number) => void;
}

const STDIN_FD = 0;
/** A non-blocking standard input (set so by whoever shares it) with no data yet is polled this often. */
const EAGAIN_WAIT_MS = 1;
const sleepWord = new Int32Array(new SharedArrayBuffer(4));

/** How error messages name standard input (the path `-`). */
export const STDIN_NAME = "<stdin>";

/** `path` as error messages name it: `<stdin>` for `-`. */
export function inputName(path: string): string {
  return path === STDIN_PATH ? STDIN_NAME : path;
}

/** An open input: standard input for `-`, else a file, FIFO or device. */
export class InputFile {
  /** True for a regular file opened by path: it can be read at any offset (and ahead). */
  readonly positioned: boolean;
  /** The size of a regular file; 0 when unknown (a pipe, a device). */
  readonly sizeBytes: number;
  /** Bytes read in order and handed back (`unread`), served before the input's next bytes. */
  private pending: Uint8Array | null = null;

  private constructor(
    readonly path: string,
    readonly name: string,
    readonly fd: number,
    kind: string,
  ) {
    const stats = fstatSync(fd);
    if (stats.isDirectory()) throw new Error(`${name}: is a directory, not ${kind}`);
    // Standard input is read from where it stands (a redirected file may be partly read).
    this.positioned = stats.isFile() && fd !== STDIN_FD;
    this.sizeBytes = stats.isFile() ? stats.size : 0;
  }

  /**
   * Opens `path` (`-`: standard input) for reading; an unusable path is an error naming it
   * and saying that it is not `kind` ("a trace file").
   */
  static open(path: string, kind: string): InputFile {
    const name = inputName(path);
    const fd = path === STDIN_PATH ? STDIN_FD : openSync(path, "r");
    try {
      return new InputFile(path, name, fd, kind);
    } catch (error) {
      if (fd !== STDIN_FD) closeSync(fd);
      throw error;
    }
  }

  /**
   * Reads up to `length` bytes into `bytes[start...]` from file offset `position`, or from
   * where the input stands when `position` is null; fewer only at the end of the input.
   */
  readFully(bytes: Uint8Array, start: number, length: number, position: number | null): number {
    let done = 0;
    if (position === null && this.pending !== null) {
      done = Math.min(length, this.pending.length);
      bytes.set(this.pending.subarray(0, done), start);
      this.pending = done < this.pending.length ? this.pending.subarray(done) : null;
    }
    while (done < length) {
      const read = readRetrying(this, bytes, start + done, length - done, position === null ? null : position + done);
      if (read === 0) break;
      done += read;
    }
    return done;
  }

  /**
   * Hands back `bytes`, just read in order, so that the next in-order read returns them
   * first: a reader can look at a pipe's first bytes (to tell the format) and still read
   * it whole. Reads at a position are not affected.
   */
  unread(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    const rest = this.pending ?? new Uint8Array(0);
    const joined = new Uint8Array(bytes.length + rest.length);
    joined.set(bytes, 0);
    joined.set(rest, bytes.length);
    this.pending = joined;
  }

  /** Closes the file (standard input stays open). */
  close(): void {
    if (this.fd !== STDIN_FD) closeSync(this.fd);
  }
}

/** One readSync; waits out EAGAIN, and names the input in any other error. */
function readRetrying(input: InputFile, bytes: Uint8Array, start: number, length: number, position: number | null): number {
  for (;;) {
    try {
      return readSync(input.fd, bytes, start, length, position);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        Atomics.wait(sleepWord, 0, 0, EAGAIN_WAIT_MS);
        continue;
      }
      throw new Error(`${input.name}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  }
}

/** Room before each chunk for the carried partial record (at most 17 bytes), 8-aligned. */
const PREFIX_BYTES = 24;
const READ_AHEAD_SLOTS = 3;
const SYNC_SLOTS = 2;

/** Where chunks come from: filled slots of one SharedArrayBuffer, in order. */
interface ChunkSource {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Byte index in `bytes` where slot `slot`'s data starts (a prefix area lies before it). */
  dataStart(slot: number): number;
  /** Chunk `chunk` (the stream's chunks are acquired in order) in its slot, `chunk % slotCount`; returns its length (0 at end of file). */
  acquire(chunk: number): number;
  /** Hands slot `slot` back for refilling. */
  release(slot: number): void;
  readonly slotCount: number;
  close(): void;
}

/**
 * Streams a trace through `consume` in multi-MiB chunks over a fixed set of buffers, so a
 * 40 GB trace needs the same memory as a 40 MB one. `path` is a file, or `-` for standard
 * input; what is not a regular file (a pipe, a FIFO, /dev/stdin) is read in order, without
 * read-ahead. A trailing partial record is an error naming its offset. Returns the bytes read.
 */
export function streamTrace(path: string, consume: ChunkConsumer, options: StreamOptions = {}): number {
  const input = InputFile.open(path, "a trace file");
  try {
    return streamTraceInput(input, consume, options);
  } finally {
    input.close();
  }
}

/** `streamTrace` over an input already open (and read no further than bytes it has `unread`). */
export function streamTraceInput(input: InputFile, consume: ChunkConsumer, options: StreamOptions = {}): number {
  const chunkBytes = Math.max(options.chunkBytes ?? READ_CHUNK_BYTES, MAX_RECORD_BYTES);
  const name = input.name;
  let source: ChunkSource | undefined;
  try {
    const totalBytes = input.sizeBytes;
    const readAhead = options.readAhead ?? "auto";
    const useWorker = input.positioned && (readAhead === true || (readAhead === "auto" && totalBytes > 4 * chunkBytes));
    source = useWorker ? new ReadAheadSource(input, chunkBytes) : new SyncSource(input, chunkBytes);
    const { bytes, view } = source;
    let carried = 0; // bytes of a partial record waiting at the end of the previous slot
    let carriedFrom = 0; // where they start in `bytes`
    let fileOffset = 0; // file offset of the first byte not yet consumed
    for (let chunk = 0; ; chunk++) {
      const slot = chunk % source.slotCount;
      const length = source.acquire(chunk);
      const dataStart = source.dataStart(slot);
      const start = dataStart - carried;
      bytes.copyWithin(start, carriedFrom, carriedFrom + carried);
      if (chunk > 0) source.release((chunk - 1) % source.slotCount);
      if (length === 0) {
        if (carried > 0) throw truncatedRecord(name, view, start, carried, fileOffset);
        return fileOffset;
      }
      const end = dataStart + length;
      const stop = consume(bytes, view, start, end, fileOffset);
      fileOffset += stop - start;
      carried = end - stop;
      carriedFrom = stop;
      options.onProgress?.(fileOffset, totalBytes);
    }
  } finally {
    source?.close();
  }
}

/** The error for a record cut off by the end of the input, after checking its header. */
function truncatedRecord(name: string, view: DataView, at: number, length: number, fileOffset: number): TraceFormatError {
  if (length >= 2) {
    const problem = length >= RECORD_HEADER_BYTES ? headerProblem(view, at) : recordProblem(view.getUint8(at), view.getUint8(at + 1));
    if (problem !== null) return new TraceFormatError(name, fileOffset, problem);
  }
  const isWrite = length >= 2 && view.getUint8(at) === OP_WRITE;
  const expected = isWrite ? RECORD_HEADER_BYTES + view.getUint8(at + 1) : RECORD_HEADER_BYTES;
  return new TraceFormatError(name, fileOffset, `truncated record: ${length} of ${expected} bytes before end of input`);
}

function slotLayout(slotCount: number, chunkBytes: number): { controlBytes: number; slotBytes: number; totalBytes: number } {
  const controlBytes = controlWords(slotCount) * Int32Array.BYTES_PER_ELEMENT;
  const slotBytes = PREFIX_BYTES + Math.ceil(chunkBytes / 8) * 8;
  return { controlBytes, slotBytes, totalBytes: controlBytes + slotCount * slotBytes };
}

/**
 * Reads each chunk on demand, on this thread: small files (no worker start-up cost), and
 * inputs read in order (pipes).
 */
class SyncSource implements ChunkSource {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly slotCount = SYNC_SLOTS;
  private readonly layout: ReturnType<typeof slotLayout>;

  constructor(
    private readonly input: InputFile,
    private readonly chunkBytes: number,
  ) {
    this.layout = slotLayout(SYNC_SLOTS, chunkBytes);
    // Shared memory in both sources, so consumers always see one kind of buffer.
    const buffer = new SharedArrayBuffer(this.layout.totalBytes);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
  }

  dataStart(slot: number): number {
    return this.layout.controlBytes + slot * this.layout.slotBytes + PREFIX_BYTES;
  }

  acquire(chunk: number): number {
    const position = this.input.positioned ? chunk * this.chunkBytes : null;
    return this.input.readFully(this.bytes, this.dataStart(chunk % this.slotCount), this.chunkBytes, position);
  }

  release(): void {}
  close(): void {}
}

/**
 * Reads ahead on a worker thread into a ring of slots while this thread consumes, so file
 * reading overlaps replay instead of adding to it. Synchronisation is one Int32 state word
 * per slot (Atomics.wait / notify); the main thread may block in Atomics.wait in Node.
 * Chunks are claimed in order from a shared counter, by the worker or by this thread: a
 * chunk nobody has claimed when this thread needs it, it reads itself. So the worker's
 * start-up (tens of milliseconds) never keeps the replay waiting.
 */
class ReadAheadSource implements ChunkSource {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly slotCount = READ_AHEAD_SLOTS;
  private readonly control: Int32Array;
  private readonly layout: ReturnType<typeof slotLayout>;
  private readonly worker: Worker;
  private readonly errors: MessageChannel;
  private readonly nextChunk = nextChunkWord(READ_AHEAD_SLOTS);

  constructor(
    private readonly input: InputFile,
    private readonly chunkBytes: number,
  ) {
    this.layout = slotLayout(READ_AHEAD_SLOTS, chunkBytes);
    const buffer = new SharedArrayBuffer(this.layout.totalBytes);
    this.bytes = new Uint8Array(buffer);
    this.view = new DataView(buffer);
    this.control = new Int32Array(buffer, 0, controlWords(READ_AHEAD_SLOTS));
    this.errors = new MessageChannel();
    const setup: ReadAheadSetup = {
      path: input.path,
      buffer,
      slotCount: READ_AHEAD_SLOTS,
      chunkBytes,
      firstDataByte: this.layout.controlBytes + PREFIX_BYTES,
      slotBytes: this.layout.slotBytes,
      errorPort: this.errors.port2,
    };
    this.worker = new Worker(new URL("./read-ahead-worker.js", import.meta.url), {
      workerData: setup,
      transferList: [this.errors.port2],
    });
    this.worker.unref();
  }

  dataStart(slot: number): number {
    return this.layout.controlBytes + slot * this.layout.slotBytes + PREFIX_BYTES;
  }

  acquire(chunk: number): number {
    const slot = chunk % this.slotCount;
    if (Atomics.load(this.control, slot) !== ChunkState.Full && Atomics.compareExchange(this.control, this.nextChunk, chunk, chunk + 1) === chunk) {
      // Ours: marked full before the read, so the worker, which fills only empty slots,
      // keeps out of it until release().
      Atomics.store(this.control, slot, ChunkState.Full);
      return this.input.readFully(this.bytes, this.dataStart(slot), this.chunkBytes, chunk * this.chunkBytes);
    }
    // A slot is Empty or Full: waiting while it is Empty is waiting for it to fill.
    waitWhileWord(this.control, slot, ChunkState.Empty, `${this.input.name}: read-ahead worker`);
    const length = Atomics.load(this.control, this.slotCount + slot);
    if (length < 0) {
      const message = receiveMessageOnPort(this.errors.port1)?.message;
      throw new Error(`${this.input.name}: ${typeof message === "string" ? message : "read failed"}`);
    }
    return length;
  }

  release(slot: number): void {
    Atomics.store(this.control, slot, ChunkState.Empty);
    Atomics.notify(this.control, slot);
  }

  close(): void {
    Atomics.store(this.control, cancelWord(this.slotCount), 1);
    for (let slot = 0; slot < this.slotCount; slot++) this.release(slot);
    this.errors.port1.close();
    void this.worker.terminate();
  }
}
