/**
 * The block translator: runs a hart's slices as translated blocks of JavaScript, built with
 * `new Function` once a block start is hot and cached per code page (code-cache.ts). A new
 * hot block gets a region (function) of its own; as a page's hot blocks grow, they are
 * rebuilt into shared regions, where jumps between them stay inside one function. Cold
 * code, a slice's last few instructions and an instruction that crosses a page run in the
 * hart's interpreter, so the two agree instruction for instruction: same registers, pc,
 * count, loads and stores, and the same fetches, loads and stores in the same order for a
 * trace or a hook (docs/design/block-translation.md).
 */
import { pageNumberOfHalves } from "../../space/address.js";
import type { MemoryAccess } from "../../space/backend.js";
import { decode, type Decoded } from "../decoder.js";
import { executeFloat } from "../float-unit.js";
import { GuestError, type Hart, type SliceExecutor } from "../hart.js";
import {
  divide64,
  multiplyHighSigned,
  multiplyHighUnsigned,
  wide,
} from "../int64.js";
import { Packed } from "../ops.js";
import {
  BlockFlag,
  blockKey,
  BlockState,
  endsBlock,
  loadsOf,
  parcelsOf,
  POSITION_BLOCK_SHIFT,
  REGION_TABLE_NAME,
  regionPages,
  regionSource,
  regionTable,
  RUNTIME_NAMES,
  SLOTS_PER_PAGE,
  storesOf,
  type PlannedBlock,
  type PlannedInstruction,
} from "./block-source.js";
import { CALLER_SLOTS, CodeCache, CodePage, type Region, type TranslatedBlock } from "./code-cache.js";
import { InterpreterAccess } from "./interpreter-access.js";
import type { TraceOutput } from "../../trace/output.js";

/** Instructions in one block at most: longer straight-line code continues in the next block. */
const MAX_BLOCK_INSTRUCTIONS = 64;
// A block's position (2k + 1 for its last instruction) fits below its index in BlockState.Position.
if (2 * MAX_BLOCK_INSTRUCTIONS > 1 << POSITION_BLOCK_SHIFT) throw new Error("translator invariant: a block's positions overflow POSITION_BLOCK_SHIFT");
/** Runs of a block start in the interpreter before it is translated: code run once or twice never pays for a translation. */
const HOT_BLOCK_RUNS = 16;
/** Instructions in a shared region at most: a big function takes V8 long to optimize, and longer each time a cold path deoptimizes it. */
const MAX_REGION_INSTRUCTIONS = 64;
/** Entries into a page's regions from regions of the same page after which its hottest blocks are merged into one shared region. */
const DISPATCHES_BEFORE_MERGE = 1 << 16;
/**
 * A block joins the shared region when it took at least this share of the page's entries
 * (as 1/share); so does another page's block when the runner went between the two pages
 * that often.
 */
const MERGE_SHARE_DIVISOR = 256;
/** Blocks a page's shared region must gain at least before it is rebuilt. */
const MIN_MERGE_GROWTH = 2;
/** Code pages the runner keeps at hand (a power of two). */
const RECENT_PAGES = 64;
const PAGE_OFFSET_MASK = 0xfff;

/** How a translator fetches (block-source.ts's FetchMode). */
export interface TranslatorMode {
  /** Whether statistics, an observer or hooks see the hart's memory: then every fetch is made through it. */
  observed: boolean;
  /** Not observed, but recorded: the trace the hart's recorder writes to, which translated code writes its fetches to. */
  fetchTrace?: TraceOutput;
}

/** What a translator has done so far. */
export interface TranslatorStats {
  /** Blocks translated. */
  blocks: number;
  /** Instructions in them. */
  instructions: number;
  /** Region functions built (a block's own, and each rebuild of a page's shared ones). */
  regions: number;
  /** Those of them whose blocks come from more than one page (a call into another page and its return inside one function). */
  spanningRegions: number;
  /** Code pages whose translations were dropped (stores over code, changes, fence.i). */
  invalidations: number;
  /** Milliseconds spent building blocks. */
  translateMs: number;
}

/** The runner of translated blocks for one hart; install with `attach`. */
export class BlockTranslator implements SliceExecutor {
  private readonly cache = new CodeCache();
  private readonly state = new Int32Array(BlockState.Length);
  private readonly scratch: Decoded = { packed: 0, imm: 0 };
  /** The helpers regions call, by the names their source uses; `trace` is bound per region, from the mode. */
  private readonly runtime: Record<Exclude<(typeof RUNTIME_NAMES)[number], "trace">, unknown>;
  /** The pages of the running region (code stores that drop one of them end it). */
  private runningPages: readonly number[] = [];
  private readonly recentPages: Array<CodePage | null> = new Array(RECENT_PAGES).fill(null);
  /** Set by the slow paths when the running slice must end (the guest stopped, a system call said so). */
  private sliceStop = false;
  /** The page of the region the runner ran last. */
  private lastRegionPage: CodePage | null = null;
  private mode: TranslatorMode;
  /** The mode the cached translations were made for. */
  private translatedMode: TranslatorMode;
  private interpreterAccess: InterpreterAccess | null = null;
  private readonly stats: Omit<TranslatorStats, "invalidations"> = { blocks: 0, instructions: 0, regions: 0, spanningRegions: 0, translateMs: 0 };

  /**
   * A translator for `hart`, reading code through `code` (the space's plain access: no hook
   * fires and nothing is recorded when it translates).
   */
  constructor(
    private readonly hart: Hart,
    private readonly code: MemoryAccess,
    mode: TranslatorMode,
  ) {
    this.mode = mode;
    this.translatedMode = mode;
    const cache = this.cache;
    this.runtime = {
      multiplyHighSigned,
      multiplyHighUnsigned,
      divide64,
      wide,
      executeFloat,
      ebreak: (h: Hart) => new GuestError("ebreak", h.pc),
      codeFilter: cache.filter,
      codeStored: (lo: number, hi: number, widthBytes: number) => cache.stored(lo, hi, widthBytes, this.runningPages),
    };
  }

  /** Runs `hart`'s slices through a new translator from now on; returns it. */
  static attach(hart: Hart, code: MemoryAccess, mode: TranslatorMode): BlockTranslator {
    const translator = new BlockTranslator(hart, code, mode);
    hart.translator = translator;
    hart.codeFence = () => translator.cache.clear();
    return translator;
  }

  /** The hart's memory is watched (or no longer): blocks made for the other mode are dropped at the next slice. */
  setMode(mode: TranslatorMode): void {
    this.mode = mode;
  }

  /** Code in pages [firstPage, endPage) changed outside the hart's stores: their translations go. */
  dropPages(firstPage: number, endPage: number): void {
    this.cache.dropRange(firstPage, endPage);
  }

  /** Translations dropped so far, and the cost of making them. */
  report(): TranslatorStats {
    return { ...this.stats, invalidations: this.cache.invalidations };
  }

  /**
   * Runs regions while the pc lands on translated blocks; everything else (cold code, the
   * slice's last instructions, flags a region raised, a due merge) goes through one slow
   * call each way. Its hot loop has few paths, all taken early: a path first taken after
   * TurboFan compiled the loop would deoptimize it (docs/design/block-translation.md).
   */
  execute(budget: number): number {
    const hart = this.hart;
    if (this.translatedMode.observed !== this.mode.observed || this.translatedMode.fetchTrace !== this.mode.fetchTrace) {
      this.cache.clear();
      this.translatedMode = this.mode;
    }
    const regs = hart.regs;
    const memory = hart.memory;
    const state = this.state;
    const recent = this.recentPages;
    state[BlockState.Loads] = 0;
    state[BlockState.Stores] = 0;
    state[BlockState.Flags] = 0;
    this.sliceStop = false;
    let executed = 0;
    let region: Region | null = null;
    try {
      while (executed < budget) {
        const pcLo = hart.pcLo;
        // Recent pages by the pc's bits 12-17: a call to another page and back finds both here.
        let page = recent[(pcLo >>> 12) & (RECENT_PAGES - 1)];
        if (page === null || page.pageLo !== pcLo >>> 12 || page.pageHi !== hart.pcHi || page.dropped) page = this.findPage(pcLo, hart.pcHi);
        const slot = (pcLo & PAGE_OFFSET_MASK) >>> 1;
        const index = page.regionOf[slot];
        let ran: number;
        if (index >= 0) {
          // An entry out of a region is what a shared region saves: of this page's, or of
          // another page's (a call and its return), which then counts as a caller.
          const last = this.lastRegionPage;
          if (last !== null) {
            page.entries[slot]++;
            page.dispatches++;
            if (last !== page) this.countCaller(page, last);
          }
          this.lastRegionPage = page;
          region = page.regions[index];
          this.runningPages = region.pageNumbers;
          state[BlockState.Position] = -1;
          ran = region.run(hart, regs, memory, state, slot, budget - executed);
          region = null;
          executed += ran;
          if (state[BlockState.Flags] === 0 && ran !== 0 && page.dispatches < DISPATCHES_BEFORE_MERGE) continue;
          executed += this.afterRegion(page, ran, budget - executed);
        } else {
          executed += this.coldStep(page, slot, pcLo, budget - executed);
        }
        if (this.sliceStop) break;
      }
      return executed;
    } catch (error) {
      if (region !== null) this.settle(region);
      throw error;
    } finally {
      memory.countAccesses(state[BlockState.Loads], state[BlockState.Stores]);
    }
  }

  /** Counts an entry into `page` out of a region of `caller`'s. */
  private countCaller(page: CodePage, caller: CodePage): void {
    const index = caller.pageLo & (CALLER_SLOTS - 1);
    if (page.callerPage[index] !== caller.pageNumber) {
      page.callerPage[index] = caller.pageNumber;
      page.callerEntries[index] = 0;
    }
    page.callerEntries[index]++;
  }

  /** The page's translations, entered among the recent ones. */
  private findPage(pcLo: number, pcHi: number): CodePage {
    const page = this.cache.page(pageNumberOfHalves(pcLo, pcHi));
    this.recentPages[(pcLo >>> 12) & (RECENT_PAGES - 1)] = page;
    return page;
  }

  /**
   * A block start with no region: counted, translated once hot, else run in the
   * interpreter. Returns the instructions run; sets sliceStop when the slice must end.
   */
  private coldStep(page: CodePage, slot: number, pcLo: number, left: number): number {
    const pcHi = this.hart.pcHi;
    const heat = page.heat[slot] + 1;
    if (heat <= 0xffff) page.heat[slot] = heat;
    if (heat === HOT_BLOCK_RUNS && this.translate(page, slot, pcLo, pcHi)) return 0;
    return this.interpretUpTo(Math.min(this.coldLength(page, slot, pcLo, pcHi), left));
  }

  /**
   * After a region that raised flags, ran nothing (the slice has fewer instructions left
   * than the block holds) or made its page's merge due. Returns the instructions run here.
   */
  private afterRegion(page: CodePage, ran: number, left: number): number {
    if (page.dispatches >= DISPATCHES_BEFORE_MERGE) this.merge(page);
    const state = this.state;
    const flags = state[BlockState.Flags];
    if (flags === 0) return ran === 0 ? this.interpretUpTo(left) : 0;
    state[BlockState.Flags] = 0;
    if ((flags & BlockFlag.FenceI) !== 0) this.cache.clear();
    if ((flags & BlockFlag.Stop) !== 0) {
      this.sliceStop = true;
      return 0;
    }
    if ((flags & BlockFlag.Mismatch) !== 0) {
      // The bits were fetched already: the interpreter runs them without fetching again.
      const pageNumber = pageNumberOfHalves(this.hart.pcLo, this.hart.pcHi);
      this.cache.dropRange(pageNumber, pageNumber + 1);
      return this.interpretUpTo(1, state[BlockState.Fetched]);
    }
    return 0;
  }

  /** The interpreter runs `wanted` instructions; sliceStop is set if it stopped short (the guest exited, a system call ended the slice). */
  private interpretUpTo(wanted: number, prefetched?: number): number {
    const hart = this.hart;
    hart.sliceEnded = false;
    const ran = this.interpret(wanted, prefetched);
    if (ran < wanted || hart.sliceEnded) this.sliceStop = true;
    return ran;
  }

  /** An exception inside `region`: the pc, count, loads and stores as the interpreter would leave them. */
  private settle(region: Region): void {
    const position = this.state[BlockState.Position];
    if (position < 0) return;
    const block = region.blocks[position >>> POSITION_BLOCK_SHIFT];
    const index = (position & ((1 << POSITION_BLOCK_SHIFT) - 1)) >>> 1;
    const executing = position & 1;
    const hart = this.hart;
    hart.pcLo = block.pcLo[index];
    hart.pcHi = block.pcHi[index];
    hart.instructions += index + executing;
    this.state[BlockState.Loads] += block.loadsBefore[index] + (executing === 1 ? block.parcels[index] : 0);
    this.state[BlockState.Stores] += block.storesBefore[index];
  }

  /** A cold block start's length in instructions, scanned on its first run. */
  private coldLength(page: CodePage, slot: number, pcLo: number, pcHi: number): number {
    let length = page.coldLength[slot];
    if (length === 0) {
      length = Math.max(1, this.plan(pcLo, pcHi).length);
      page.coldLength[slot] = length;
    }
    return length;
  }

  /**
   * Runs `budget` instructions in the interpreter, its memory wrapped so that its stores
   * over translated code drop that code, as a block's do.
   */
  private interpret(budget: number, prefetched?: number): number {
    const hart = this.hart;
    const memory = hart.memory;
    let access = this.interpreterAccess;
    if (access === null || access.memory !== memory) {
      access = new InterpreterAccess(memory, this.cache);
      this.interpreterAccess = access;
    }
    access.prefetched = prefetched ?? null;
    hart.memory = access;
    try {
      return hart.interpret(budget);
    } finally {
      access.prefetched = null;
      // A system call that replaced the memory (hooks came or went) keeps its choice.
      if (hart.memory === access) hart.memory = memory;
    }
  }

  /** The instructions of the block starting at (pcLo, pcHi): to its end, the page's end or the limit. */
  private plan(pcLo: number, pcHi: number): PlannedInstruction[] {
    const planned: PlannedInstruction[] = [];
    let lo = pcLo;
    let hi = pcHi;
    const scratch = this.scratch;
    while (planned.length < MAX_BLOCK_INSTRUCTIONS) {
      const offset = lo & PAGE_OFFSET_MASK;
      const raw = this.code.fetchInstruction(lo, hi);
      // An instruction crossing into the next page is the interpreter's.
      if (offset + 2 * parcelsOf(raw) > PAGE_OFFSET_MASK + 1) break;
      decode(raw, scratch);
      planned.push({ pcLo: lo, pcHi: hi, raw, packed: scratch.packed, imm: scratch.imm });
      if (endsBlock(scratch.packed, scratch.imm)) break;
      const lengthBytes = scratch.packed >>> Packed.LengthShift;
      lo = (lo + lengthBytes) | 0;
      if ((lo & PAGE_OFFSET_MASK) === 0) break;
    }
    return planned;
  }

  /**
   * Translates the hot block at (pcLo, pcHi) into a region of its own; false if it has no
   * instruction to translate (one crossing the page's end starts it).
   */
  private translate(page: CodePage, slot: number, pcLo: number, pcHi: number): boolean {
    const started = performance.now();
    const instructions = this.plan(pcLo, pcHi);
    if (instructions.length === 0) return false;
    const block: PlannedBlock = { pageNumber: page.pageNumber, slot, instructions };
    page.hot.set(slot, block);
    const last = instructions[instructions.length - 1];
    this.cache.markCode(page, slot, Math.min(SLOTS_PER_PAGE, ((last.pcLo & PAGE_OFFSET_MASK) + 2 * parcelsOf(last.raw)) >>> 1));
    this.stats.blocks++;
    this.stats.instructions += instructions.length;
    this.addRegion([block]);
    this.stats.translateMs += performance.now() - started;
    return true;
  }

  /**
   * The page's regions were entered DISPATCHES_BEFORE_MERGE times: its blocks that took a
   * fair share of those entries (and those merged before) go into one shared region, where
   * jumps among them stay inside the function, unless that set has not grown. So do the hot
   * blocks of pages the runner came from that often: a function called from this page, or
   * the caller a function here returns to.
   */
  private merge(page: CodePage): void {
    const threshold = page.dispatches / MERGE_SHARE_DIVISOR;
    const merged = page.merged;
    const key = (block: PlannedBlock) => blockKey(block.pageNumber, block.slot);
    const candidates = new Set([...merged.values(), ...page.hot.values()]);
    for (let index = 0; index < CALLER_SLOTS; index++) {
      const caller = page.callerPage[index];
      if (caller >= 0 && page.callerEntries[index] >= threshold) for (const block of this.cache.page(caller).hot.values()) candidates.add(block);
    }
    // Entries as they stand now: this page's counts start again below.
    const entryCounts = new Map([...candidates].map((block) => [block, this.cache.page(block.pageNumber).entries[block.slot]]));
    const entries = (block: PlannedBlock) => entryCounts.get(block)!;
    page.callerEntries.fill(0);
    const chosen = [...candidates].filter((block) => merged.has(key(block)) || entries(block) >= threshold);
    page.entries.fill(0);
    page.dispatches = 0;
    // A rebuild compiles the region anew: only for a set grown by a quarter (or two blocks).
    if (chosen.length < Math.max(merged.size + MIN_MERGE_GROWTH, merged.size + (merged.size >>> 2))) return;
    const started = performance.now();
    // Blocks merged before first, so a full region keeps them; then the most entered; this
    // page's first block leads (the region's table starts with its page).
    chosen.sort((a, b) => (merged.has(key(a)) === merged.has(key(b)) ? entries(b) - entries(a) : merged.has(key(a)) ? -1 : 1));
    const own = chosen.findIndex((block) => block.pageNumber === page.pageNumber);
    if (own < 0) return;
    chosen.unshift(...chosen.splice(own, 1));
    const group: PlannedBlock[] = [];
    let instructions = 0;
    for (const block of chosen) {
      if (instructions + block.instructions.length > MAX_REGION_INSTRUCTIONS) continue;
      group.push(block);
      instructions += block.instructions.length;
    }
    if (group.length <= merged.size) return;
    page.merged = new Map(group.map((block) => [key(block), block]));
    this.addRegion(group);
    this.stats.translateMs += performance.now() - started;
  }

  /**
   * Builds one region function of `blocks` and points the slots of the first one's page at
   * it. Blocks of other pages are reached only from inside: the runner enters those pages
   * through their own regions, so a page's merge never takes another page's entries.
   */
  private addRegion(blocks: readonly PlannedBlock[]): void {
    const fetchMode = this.mode.observed ? "observed" : this.mode.fetchTrace !== undefined ? "recorded" : "plain";
    const body = regionSource(blocks, fetchMode);
    // The runtime's helpers become constants of the factory's closure, which TurboFan inlines.
    const factory = new Function(...RUNTIME_NAMES, REGION_TABLE_NAME, `"use strict"; return function region(h, regs, mem, s, slot, left) {\n${body}\n};`);
    const runtime = { ...this.runtime, trace: this.mode.fetchTrace ?? null };
    const run = factory(...RUNTIME_NAMES.map((name) => runtime[name]), regionTable(blocks));
    const translated = blocks.map((block) => this.counts(block.instructions));
    const pageNumbers = regionPages(blocks);
    const page = this.cache.page(pageNumbers[0]);
    const index = page.regions.length;
    page.regions.push({ run, blocks: translated, pageNumbers });
    for (const block of blocks) if (block.pageNumber === page.pageNumber) page.regionOf[block.slot] = index;
    if (pageNumbers.length > 1) {
      this.cache.link(pageNumbers);
      this.stats.spanningRegions++;
    }
    this.stats.regions++;
  }

  private counts(planned: readonly PlannedInstruction[]): TranslatedBlock {
    const count = planned.length;
    const counts = { length: count, pcLo: new Int32Array(count), pcHi: new Int32Array(count), loadsBefore: new Int32Array(count), storesBefore: new Int32Array(count), parcels: new Uint8Array(count) };
    let loads = 0;
    let stores = 0;
    for (let index = 0; index < count; index++) {
      const { pcLo, pcHi, raw, packed } = planned[index];
      counts.pcLo[index] = pcLo;
      counts.pcHi[index] = pcHi;
      counts.loadsBefore[index] = loads;
      counts.storesBefore[index] = stores;
      counts.parcels[index] = parcelsOf(raw);
      loads += loadsOf(raw, packed);
      stores += storesOf(packed);
    }
    return counts;
  }
}
