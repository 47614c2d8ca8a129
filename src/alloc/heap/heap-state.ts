/**
 * The bottom layer of a heap's core: its block memory, the typed views over the metadata,
 * where the descriptors and the bitmap start, which worker this is, the fast paths' limits,
 * and the page-layer mutex. Every layer above (heap-words.ts, page-runs.ts, ... heap-core.ts)
 * extends it, and the Heap extends the top layer, so a heap is one object with one hidden
 * class: the fast paths read its fields on their own receiver, and TurboFan inlines the
 * layers' methods into them.
 */
import { lockMutex, unlockMutex } from "../futex-mutex.js";
import type { BlockMemory } from "./block-memory.js";
import { HeapError } from "./heap-error.js";
import { Bitmap, DESCRIPTOR_WORDS, Geometry, HeaderWord, HEAP_LAYOUT_VERSION, HEAP_MAGIC } from "./heap-layout.js";
import { MEDIUM_LIMIT_BYTES, SMALL_CLASS_OF } from "./size-classes.js";

/** A heap core's state: fields and views, shared by every layer. */
/** Int32 words of one heap page (an OS page). */
const WORDS_PER_PAGE = Geometry.PageBytes / Int32Array.BYTES_PER_ELEMENT;

/**
 * Where a heap of at most `maxBytes` keeps its descriptors and bitmap, and how many pages its
 * metadata takes. Each table is placed so that the first page of blocks has its entries at
 * the start of a page: a heap using its first N pages touches ceil(N / 64) pages of each
 * table, not one more where the entries straddle a page boundary.
 */
export function metadataLayout(maxBytes: number): { descriptorsWord: number; bitmapWord: number; metaPages: number } {
  const maxPages = Math.floor(maxBytes / Geometry.PageBytes);
  const bitmapWords = Math.ceil(maxBytes / Bitmap.BytesPerWord);
  // With both paddings at their most: the blocks start there whatever the padding.
  const metaPages = Math.ceil((HeaderWord.DescriptorsStart + maxPages * DESCRIPTOR_WORDS + bitmapWords + 2 * WORDS_PER_PAGE) / WORDS_PER_PAGE);
  const pageAligned = (lowest: number, firstEntry: number) => lowest + ((WORDS_PER_PAGE - ((lowest + firstEntry) % WORDS_PER_PAGE)) % WORDS_PER_PAGE);
  const descriptorsWord = pageAligned(HeaderWord.DescriptorsStart, metaPages * DESCRIPTOR_WORDS);
  const bitmapWord = pageAligned(descriptorsWord + maxPages * DESCRIPTOR_WORDS, metaPages * Bitmap.WordsPerPage);
  return { descriptorsWord, bitmapWord, metaPages };
}

export class HeapState {
  /** Where the heap lives. */
  protected readonly memory: BlockMemory;
  /**
   * The heap's offset 0 in its backing (its region's start): the public API adds it to the
   * offsets it returns and subtracts it from the addresses it is given, so every layer
   * works on offsets from 0. A field set once, so TurboFan folds it (0: no arithmetic).
   */
  protected readonly startAddress: number;
  /** The memory's metadata words (the memory's own views, held here for the fast paths). */
  protected words!: Int32Array;
  /** The memory's metadata bytes. */
  protected bytes!: Uint8Array;
  /** Heap statistics live in the store too (as float64s), so a second worker sees them. */
  protected floats!: Float64Array;
  /** The first word of the page descriptors. */
  protected readonly descriptorsWord: number;
  /** The first word of the allocation bitmap. */
  protected readonly bitmapWord: number;
  /** Shared memory: other workers may be attached (atomics on shared words, the mutex for page-level work). */
  protected readonly shared: boolean;
  /** This worker's slot (set once, when the core claims it). */
  protected workerId!: number;
  /** The first word of this worker's record. */
  protected workerWord!: number;
  /** The first word of this worker's free-block cache heads (a field: the fast paths add one number, not two). */
  protected cacheHeadsWord!: number;
  /** The low half of the kind word of this worker's spans (kind and owner): the free fast path's one test. */
  protected ownSpanTag!: number;
  /**
   * The fast paths take requests up to this size and frees below this address; both are 0
   * in debug mode and after detach, which sends every call down the checked path. Set first
   * at the end of the core's constructor and stored again only when they change, so they
   * stay const fields (see views()) that TurboFan folds into the fast paths.
   */
  protected fastSizeLimit!: number;
  /** See fastSizeLimit. */
  protected fastAddressEnd!: number;
  /** False after detach. */
  protected attached = true;
  /** How deep this worker holds the page-layer mutex (lock() is re-entrant). */
  protected lockDepth = 0;
  /** The size-class table of small sizes, held here: a field load is cheaper than a module binding's. */
  protected readonly smallClassOf = SMALL_CLASS_OF;

  /** Views over `memory`; the layout of the heap already in it, or of the one the core will format. */
  constructor(memory: BlockMemory) {
    this.memory = memory;
    this.startAddress = memory.startAddress ?? 0;
    this.shared = memory.shared;
    this.arrayViews();
    const existing = this.words[HeaderWord.Magic] === HEAP_MAGIC;
    if (existing && this.words[HeaderWord.Version] !== HEAP_LAYOUT_VERSION) throw new HeapError(`heap layout version ${this.words[HeaderWord.Version]}, expected ${HEAP_LAYOUT_VERSION}`);
    const layout = existing ? null : metadataLayout(memory.maxByteLength);
    this.descriptorsWord = layout === null ? this.words[HeaderWord.DescriptorsWord] : layout.descriptorsWord;
    this.bitmapWord = layout === null ? this.words[HeaderWord.BitmapWord] : layout.bitmapWord;
  }

  /** Pages the heap holds now (it grows with a WebAssembly.Memory). */
  protected get pageCount(): number {
    return this.words[HeaderWord.PageCount];
  }

  /** Pages whose metadata is cleared (HeaderWord.ClearedPages; other workers may raise it). */
  protected clearedPages(): number {
    return this.shared ? Atomics.load(this.words, HeaderWord.ClearedPages) : this.words[HeaderWord.ClearedPages];
  }

  /** Takes the page-layer mutex (re-entrant: settling a span under the lock may release its pages). */
  protected lock(): void {
    if (!this.shared || this.lockDepth++ > 0) return;
    lockMutex(this.words, HeaderWord.Lock);
    this.refreshIfGrown();
  }

  /** Releases the page-layer mutex (taken by lock()). */
  protected unlock(): void {
    if (this.shared && --this.lockDepth === 0) unlockMutex(this.words, HeaderWord.Lock);
  }

  /** Another worker grew the shared memory: views over the bigger buffer. */
  protected refreshIfGrown(): void {
    if (this.words[HeaderWord.PageCount] * Geometry.PageBytes > this.bytes.length) {
      this.memory.refresh();
      this.views();
    }
  }

  /** The memory's views, and the fast paths' limits that follow from them. */
  protected views(): void {
    this.arrayViews();
    const fast = this.attached && this.words[HeaderWord.Debug] !== 1 && this.words[HeaderWord.Magic] === HEAP_MAGIC;
    const sizeLimit = fast ? MEDIUM_LIMIT_BYTES : 0;
    // Frees below the cleared pages only: a page above them has never held a block, and its
    // descriptor may be whatever the backing held.
    const addressEnd = fast ? Math.min(this.bytes.length, this.clearedPages() * Geometry.PageBytes) : 0;
    if (this.fastSizeLimit !== sizeLimit) this.fastSizeLimit = sizeLimit;
    if (this.fastAddressEnd !== addressEnd) this.fastAddressEnd = addressEnd;
  }

  /** The memory's views, without the fast paths' limits (while the core is still formatting the heap). */
  protected arrayViews(): void {
    // Stored only when the memory has new views: V8 keeps a field that is never overwritten
    // "const", and TurboFan then embeds the array, its length and its data pointer in the
    // fast paths (a second store, even of the same value, made these fields mutable and cost
    // four loads a word access).
    if (this.words !== this.memory.words) {
      this.words = this.memory.words;
      this.bytes = this.memory.bytes;
      this.floats = this.memory.floats;
    }
  }

  /** Throws unless this worker is still attached. */
  protected assertAttached(what: string): void {
    if (!this.attached) throw new HeapError(`${what}: this worker detached from the heap`);
    // A view of a detached buffer has no bytes: the memory grew under the heap.
    if (this.bytes.length === 0) throw new HeapError(`${what}: the memory's buffer was replaced (it grew under the heap): call refresh() after growing it`);
  }
}
