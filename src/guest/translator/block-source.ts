/**
 * JavaScript source for a region: translated blocks of one code page in one function that
 * loops over a `switch` on the block's start, so a jump or branch to another block of the
 * region goes on inside the function instead of returning to the runner. A block is the
 * straight-line instructions from its start to its end (a jump, branch, system call, CSR
 * access, fence.i, illegal instruction, the page's end or the length limit), each
 * specialised on its registers and immediates; V8 compiles the region like any hot loop.
 *
 * Registers are locals of the region, written back to the hart's Int32Array at every exit
 * (observed mode keeps them in the array); memory goes through the hart's MemoryAccess.
 * Each exit adds its block's instructions, loads and stores (as the interpreter's loop
 * counts them) to the region's locals, which the region settles once as it returns. In
 * recorded mode (a trace recorder and nothing else watches the memory) fetches go as in
 * plain mode, and each is written to the trace where the recorder would have written it. In observed mode (a trace, statistics or
 * hooks watch the memory) every instruction is fetched through the memory as the
 * interpreter fetches it, and a fetch that returns other bits than were translated leaves
 * the region before that instruction. In plain mode fetches are counted, not made, and a
 * store that lands on translated code is checked at once: the region is left if the store
 * changed code of its own page.
 */
import { PAGE_SIZE_BYTES, pageNumberOfHalves } from "../../space/address.js";
import { FETCH_RUN_MAX } from "../../trace/output.js";
import { FENCE_I } from "../decoder.js";
import { addHigh } from "../int64.js";
import { Op, Packed } from "../ops.js";
import { divideWord, less, multiplyLowInline, shiftByConstant, shiftByRegister } from "./int64-source.js";

/**
 * How translated code fetches: "plain" counts fetches, "recorded" also writes each to the
 * trace (the runtime's `trace`), "observed" makes each through the hart's memory.
 */
export type FetchMode = "plain" | "recorded" | "observed";

/** One decoded instruction of a block. */
export interface PlannedInstruction {
  pcLo: number;
  pcHi: number;
  /** The fetched bits, as `fetchInstruction` returns them (an int32). */
  raw: number;
  packed: number;
  imm: number;
}

/** The block state array a translated block and its runner share (an Int32Array). */
export const enum BlockState {
  /**
   * Where the running block is, for an exception's settling: its index in the region
   * shifted left by POSITION_BLOCK_SHIFT, or'd with 2k before instruction k's fetch and
   * 2k + 1 while it executes; -1 once an exit has settled the counts.
   */
  Position = 0,
  /** Loads made (fetch parcels included) by blocks that exited, for `countAccesses`. */
  Loads = 1,
  Stores = 2,
  /** BlockFlag bits a block raises for its runner. */
  Flags = 3,
  /** The bits a mismatched fetch returned (BlockFlag.Mismatch). */
  Fetched = 4,
  Length = 5,
}

/** Bits of BlockState.Position below the block's index: 2k + 1 for the last instruction of the longest block fits. */
export const POSITION_BLOCK_SHIFT = 7;

export const enum BlockFlag {
  /** An ecall asked the run's slice to end. */
  Stop = 1,
  /** fence.i: every translation is dropped. */
  FenceI = 2,
  /** Observed mode: a fetch returned bits that were not translated (state Fetched has them). */
  Mismatch = 4,
}

/** Fetch parcels an instruction's fetch counts as loads (one for a compressed instruction, two otherwise). */
export function parcelsOf(raw: number): number {
  return (raw & 3) === 3 ? 2 : 1;
}

/**
 * Loads an instruction counts as the interpreter's loop counts them: its fetch parcels, and
 * lb .. lwu's load (the others count theirs through their helpers).
 */
export function loadsOf(raw: number, packed: number): number {
  const op = packed & 0xff;
  return parcelsOf(raw) + (op >= Op.Lb && op <= Op.Lwu ? 1 : 0);
}

/** Stores an instruction counts as the interpreter's loop counts them: sb .. sd's. */
export function storesOf(packed: number): number {
  const op = packed & 0xff;
  return op >= Op.Sb && op <= Op.Sd ? 1 : 0;
}

/** Whether an instruction ends its block. */
export function endsBlock(packed: number, imm: number): boolean {
  switch (packed & 0xff) {
    case Op.Jal:
    case Op.Jalr:
    case Op.Beq:
    case Op.Bne:
    case Op.Blt:
    case Op.Bge:
    case Op.Bltu:
    case Op.Bgeu:
    case Op.Ecall:
    case Op.Ebreak:
    case Op.Csrrw:
    case Op.Csrrs:
    case Op.Csrrc:
    case Op.Csrrwi:
    case Op.Csrrsi:
    case Op.Csrrci:
    case Op.Illegal:
      return true;
    case Op.Fence:
      return imm === FENCE_I;
    default:
      return false;
  }
}

/** Names the source uses for the runtime's helpers (block-translator.ts binds them). */
export const RUNTIME_NAMES = [
  "multiplyHighSigned",
  "multiplyHighUnsigned",
  "divide64",
  "wide",
  "executeFloat",
  "ebreak",
  "codeFilter",
  "codeStored",
  "trace",
] as const;

/** The name a region's source gives its table (regionTable's). */
export const REGION_TABLE_NAME = "table";

/** Half-word slots in a page: where an instruction may start. */
export const SLOTS_PER_PAGE = PAGE_SIZE_BYTES / 2;

/** A block start's key among the blocks of all pages: its page number and its half-word slot in the page. */
export function blockKey(pageNumber: number, slot: number): number {
  return pageNumber * SLOTS_PER_PAGE + slot;
}

/** The code pages a region's blocks come from, in the order of its table: its first block's page first. */
export function regionPages(blocks: readonly PlannedBlock[]): number[] {
  return [...new Set(blocks.map((block) => block.pageNumber))];
}

/**
 * A region's table, an Int32Array its function's closure holds: for each of its pages
 * (regionPages' order), each slot's block index (-1: not in the region); then each block's
 * instruction count, then each block's start pc (low halves, then high halves). The runner
 * enters it from the first page, at a slot of that page's part.
 */
export function regionTable(blocks: readonly PlannedBlock[]): Int32Array {
  const pages = regionPages(blocks);
  const slotsEnd = pages.length * SLOTS_PER_PAGE;
  const table = new Int32Array(slotsEnd + 3 * blocks.length).fill(-1, 0, slotsEnd);
  blocks.forEach((block, index) => {
    table[pages.indexOf(block.pageNumber) * SLOTS_PER_PAGE + block.slot] = index;
    table[slotsEnd + index] = block.instructions.length;
    table[slotsEnd + blocks.length + index] = block.instructions[0].pcLo;
    table[slotsEnd + 2 * blocks.length + index] = block.instructions[0].pcHi;
  });
  return table;
}

/** Low bits of a page number that index the code filter (a superset test: collisions only cost a check). */
export const CODE_FILTER_BITS = 16;

/** A block to translate: its code page, its start's half-word slot in the page, and its instructions. */
export interface PlannedBlock {
  pageNumber: number;
  slot: number;
  instructions: readonly PlannedInstruction[];
}

/**
 * The body of a region's function `(h, regs, mem, s, slot, left) => instructions run`: it
 * runs from the block at `slot` of its first page on while the blocks it reaches
 * are in the region and `left` instructions allow a whole block, and leaves the pc at the
 * next instruction to run. The function's closure holds the region's table
 * (REGION_TABLE_NAME). Its blocks may come from several pages: a call into another page
 * and its return then stay inside the function.
 */
export function regionSource(blocks: readonly PlannedBlock[], fetchMode: FetchMode): string {
  const body = regionBody(blocks, fetchMode);
  return fetchMode === "observed" ? withCounts(body.replaceAll(SPILL, "").replaceAll(RELOAD, "")) : withRegisterLocals(body);
}

/**
 * The region's counts in locals: instructions `n`, loads `nl` and stores `ns` of the blocks
 * that exited, added to the hart and the block state once, in a `finally` (so an exception
 * settles them too; the runner adds the faulting block's part from its Position). `declared`
 * adds locals; `settled` runs after the counts.
 */
function withCounts(body: string, declared = "", settled = ""): string {
  return `let n = 0, nl = 0, ns = 0${declared};\ntry {\n${body}\n} finally {\nh.instructions += n; s[1] += nl; s[2] += ns;${settled}\n}`;
}

/** Marks a statement that calls out to code reading or writing the hart's registers (regionSource spills the locals around it). */
const SPILL = "@spill;";
const RELOAD = "@reload;";

function callOut(statement: string): string {
  return `${SPILL} ${statement} ${RELOAD}`;
}

/**
 * The region's registers in locals (`r_N` for the Int32Array's `regs[N]`), loaded on entry
 * and written back in a `finally`, so every return and every exception (a fault in a load
 * or store) leaves the hart's registers exact; around a call out (a helper, a system call,
 * a CSR) they are written back before and read again after. Only where hooks cannot look
 * at the registers in the middle of an access: observed mode keeps them in `regs`.
 */
function withRegisterLocals(body: string): string {
  // An Int32Array element stores ToInt32 of what it is given (a load's u32, `loadHigh`); a
  // local keeps the number as it is, so each assignment to one is made an int32 here.
  const local = body.replace(/regs\[(\d+)\]/g, "r_$1").replace(/\b(r_\d+) = ([^;]+);/g, "$1 = ($2) | 0;");
  const used = [...new Set([...local.matchAll(/\br_(\d+)\b/g)].map((match) => Number(match[1])))].sort((x, y) => x - y);
  if (used.length === 0) return withCounts(local.replaceAll(SPILL, "").replaceAll(RELOAD, ""));
  // Only the registers the region assigns go back; a call out writes the array itself.
  const written = new Set([...local.matchAll(/\br_(\d+) = /g)].map((match) => Number(match[1])));
  const spill = used.filter((index) => written.has(index)).map((index) => `regs[${index}] = r_${index};`).join(" ");
  const reload = used.map((index) => `r_${index} = regs[${index}];`).join(" ");
  // While a call out runs, `regs` is the truth (sp = 1): an exception from it must not overwrite what it wrote.
  const marked = local.replaceAll(SPILL, `${spill} sp = 1;`).replaceAll(RELOAD, `${reload} sp = 0;`);
  return withCounts(marked, `, sp = 0, ${used.map((index) => `r_${index} = regs[${index}]`).join(", ")}`, `\nif (sp === 0) { ${spill} }`);
}

function regionBody(blocks: readonly PlannedBlock[], fetchMode: FetchMode): string {
  const pages = regionPages(blocks);
  // A lone block that never jumps to its own start needs no loop: it runs straight through
  // and each exit returns (a few exits, each taken early or never).
  if (blocks.length === 1 && !jumpsTo(blocks[0], blocks[0].pageNumber, blocks[0].slot)) {
    const block = blocks[0];
    const out = [`if (left < ${block.instructions.length}) { h.pcLo = ${block.instructions[0].pcLo}; h.pcHi = ${block.instructions[0].pcHi}; return 0; }`];
    blockSource(out, block.instructions, 0, fetchMode, { inRegion: new Map(), loops: false, pages });
    return out.join("\n");
  }
  // Blocks are numbered in the region (a dense switch is a jump table). Exits set the next
  // block (-1: leave, with the pc in pl, ph) and add their counts, then break to one shared
  // tail, and the budget's test and the region's exit are one place each: code with type
  // feedback from every exit, so a path first taken after V8 optimized the region (the
  // slice's end, a rare branch) does not deoptimize it.
  const shape: RegionShape = { inRegion: new Map(blocks.map((block, index) => [blockKey(block.pageNumber, block.slot), index])), loops: true, pages };
  const t = REGION_TABLE_NAME;
  const counts = pages.length * SLOTS_PER_PAGE;
  const out = [`let pl = 0, ph = 0, b = ${t}[slot];`, "for (;;) {"];
  out.push(`if (left - n < ${t}[${counts} + b]) { pl = ${t}[${counts + blocks.length} + b]; ph = ${t}[${counts + 2 * blocks.length} + b]; break; }`);
  out.push("switch (b) {");
  blocks.forEach((block, index) => {
    out.push(`case ${index}: {`);
    blockSource(out, block.instructions, index, fetchMode, shape);
    out.push("}");
  });
  out.push("}", "if (b < 0) break;", "}", "h.pcLo = pl; h.pcHi = ph; return n;");
  return out.join("\n");
}

/** Whether the block's last instruction jumps or branches to `slot` of page `pageNumber` (a constant target). */
function jumpsTo(block: PlannedBlock, pageNumber: number, slot: number): boolean {
  const last = block.instructions[block.instructions.length - 1];
  const op = last.packed & 0xff;
  if (op === Op.Jalr) return true;
  if (op !== Op.Jal && (op < Op.Beq || op > Op.Bgeu)) return false;
  const targetLo = (last.pcLo + last.imm) | 0;
  const targetHi = addHigh(last.pcLo, last.pcHi, last.imm, last.imm >> 31);
  return (targetHi >>> 0) * 2 ** 20 + (targetLo >>> 12) === pageNumber && (targetLo & 0xfff) >>> 1 === slot;
}

interface RegionShape {
  /** The region's blocks' indices by blockKey. */
  inRegion: ReadonlyMap<number, number>;
  /** Whether the region loops (else every exit leaves it). */
  loops: boolean;
  /** The page numbers of its blocks, in its table's order (regionPages). */
  pages: readonly number[];
}

/** Appends the source of the region's block `blockIndex` to `out`. */
function blockSource(out: string[], instructions: readonly PlannedInstruction[], blockIndex: number, fetchMode: FetchMode, region: RegionShape): void {
  const observed = fetchMode === "observed";
  /** Recorded mode: the first instruction whose fetch is not yet written. */
  let runEnd = 0;
  let loads = 0;
  let stores = 0;
  const count = instructions.length;
  /** Adds an exit's counts to the region's (withCounts). */
  const tally = (done: number, doneLoads: number, doneStores: number) =>
    [done === 0 ? "" : `n += ${done};`, doneLoads === 0 ? "" : `nl += ${doneLoads};`, doneStores === 0 ? "" : `ns += ${doneStores};`].filter(Boolean).join(" ");
  const counts = (done: number, doneLoads: number, doneStores: number) => `${tally(done, doneLoads, doneStores)} break;`;
  /** A lone block's exit: straight back to the runner. */
  const returnTo = (done: number, lo: string, hi: string, doneLoads: number, doneStores: number, flags = 0) =>
    `h.pcLo = ${lo}; h.pcHi = ${hi}; ${tally(done, doneLoads, doneStores)}${flags === 0 ? "" : ` s[3] |= ${flags};`} return ${done};`;
  /** An exit after `done` instructions to a constant pc: on inside the region if the page holds it, else back to the runner. */
  const exitTo = (done: number, lo: number, hi: number, doneLoads: number, doneStores: number): string => {
    if (!region.loops) return returnTo(done, String(lo), String(hi), doneLoads, doneStores);
    const index = region.inRegion.get(blockKey(pageNumberOfHalves(lo, hi), (lo & 0xfff) >>> 1));
    if (index !== undefined) return `b = ${index}; ${counts(done, doneLoads, doneStores)}`;
    return `pl = ${lo}; ph = ${hi}; b = -1; ${counts(done, doneLoads, doneStores)}`;
  };
  /** An exit to the pc held in the locals tl, th: the region's block there if it has one (a test per page), else back to the runner. */
  const exitToTarget = (done: number, doneLoads: number, doneStores: number): string => {
    if (!region.loops) return returnTo(done, "tl", "th", doneLoads, doneStores);
    const lookup = region.pages
      .map((pageNumber, index) => {
        const pageHi = Math.floor(pageNumber / 2 ** 20) | 0;
        return `th === ${pageHi} && (tl >>> 12) === ${pageNumber % 2 ** 20} ? ${REGION_TABLE_NAME}[${index * SLOTS_PER_PAGE} + ((tl & 0xfff) >>> 1)] : `;
      })
      .join("");
    return `b = ${lookup}-1; if (b < 0) { pl = tl; ph = th; } ${counts(done, doneLoads, doneStores)}`;
  };
  /** Leaves the region with the pc at (lo, hi), raising `flags` for the runner. */
  const leave = (done: number, lo: number, hi: number, doneLoads: number, doneStores: number, flags = 0): string =>
    !region.loops
      ? returnTo(done, String(lo), String(hi), doneLoads, doneStores, flags)
      : `pl = ${lo}; ph = ${hi};${flags === 0 ? "" : ` s[3] |= ${flags};`} b = -1; ${counts(done, doneLoads, doneStores)}`;
  /**
   * An instruction that calls out (a system call, a CSR) and then returns: the region's
   * counts, this instruction's included, are settled before the call (the `finally` then
   * adds nothing), and `ran` keeps the total to return.
   */
  const settle = (done: number, doneLoads: number, doneStores: number) =>
    `${tally(done, doneLoads, doneStores)} h.instructions += n; s[1] += nl; s[2] += ns; const ran = n; n = 0; nl = 0; ns = 0;`;
  const position = (value: number) => `s[0] = ${(blockIndex << POSITION_BLOCK_SHIFT) | value};`;

  for (let k = 0; k < count; k++) {
    const { pcLo, pcHi, raw, packed, imm } = instructions[k];
    const op = packed & 0xff;
    const immHi = imm >> 31;
    const rdField = (packed >>> Packed.RdShift) & 63;
    const rs1Field = (packed >>> Packed.Rs1Shift) & 31;
    const rs2Field = (packed >>> Packed.Rs2Shift) & 31;
    const lengthBytes = packed >>> Packed.LengthShift;
    const nextLo = (pcLo + lengthBytes) | 0;
    const nextHi = nextLo >>> 0 < lengthBytes ? (pcHi + 1) | 0 : pcHi;
    const d = rdField << 1;
    const discard = rdField === Packed.DiscardRegister;
    const a = rs1Field === 0 ? "0" : `regs[${rs1Field << 1}]`;
    const ah = rs1Field === 0 ? "0" : `regs[${(rs1Field << 1) + 1}]`;
    const b = rs2Field === 0 ? "0" : `regs[${rs2Field << 1}]`;
    const bh = rs2Field === 0 ? "0" : `regs[${(rs2Field << 1) + 1}]`;
    const loadsBefore = loads;
    const storesBefore = stores;
    // Counted before its code: its exits all come after its own load or store.
    loads += loadsOf(raw, packed);
    stores += storesOf(packed);
    const done = k + 1;
    const line = (text: string) => out.push(text);
    const setPosition = () => line(position(2 * k + 1));
    // The address rs1 + imm as (al, ah): the carry out of the low half is a u32 comparison,
    // written out here (a call would spend V8's inlining budget on every access).
    const address = () =>
      imm === 0 ? `const al = ${a}, ah = ${ah};` : `const x = ${a}, al = (x + ${imm}) | 0, ah = (${ah} + ${immHi} + (al >>> 0 < x >>> 0 ? 1 : 0)) | 0;`;
    const codeCheck = (widthBytes: number) => {
      if (observed) return;
      const lastByte = widthBytes === 1 ? "" : ` | codeFilter[((al + ${widthBytes - 1}) >>> 12) & ${(1 << CODE_FILTER_BITS) - 1}]`;
      line(`if ((codeFilter[(al >>> 12) & ${(1 << CODE_FILTER_BITS) - 1}]${lastByte}) !== 0 && codeStored(al, ah, ${widthBytes})) { ${leave(done, nextLo, nextHi, loads, stores)} }`);
    };

    line(`// ${k}: 0x${(pcLo >>> 0).toString(16)}`);
    if (fetchMode === "recorded" && k === runEnd) runEnd = recordFetchRun(line, instructions, k);
    if (observed) {
      line(position(2 * k));
      line(`{ const f = mem.fetchInstruction(${pcLo}, ${pcHi}); if (f !== ${raw | 0}) { s[4] = f; ${leave(k, pcLo, pcHi, loadsBefore, storesBefore, BlockFlag.Mismatch)} } }`);
    }
    switch (op) {
      case Op.Lui:
        if (!discard) line(`regs[${d}] = ${imm}; regs[${d + 1}] = ${immHi};`);
        break;
      case Op.Auipc:
        if (!discard) line(`regs[${d}] = ${(pcLo + imm) | 0}; regs[${d + 1}] = ${addHigh(pcLo, pcHi, imm, immHi)};`);
        break;
      case Op.Jal: {
        if (!discard) line(`regs[${d}] = ${nextLo}; regs[${d + 1}] = ${nextHi};`);
        line(exitTo(done, (pcLo + imm) | 0, addHigh(pcLo, pcHi, imm, immHi), loads, stores));
        break;
      }
      case Op.Jalr:
        line(`{ const x = ${a}, sum = (x + ${imm}) | 0, tl = sum & ~1, th = (${ah} + ${immHi} + (sum >>> 0 < x >>> 0 ? 1 : 0)) | 0;`);
        if (!discard) line(`regs[${d}] = ${nextLo}; regs[${d + 1}] = ${nextHi};`);
        line(`${exitToTarget(done, loads, stores)} }`);
        break;
      case Op.Beq:
      case Op.Bne:
      case Op.Blt:
      case Op.Bge:
      case Op.Bltu:
      case Op.Bgeu: {
        const condition =
          op === Op.Beq
            ? `${a} === ${b} && ${ah} === ${bh}`
            : op === Op.Bne
              ? `${a} !== ${b} || ${ah} !== ${bh}`
              : `${op === Op.Bge || op === Op.Bgeu ? "!" : ""}${less(op === Op.Blt || op === Op.Bge, a, ah, b, bh)}`;
        line(`if (${condition}) { ${exitTo(done, (pcLo + imm) | 0, addHigh(pcLo, pcHi, imm, immHi), loads, stores)} }`);
        line(exitTo(done, nextLo, nextHi, loads, stores));
        break;
      }
      case Op.Lb:
      case Op.Lh:
      case Op.Lw:
      case Op.Ld:
      case Op.Lbu:
      case Op.Lhu:
      case Op.Lwu: {
        setPosition();
        const width = op === Op.Lb || op === Op.Lbu ? 8 : op === Op.Lh || op === Op.Lhu ? 16 : op === Op.Ld ? 64 : 32;
        line(`{ ${address()} const v = mem.load${width}(al, ah);`);
        const target = discard ? Packed.DiscardRegister << 1 : d;
        if (op === Op.Lb) line(`regs[${target}] = (v << 24) >> 24; regs[${target + 1}] = regs[${target}] >> 31; }`);
        else if (op === Op.Lh) line(`regs[${target}] = (v << 16) >> 16; regs[${target + 1}] = regs[${target}] >> 31; }`);
        else if (op === Op.Lw) line(`regs[${target}] = v | 0; regs[${target + 1}] = (v | 0) >> 31; }`);
        else if (op === Op.Ld) line(`regs[${target}] = v; regs[${target + 1}] = mem.loadHigh; }`);
        else line(`regs[${target}] = v; regs[${target + 1}] = 0; }`);
        break;
      }
      case Op.Sb:
      case Op.Sh:
      case Op.Sw:
      case Op.Sd: {
        setPosition();
        const widthBytes = op === Op.Sb ? 1 : op === Op.Sh ? 2 : op === Op.Sw ? 4 : 8;
        const value = op === Op.Sb ? `${b} & 0xff` : op === Op.Sh ? `${b} & 0xffff` : b;
        line(`{ ${address()} mem.store${widthBytes * 8}(al, ah, ${value}${op === Op.Sd ? `, ${bh}` : ""});`);
        codeCheck(widthBytes);
        line("}");
        break;
      }
      case Op.Addi:
        if (!discard) line(`{ const x = ${a}, sum = (x + ${imm}) | 0; regs[${d + 1}] = (${ah} + ${immHi} + (sum >>> 0 < x >>> 0 ? 1 : 0)) | 0; regs[${d}] = sum; }`);
        break;
      case Op.Slti:
      case Op.Sltiu:
      case Op.Slt:
      case Op.Sltu: {
        // The immediate forms compare with the immediate where the others take rs2.
        const immediate = op === Op.Slti || op === Op.Sltiu;
        const signed = op === Op.Slti || op === Op.Slt;
        if (!discard) line(`regs[${d}] = ${less(signed, a, ah, immediate ? String(imm) : b, immediate ? String(immHi) : bh)} ? 1 : 0; regs[${d + 1}] = 0;`);
        break;
      }
      case Op.Xori:
      case Op.Ori:
      case Op.Andi:
      case Op.Xor:
      case Op.Or:
      case Op.And: {
        const immediate = op === Op.Xori || op === Op.Ori || op === Op.Andi;
        const operator = op === Op.Xori || op === Op.Xor ? "^" : op === Op.Ori || op === Op.Or ? "|" : "&";
        if (!discard) line(`regs[${d + 1}] = ${ah} ${operator} ${immediate ? immHi : bh}; regs[${d}] = ${a} ${operator} ${immediate ? imm : b};`);
        break;
      }
      case Op.Slli:
      case Op.Srli:
      case Op.Srai:
        if (!discard) line(shiftByConstant(op, d, a, ah, imm));
        break;
      case Op.Addiw:
        if (!discard) line(`regs[${d}] = (${a} + ${imm}) | 0; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Slliw:
      case Op.Srliw:
      case Op.Sraiw: {
        const operator = op === Op.Slliw ? "<<" : op === Op.Srliw ? ">>>" : ">>";
        if (!discard) line(`regs[${d}] = ${a} ${operator} ${imm}; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      }
      case Op.Add:
        if (!discard) line(`{ const x = ${a}, sum = (x + ${b}) | 0; regs[${d + 1}] = (${ah} + ${bh} + (sum >>> 0 < x >>> 0 ? 1 : 0)) | 0; regs[${d}] = sum; }`);
        break;
      case Op.Sub:
        if (!discard) line(`{ const x = ${a}, y = ${b}; regs[${d + 1}] = (${ah} - ${bh} - (x >>> 0 < y >>> 0 ? 1 : 0)) | 0; regs[${d}] = (x - y) | 0; }`);
        break;
      case Op.Sll:
      case Op.Srl:
      case Op.Sra:
        if (!discard) line(shiftByRegister(op, d, a, ah, b));
        break;
      case Op.Addw:
      case Op.Subw:
        if (!discard) line(`regs[${d}] = (${a} ${op === Op.Addw ? "+" : "-"} ${b}) | 0; regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Sllw:
      case Op.Srlw:
      case Op.Sraw: {
        const operator = op === Op.Sllw ? "<<" : op === Op.Srlw ? ">>>" : ">>";
        if (!discard) line(`regs[${d}] = ${a} ${operator} (${b} & 31); regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      }
      case Op.Mul:
        if (!discard) line(multiplyLowInline(d, a, ah, b, bh));
        break;
      case Op.Mulh:
      case Op.Mulhsu:
        if (!discard) line(`multiplyHighSigned(${a}, ${ah}, ${b}, ${bh}, ${op === Op.Mulh}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        break;
      case Op.Mulhu:
        if (!discard) line(`multiplyHighUnsigned(${a}, ${ah}, ${b}, ${bh}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        break;
      case Op.Div:
      case Op.Divu:
      case Op.Rem:
      case Op.Remu:
        if (!discard) {
          line(`divide64(${a}, ${ah}, ${b}, ${bh}, ${op === Op.Div || op === Op.Rem}, ${op === Op.Rem || op === Op.Remu}); regs[${d}] = wide.lo; regs[${d + 1}] = wide.hi;`);
        }
        break;
      case Op.Mulw:
        if (!discard) line(`regs[${d}] = Math.imul(${a}, ${b}); regs[${d + 1}] = regs[${d}] >> 31;`);
        break;
      case Op.Divw:
      case Op.Divuw:
      case Op.Remw:
      case Op.Remuw:
        if (!discard) line(divideWord(op, d, a, b));
        break;
      case Op.Fence:
        if (imm === FENCE_I) line(leave(done, nextLo, nextHi, loads, stores, BlockFlag.FenceI));
        break;
      case Op.Ecall:
        // The handler sees the pc at the ecall and the count including it, as in the interpreter.
        line(`{ h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; ${settle(done, loads, stores)} s[0] = -1;`);
        line(callOut(`if (h.systemCall()) s[3] |= ${BlockFlag.Stop};`));
        line(`h.pcLo = ${nextLo}; h.pcHi = ${nextHi}; return ran; }`);
        break;
      case Op.Ebreak:
        setPosition();
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; throw ebreak(h);`);
        break;
      case Op.Csrrw:
      case Op.Csrrs:
      case Op.Csrrc:
      case Op.Csrrwi:
      case Op.Csrrsi:
      case Op.Csrrci:
        // cycle and instret read the count: it includes this instruction, as in the interpreter.
        line(`{ h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; ${settle(done, loads, stores)} s[0] = -1;`);
        line(callOut(`h.executeCsr(${op}, ${rdField}, ${rs1Field}, ${imm});`));
        line(`h.pcLo = ${nextLo}; h.pcHi = ${nextHi}; return ran; }`);
        break;
      case Op.LrW:
      case Op.LrD:
        setPosition();
        line(callOut(`h.loadReserved(${op === Op.LrD}, ${d}, ${rs1Field << 1});`));
        break;
      case Op.ScW:
      case Op.ScD:
        setPosition();
        line(`{ const al = ${a}, ah = ${ah}; ${callOut(`h.storeConditional(${op === Op.ScD}, ${d}, ${rs1Field << 1}, ${rs2Field << 1});`)}`);
        codeCheck(op === Op.ScD ? 8 : 4);
        line("}");
        break;
      case Op.AmoW:
      case Op.AmoD:
        setPosition();
        line(`{ const al = ${a}, ah = ${ah}; ${callOut(`h.${op === Op.AmoW ? "atomicWord" : "atomicDouble"}(${d}, ${rs1Field << 1}, ${rs2Field << 1}, ${imm});`)}`);
        codeCheck(op === Op.AmoD ? 8 : 4);
        line("}");
        break;
      case Op.Illegal:
        setPosition();
        line(`h.pcLo = ${pcLo}; h.pcHi = ${pcHi}; h.illegalInstruction(${raw | 0}, ${lengthBytes});`);
        break;
      default: {
        // F and D: the float unit, as the interpreter calls it (pc set for its errors).
        setPosition();
        line(`{ ${address()} h.pcLo = ${pcLo}; h.pcHi = ${pcHi};`);
        line(callOut(`if (!executeFloat(h, ${packed}, ${imm}, al, ah)) h.illegalInstruction(${raw | 0}, ${lengthBytes});`));
        if (op === Op.Fsw || op === Op.Fsd) codeCheck(op === Op.Fsd ? 8 : 4);
        line("}");
      }
    }
  }
  const last = instructions[count - 1];
  if (!endsBlock(last.packed, last.imm)) {
    // Cut at the page's end or the length limit: on to the next instruction.
    const lengthBytes = last.packed >>> Packed.LengthShift;
    const nextLo = (last.pcLo + lengthBytes) | 0;
    const nextHi = nextLo >>> 0 < lengthBytes ? (last.pcHi + 1) | 0 : last.pcHi;
    out.push(exitTo(count, nextLo, nextHi, loads, stores));
  }
}

/** Whether an instruction only reads and writes registers: it cannot touch memory, throw or call out. */
function registersOnly(op: Op): boolean {
  return (op >= Op.Lui && op <= Op.Bgeu) || (op >= Op.Addi && op <= Op.Remuw);
}

/**
 * Recorded mode: writes the fetches of instructions `first` on as one run, the records
 * TraceRecorder.fetchInstruction would write each just before its instruction. A run
 * reaches up to and including the first instruction that is not registers-only, whose fetch
 * must precede its own loads and stores (and any fault): the trace keeps the interpreter's
 * order. Returns the index after the run.
 */
function recordFetchRun(line: (text: string) => void, instructions: readonly PlannedInstruction[], first: number): number {
  let end = first;
  let wideMask = 0;
  while (end < instructions.length && end - first < FETCH_RUN_MAX) {
    const { raw, packed } = instructions[end];
    if (parcelsOf(raw) === 2) wideMask |= 1 << (end - first);
    end++;
    if (!registersOnly(packed & 0xff)) break;
  }
  line(`trace.fetchRun(${instructions[first].pcLo}, ${instructions[first].pcHi}, ${end - first}, ${wideMask});`);
  return end;
}
